"""Which user an id stands for: a user id, a device id, an Amplitude id or an email.

The rule, one place for both faces (the Lookup screen and `idconsole lookup`):

1. Ask User Mapping about the id as a user id. If it has mappings, it is that user (`by` "user").
2. Only when that says nothing, ask User search (360 queries an hour, shared with User activity; the
   client caches each answer, so asking again costs nothing). Search answers with the users the id
   belongs to:
   - a match whose user id is the id itself: that user (`by` "user");
   - one other user: that user — `by` "amplitude" when search matched an Amplitude id, "search" when
     the id looks like an email (a project's search matches an email property), else "device";
   - only matches without a user id: an anonymous user (known, but it has no user id, so no mappings);
   - several users: ambiguous, the matches are given to choose from;
   - nothing: unknown.

`by` forces one method: "user" asks User Mapping only (an id without mappings is taken as the user id it
is; nothing is spent on search), "device", "amplitude" and "search" ask User search only.

What it costs is the caller's choice, not the rule's: `search_ahead` is a User search of the same id
already sent together with the mapping lookup (`identity.lookup` does that for a single id while the
search budget is comfortable: one round trip instead of two whenever the id has no mappings, which is
most ids). It is used exactly where step 2 would have asked, so the answer is the same either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from idconsole.api.errors import BadInput
from idconsole.api.models import SearchMatch, SearchResult, UserMappings
from idconsole.identity.ids import query_kind

#: how an id was resolved (and the methods `by=` can force)
BY_USER, BY_DEVICE, BY_AMPLITUDE, BY_SEARCH = "user", "device", "amplitude", "search"
METHODS = (BY_USER, BY_DEVICE, BY_AMPLITUDE, BY_SEARCH)

#: outcomes
RESOLVED = "resolved"    # one user: user_id is set
ANONYMOUS = "anonymous"  # known to Amplitude, but without a user id (amplitude_id is set)
AMBIGUOUS = "ambiguous"  # several users match: `matches`
UNKNOWN = "unknown"      # no mappings and no search match

#: what User search's `type` says, in words (for the faces' messages)
SEARCH_KIND_WORDS = {
    "match_user_or_device_id": "a user or device id",
    "match_amplitude_id": "an Amplitude id",
    "email": "an email",
}


class AmplitudeLookups(Protocol):
    """The two reads a resolution needs (`idconsole.api.amplitude.AmplitudeApi` has them)."""

    async def get_mappings(self, user_ids: Iterable[str]) -> dict[str, UserMappings]: ...

    async def search(self, query: str, *, use_cache: bool = True) -> SearchResult: ...


@dataclass(frozen=True)
class Resolution:
    """What `query` stands for. `mappings` are the resolved user's own (None unless RESOLVED)."""

    query: str
    outcome: str
    user_id: str | None = None
    amplitude_id: int | None = None
    by: str | None = None
    #: AMBIGUOUS: the users to choose from
    matches: tuple[SearchMatch, ...] = ()
    #: the User search answer, when one was asked (its `cached` says whether it cost anything)
    search: SearchResult | None = None
    mappings: UserMappings | None = None

    @property
    def known(self) -> bool:
        """Amplitude knows the id (a user, an anonymous user, or several users)."""
        return self.outcome != UNKNOWN

    def to_json(self, amplitude_id: int | None = None) -> dict[str, Any] | None:
        """`{"user_id", "amplitude_id", "by"}`, or None when no single user or device was found."""
        if self.outcome not in (RESOLVED, ANONYMOUS):
            return None
        amp = amplitude_id if amplitude_id is not None else self.amplitude_id
        return {"user_id": self.user_id, "amplitude_id": amp, "by": self.by}


def check_query(query: str) -> None:
    """The one refusal every face shares: an empty id cannot be looked up."""
    if not isinstance(query, str) or query == "" or query.isspace():
        raise BadInput("An empty id cannot be looked up.")


async def mappings_of(
    amplitude: AmplitudeLookups, user_id: str, learned: MutableMapping[str, UserMappings]
) -> UserMappings:
    """`user_id`'s mappings, from `learned` when known already, else asked (and kept in `learned`)."""
    if user_id not in learned:
        answer = await amplitude.get_mappings([user_id])
        learned.update(answer)
        learned.setdefault(user_id, UserMappings(user_id))
    return learned[user_id]


async def resolve(
    amplitude: AmplitudeLookups,
    query: str,
    *,
    by: str | None = None,
    learned: MutableMapping[str, UserMappings] | None = None,
    search_ahead: Awaitable[SearchResult] | None = None,
    found_user: Callable[[Resolution], None] | None = None,
) -> Resolution:
    """Resolve `query` (see the module docstring). `learned` is a cache of get-mappings answers the
    caller may share between lookups; every answer asked here is added to it. `search_ahead`: the
    answer of a User search of `query` already under way, awaited only if step 2 needs it.
    `found_user` is told the user search found (`mappings` None) before its mappings are asked."""
    check_query(query)
    if by is not None and by not in METHODS:
        raise BadInput(f"Unknown lookup method {by!r}.", hint=f"Use one of: {', '.join(METHODS)}.")
    learned = {} if learned is None else learned
    if by in (None, BY_USER):
        mappings = await mappings_of(amplitude, query, learned)
        if by == BY_USER or mappings.mapped_to or mappings.mapped_from:
            return Resolution(query, RESOLVED, user_id=query, by=BY_USER, mappings=mappings)
    result = await (search_ahead if search_ahead is not None else amplitude.search(query))
    return await _from_search(amplitude, query, result, learned, found_user)


async def _from_search(
    amplitude: AmplitudeLookups, query: str, result: SearchResult, learned: MutableMapping[str, UserMappings],
    found_user: Callable[[Resolution], None] | None = None,
) -> Resolution:
    matches = result.matches
    exact = [m for m in matches if m.user_id == query]
    if exact:
        mappings = await mappings_of(amplitude, query, learned)
        return Resolution(query, RESOLVED, user_id=query, amplitude_id=exact[0].amplitude_id, by=BY_USER,
                          search=result, mappings=mappings)
    if not matches:
        return Resolution(query, UNKNOWN, search=result)
    by = search_method(query, result)
    named = [m for m in matches if m.user_id]
    if not named:
        return Resolution(query, ANONYMOUS, amplitude_id=matches[0].amplitude_id, by=by, search=result)
    if len(named) > 1:
        return Resolution(query, AMBIGUOUS, by=by, matches=tuple(named), search=result)
    match = named[0]
    user_id = match.user_id or ""
    found = Resolution(query, RESOLVED, user_id=user_id, amplitude_id=match.amplitude_id, by=by, search=result)
    if found_user is not None and user_id not in learned:
        found_user(found)
    mappings = await mappings_of(amplitude, user_id, learned)
    return replace(found, mappings=mappings)


def search_method(query: str, result: SearchResult) -> str:
    """How User search found a user other than `query` itself: by its Amplitude id, by an email
    (the id looks like one), or else by a device id (search matches user and device ids only)."""
    if result.type == "match_amplitude_id":
        return BY_AMPLITUDE
    if result.type == "email" or query_kind(query) == "email":
        return BY_SEARCH
    return BY_DEVICE

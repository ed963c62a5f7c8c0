"""One whole lookup, as both faces show it: resolve the id, then follow the chain upward from its user.

`look_up(amplitude, query)` is what the Lookup screen's Enter and `idconsole lookup ID` both run, so the
two give the same answer for the same id. `Lookup.to_json()` is the per-id document of
`idconsole lookup --json` (DESIGN.md): the API's `mapped_to` / `mapped_from` (of the resolved user) plus
`resolved`, `chain` (user ids followed upward, the resolved user first) and `cycle`.

Round trips (what a support engineer feels at 200-500 ms a request): every hop of the chain depends on
the one before, so a chain of N ids takes N sequential requests; nothing else is added to that path.

- `search_ahead=True` sends the User search together with the first mapping lookup instead of after
  it (`search_ahead_allowed` says when: one id, the search budget at least half full). The answer is
  the same; an id without mappings (most ids) then resolves in one round trip instead of two, and a
  global id's own Amplitude id comes from that search instead of from one more request.
- `progress` is told each partial answer (`complete` False) as soon as it is known — after the first
  round trip, then after every hop — so a face draws the tree while the chain is still being followed
  (a user found by search comes first without mappings: `mappings` and `chain` None).
- `look_up_many` runs several lookups side by side; their get-mappings requests made in the same
  round go out as one batch (`batching.BatchedMappings`), so N ids cost the rounds of the longest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idconsole.api.models import MappedUser, SearchResult, UserMappings
from idconsole.identity.batching import BatchedMappings
from idconsole.identity.graph import Chain, amplitude_id_from, follow_chain
from idconsole.identity.resolve import AMBIGUOUS, RESOLVED, AmplitudeLookups, Resolution, resolve

#: a search is sent ahead of the mappings' answer only while at least this share of its budget is left
SEARCH_AHEAD_MIN_SHARE = 0.5


@dataclass(frozen=True)
class Lookup:
    """A resolution and, when it found one user, that user's mappings and chain."""

    resolution: Resolution
    mappings: UserMappings | None = None
    chain: Chain | None = None
    #: every get-mappings answer learned on the way (chain steps included: the tree shows them)
    learned: Mapping[str, UserMappings] = field(default_factory=dict)
    #: the user's Amplitude id, from search or from the other side of an edge (None: not known)
    amplitude_id: int | None = None
    #: False for a partial answer told to `progress` (the chain, or the Amplitude id, still coming)
    complete: bool = True
    #: a User search was asked (the resolution's own, or one sent ahead and not needed)
    searched: bool = False

    @property
    def query(self) -> str:
        return self.resolution.query

    @property
    def user_id(self) -> str | None:
        return self.resolution.user_id if self.resolution.outcome == RESOLVED else None

    @property
    def chain_ids(self) -> tuple[str, ...]:
        """The user ids followed upward, the resolved user first; () when no user was found."""
        return self.chain.ids if self.chain is not None else ()

    @property
    def cycle(self) -> bool:
        return self.chain is not None and self.chain.cycle_to is not None

    def to_json(self) -> dict[str, Any]:
        mappings = self.mappings or UserMappings(self.query)
        document: dict[str, Any] = {
            **mappings.to_json(),
            "resolved": self.resolution.to_json(self.amplitude_id),
            "chain": list(self.chain_ids),
            "cycle": self.cycle,
        }
        if self.resolution.outcome == AMBIGUOUS:
            document["matches"] = [MappedUser(m.user_id or "", m.amplitude_id).to_json()
                                   for m in self.resolution.matches]
        return document


Progress = Callable[[Lookup], None]


def search_ahead_allowed(by: str | None, budget: tuple[int, int] | None, ids: int = 1) -> bool:
    """Whether to send the User search together with the mapping lookup: one id looked up without a
    forced method, and at least half the hourly search budget left ((remaining, limit); None: unknown).
    Several ids at once (a script) keep the frugal order: mappings first, search only where they say
    nothing."""
    if by is not None or ids != 1 or budget is None:
        return False
    remaining, limit = budget
    return limit > 0 and remaining >= limit * SEARCH_AHEAD_MIN_SHARE


def search_budget_of(budgets: Callable[[], Iterable[Any]]) -> tuple[int, int] | None:
    """(remaining, limit) of the User search budget from a client's `budgets()` (statuses with
    `family`, `remaining`, `limit`), or None when it cannot say (never raises: it is a courtesy)."""
    try:
        return next(((b.remaining, b.limit) for b in budgets() if b.family == "usersearch"), None)
    except Exception:
        return None


def _exact_amplitude_id(task: asyncio.Future[SearchResult] | None, user_id: str) -> int | None:
    """The Amplitude id a finished search ahead gives `user_id` itself (None: not finished, failed, no match)."""
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    for match in task.result().matches:
        if match.user_id == user_id and match.amplitude_id is not None:
            return match.amplitude_id
    return None


def _quiet(task: asyncio.Future[Any]) -> None:
    """A search ahead nobody awaits: its failure is not news (the mappings answered)."""
    if not task.cancelled():
        task.exception()


async def look_up(
    amplitude: AmplitudeLookups,
    query: str,
    *,
    by: str | None = None,
    learned: MutableMapping[str, UserMappings] | None = None,
    search_ahead: bool = False,
    progress: Progress | None = None,
) -> Lookup:
    """Resolve `query`, then follow its user's chain upward (one request per hop, cycles stop it).
    `learned` is an optional cache of get-mappings answers shared between lookups; answers learned
    here are added to it. See the module docstring for `search_ahead` and `progress`."""
    cache: MutableMapping[str, UserMappings] = {} if learned is None else learned
    ahead: asyncio.Future[SearchResult] | None = None
    if search_ahead and by is None:
        ahead = asyncio.ensure_future(amplitude.search(query))
    started = time.perf_counter()
    try:
        resolution = await resolve(amplitude, query, by=by, learned=cache, search_ahead=ahead,
                                   found_user=None if progress is None else lambda res: progress(
                                       Lookup(res, amplitude_id=res.amplitude_id, complete=False, searched=True)))
        first_round = time.perf_counter() - started
        searched = resolution.search is not None or ahead is not None
        if resolution.outcome != RESOLVED or resolution.user_id is None:
            return Lookup(resolution, searched=searched)
        user_id = resolution.user_id
        mappings = resolution.mappings or UserMappings(user_id)
        known_id = resolution.amplitude_id

        def report(chain: Chain, seen: Mapping[str, UserMappings]) -> None:
            if progress is not None:
                amp = known_id if known_id is not None else amplitude_id_from(user_id, seen)
                progress(Lookup(resolution, mappings, chain, dict(seen), amp, complete=False, searched=searched))

        chain, seen = await follow_chain(user_id, amplitude.get_mappings, known={**cache, user_id: mappings},
                                         on_hop=report)
        cache.update(seen)
        amplitude_id = known_id if known_id is not None else amplitude_id_from(user_id, seen)
        if amplitude_id is None:
            amplitude_id = _exact_amplitude_id(ahead, user_id)
        if amplitude_id is None and mappings.mapped_from:
            # a global id's own Amplitude id is only on the other side of an edge (or in the search
            # sent ahead, due about now: give it as long as the first round took before asking a child)
            report(chain, seen)
            if ahead is not None and not ahead.done():
                await asyncio.wait({ahead}, timeout=first_round)
                amplitude_id = _exact_amplitude_id(ahead, user_id)
            if amplitude_id is None:
                child = mappings.mapped_from[0].user_id
                answer = await amplitude.get_mappings([child])
                seen.update(answer)
                cache.update(answer)
                amplitude_id = amplitude_id_from(user_id, seen)
        return Lookup(resolution, mappings, chain, seen, amplitude_id, searched=searched)
    except BaseException:
        if ahead is not None and not ahead.done():
            ahead.cancel()
        raise
    finally:
        if ahead is not None:
            ahead.add_done_callback(_quiet)


async def look_up_many(
    amplitude: AmplitudeLookups,
    queries: Sequence[str],
    *,
    by: str | None = None,
    search_ahead: bool = False,
) -> dict[str, Lookup]:
    """Each query's lookup (duplicates once, in order), run side by side: the get-mappings requests of
    one round go out together (ids batched, <= 100 per request), every answer is shared, so a chain
    step another id already showed is not asked again."""
    batched = BatchedMappings(amplitude)
    unique = list(dict.fromkeys(queries))
    found = await asyncio.gather(*(
        look_up(batched, q, by=by, learned=batched.learned, search_ahead=search_ahead) for q in unique
    ))
    return dict(zip(unique, found, strict=True))

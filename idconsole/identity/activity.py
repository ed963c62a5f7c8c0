"""Fetch the events of the ids of a user's identity tree, within the hourly budget: say the cost first,
then fetch, cancellable at any moment. Textual-free; the console's timeline and `idconsole activity` use it.

    targets = targets_of(lookup, all_ids=True)            # the user, its chain, what is mapped into it
    cost = estimate(client, targets, max_events=1000)      # before anything is spent: cost.sentence()
    result = await fetch_activity(client, targets, max_events=1000, should_stop=worker_is_cancelled)
    timeline = build_timeline(result.streams, labels=result.labels)

- User activity is asked by Amplitude id. A lookup knows most of them (search, the other side of an
  edge); a target without one costs a User search first (cached by the client: free the second time).
- Every page (at most 1000 events) and every search spends one unit of the 360/hour budget user search and
  user activity share; the Dashboard REST cap (5 in flight for every `amplitude.com/api/2/*` call) is the
  client's. `estimate` counts the worst case: `pages_per_id` for every id plus the searches.
- `within_budget=True` fetches targets in order (the user, its chain, then what maps into it) only while
  the budget has room for them, and marks the rest `skipped`; otherwise the caller refuses an estimate
  that does not fit (the CLI: exit 2) before calling.
- `should_stop()` is asked before every target and after every page: a cancelled fetch keeps what arrived
  (a partly read stream is `truncated`). Cancelling the awaiting task works too (nothing is kept then).
- Every stream read is added to the client's `DeviceSightings`, so a later plan can tell a shared device
  without spending anything. Events stay in memory: nothing here writes them anywhere.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from idconsole.api.activity_models import ActivityEvent, ActivityPage, ActivityUser, UserActivity
from idconsole.api.errors import AuthError, IdConsoleError, NoSuchEndpoint
from idconsole.changes.shared_devices import sightings_for
from idconsole.identity.graph import CHAIN, FROM, ROOT, amplitude_id_from
from idconsole.identity.lookup import Lookup
from idconsole.identity.resolve import ANONYMOUS, RESOLVED

MAX_PAGE = 1000
DEFAULT_MAX_EVENTS = 1000
#: streams read at once (the client's Dashboard REST gate caps every /api/2/* call at 5 anyway)
CONCURRENCY = 4
ANON = "anonymous"  # a target that is an anonymous user (a device without a user id)
BUDGET_FAMILY = "usersearch"


@dataclass(frozen=True)
class ActivityTarget:
    """One id of the tree whose stream can be read."""

    user_id: str | None
    amplitude_id: int | None
    role: str = ROOT

    @property
    def label(self) -> str:
        return self.user_id if self.user_id is not None else f"amplitude id {self.amplitude_id}"


def targets_of(lookup: Lookup, *, all_ids: bool = False) -> list[ActivityTarget]:
    """The looked-up user (or anonymous user); with `all_ids`, also its chain upward and every id mapped
    into it, each once. Empty for an unknown or ambiguous id."""
    resolution = lookup.resolution
    if resolution.outcome == ANONYMOUS:
        return [ActivityTarget(None, resolution.amplitude_id, ANON)]
    if resolution.outcome != RESOLVED or lookup.user_id is None:
        return []
    root = ActivityTarget(lookup.user_id, lookup.amplitude_id, ROOT)
    if not all_ids:
        return [root]
    out = [root]
    seen = {root.user_id}
    learned = dict(lookup.learned)

    def add(user_id: str, amplitude_id: int | None, role: str) -> None:
        if user_id in seen:
            return
        seen.add(user_id)
        if amplitude_id is None:
            amplitude_id = amplitude_id_from(user_id, learned)
        out.append(ActivityTarget(user_id, amplitude_id, role))

    for step in lookup.chain.steps if lookup.chain is not None else ():
        add(step.user_id, step.amplitude_id, CHAIN)
    for source in (lookup.mappings.mapped_from if lookup.mappings is not None else ()):
        add(source.user_id, source.amplitude_id, FROM)
    return out


# --- the cost -----------------------------------------------------------------------------------------


def pages_per_id(max_events: int) -> int:
    return max(1, math.ceil(max_events / MAX_PAGE))


@dataclass(frozen=True)
class Cost:
    """What fetching the targets may spend of the user search / activity budget, before it is spent."""

    ids: int
    pages_per_id: int
    #: User searches for targets whose Amplitude id is not known yet
    searches: int
    #: the budget now: units left, its limit and window (None: this profile has no such budget)
    remaining: int | None
    limit: int | None
    window_s: float | None

    @property
    def requests(self) -> int:
        """The worst case: every id's pages (a stream may end sooner) plus the searches."""
        return self.ids * self.pages_per_id + self.searches

    @property
    def fits(self) -> bool:
        return self.remaining is None or self.requests <= self.remaining

    def sentence(self) -> str:
        ids = "1 id" if self.ids == 1 else f"{self.ids} ids"
        searches = f" (including {self.searches} user search{'es' if self.searches != 1 else ''} for Amplitude ids)" \
            if self.searches else ""
        text = f"Fetching the activity of {ids} costs up to {self.requests} request{'s' if self.requests != 1 else ''}{searches}"
        if self.limit is None:
            return text + "."
        window = "hour" if self.window_s == 3600 else f"{self.window_s:g} s"
        return (f"{text} of the user search and activity budget ({self.limit} per {window}, "
                f"{self.remaining} left).")

    def to_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "requests": self.requests, "pages_per_id": self.pages_per_id,
                "searches": self.searches, "remaining": self.remaining, "limit": self.limit}


def estimate(client: Any, targets: Sequence[ActivityTarget], *, max_events: int = DEFAULT_MAX_EVENTS) -> Cost:
    budget = client.find_budget(BUDGET_FAMILY)
    searches = sum(1 for t in targets if t.amplitude_id is None and t.user_id is not None)
    return Cost(len(targets), pages_per_id(max_events), searches,
                budget.remaining() if budget is not None else None,
                budget.limit if budget is not None else None,
                budget.window_s if budget is not None else None)


# --- the fetch ----------------------------------------------------------------------------------------

FETCHED, FAILED, SKIPPED, CANCELLED = "fetched", "failed", "skipped", "cancelled"


@dataclass(frozen=True)
class IdActivity:
    """One target's outcome: its stream, or why there is none (`note`: one sentence, our words)."""

    target: ActivityTarget
    state: str
    activity: UserActivity | None = None
    note: str = ""
    requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.target.user_id, "amplitude_id": self.target.amplitude_id,
                "role": self.target.role, "state": self.state, "note": self.note, "requests": self.requests}


@dataclass
class ActivityResult:
    items: list[IdActivity] = field(default_factory=list)
    cancelled: bool = False

    @property
    def fetched(self) -> list[IdActivity]:
        return [i for i in self.items if i.activity is not None]

    @property
    def streams(self) -> list[UserActivity]:
        return [i.activity for i in self.items if i.activity is not None]

    @property
    def labels(self) -> list[str]:
        return [i.target.label for i in self.items if i.activity is not None]

    @property
    def requests(self) -> int:
        return sum(i.requests for i in self.items)

    @property
    def missing(self) -> list[IdActivity]:
        return [i for i in self.items if i.activity is None]


class _Stopped(Exception):
    """Raised from a page callback to stop paging (the pages read so far are kept)."""


async def fetch_activity(
    client: Any,
    targets: Sequence[ActivityTarget],
    *,
    max_events: int = DEFAULT_MAX_EVENTS,
    within_budget: bool = False,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[IdActivity], None] | None = None,
) -> ActivityResult:
    """Read each target's stream (newest first, at most `max_events`), a few at once, results in the
    targets' order. AuthError and NoSuchEndpoint end the whole fetch (nothing else would work); any other
    failure is that target's `failed` note."""
    stop = should_stop or (lambda: False)
    budget = client.find_budget(BUDGET_FAMILY)
    sightings = sightings_for(client)
    gate = asyncio.Semaphore(CONCURRENCY)
    lock = asyncio.Lock()   # claims budget room in target order (within_budget)
    # what is left when the fetch starts; each target claims its worst case from it (the budget's own
    # remaining() moves as requests are booked, which would count them twice)
    left = [budget.remaining() if budget is not None else 0]
    pages = pages_per_id(max_events)

    async def room(cost: int) -> bool:
        if not within_budget or budget is None:
            return True
        async with lock:
            if left[0] < cost:
                return False
            left[0] -= cost
            return True

    async def one(target: ActivityTarget) -> IdActivity:
        async with gate:
            if stop():
                return IdActivity(target, CANCELLED, note="not fetched: cancelled")
            need = pages + (1 if target.amplitude_id is None else 0)
            if not await room(need):
                return IdActivity(target, SKIPPED, note="not fetched: the user search and activity budget has no "
                                                       "room left for it")
            item = await _read(client, target, max_events, stop)
            sightings.add_events(item.activity.events if item.activity else ())
            if item.activity is not None:
                sightings.add_user_devices(item.activity.user.user_id, item.activity.user.device_ids)
                sightings.mark_read(item.activity.user.user_id)
            if on_progress is not None:
                on_progress(item)
            return item

    items = await asyncio.gather(*(one(t) for t in targets))
    return ActivityResult(list(items), cancelled=stop())


async def _read(client: Any, target: ActivityTarget, max_events: int, stop: Callable[[], bool]) -> IdActivity:
    spent = 0
    amplitude_id = target.amplitude_id
    try:
        if amplitude_id is None:
            result = await client.amplitude.search(target.user_id or "")
            spent += 0 if result.cached else 1
            exact = [m for m in result.matches if m.user_id == target.user_id and m.amplitude_id is not None]
            if not exact:
                return IdActivity(target, FAILED, note="Amplitude has no Amplitude id for it (user search: no match)",
                                  requests=spent)
            amplitude_id = exact[0].amplitude_id
            target = replace(target, amplitude_id=amplitude_id)
        assert amplitude_id is not None
        pages: list[ActivityPage] = []

        def heard(page: ActivityPage) -> None:
            pages.append(page)
            if stop():
                raise _Stopped

        try:
            activity = await client.amplitude_activity.stream(amplitude_id, max_events=max_events, on_page=heard)
        except _Stopped:
            activity = _partial(amplitude_id, pages)
        spent += len(pages)
        note = "" if not activity.truncated else f"truncated: the newest {len(activity.events)} events were read"
        return IdActivity(target, FETCHED, activity, note, spent)
    except (AuthError, NoSuchEndpoint):
        raise
    except IdConsoleError as exc:
        return IdActivity(target, FAILED, note=f"not fetched: {exc.message.rstrip('.')}", requests=spent)


def _partial(amplitude_id: int, pages: list[ActivityPage]) -> UserActivity:
    """What a stopped stream read had: its pages so far, marked truncated."""
    events: list[ActivityEvent] = []
    for page in pages:
        events.extend(page.events)
    user = pages[0].user if pages else ActivityUser(None, amplitude_id)
    return UserActivity(amplitude_id, user, tuple(events), True, len(pages))

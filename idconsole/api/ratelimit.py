"""Rate budgets shared by every caller in the process.

A budget is a rolling window (limit units per window seconds). A caller books its units *now*
(synchronously, so concurrent callers are served in call order without a lock that would tie the
budget to one event loop), sleeps until its slot, and holds the booking while its request is in flight.
Waiting here is cheaper than being throttled: a 429 from the usermap endpoint blocks every request until
the window drains.

The server stamps a request somewhere between our send and its answer, so an in-flight booking counts as
"now" and a finished one as the moment its answer came back; a caller that wakes re-checks its slot
against those times before sending. That keeps the client under the server's window even when latency
is uneven.

Most calls find plenty of room: the budget keeps a running total of the units it holds and the latest
booked slot, so such a call is decided in O(1) (amortised: finished bookings are pruned from the left).
The total counts every booking held, which is at least what any window holds, so this fast path only
ever admits what the precise path (sort the bookings, scan the candidate slots) would admit at the same
moment; the precise path decides whenever the fast one cannot.

After a 429 the budget also holds everyone back (`throttled()`), doubling the hold on each strike
until a call succeeds again (adaptive backoff, used by the Mixpanel family).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from idconsole.api.errors import Throttled

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: family -> (limit, window seconds). API.md: usermap counts mappings, the others requests.
DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    "usermap": (1500, 30.0),
    # user search and user activity share it (API.md)
    "usersearch": (360, 3600.0),
    "profile": (600, 60.0),
    # Mixpanel documents no request rate for ingestion; this only bounds a runaway loop.
    "mixpanel": (600, 60.0),
    # Mixpanel's Query API (engage reads, stream query): its own family, 60 queries per hour
    "mpquery": (60, 3600.0),
}
#: first hold and cap after a 429 without Retry-After, per family (Mixpanel: 2 s -> 60 s)
THROTTLE_HOLDS: dict[str, tuple[float, float]] = {
    "usermap": (1.0, 30.0),
    "usersearch": (2.0, 60.0),
    "profile": (1.0, 60.0),
    "mixpanel": (2.0, 60.0),
    "mpquery": (2.0, 60.0),
}


class Booking:
    """Units booked in a budget: `t` is the slot, then the time the answer came back once `open` is False."""

    __slots__ = ("cost", "open", "t")

    def __init__(self, t: float, cost: int, *, open: bool = True) -> None:
        self.t = t
        self.cost = cost
        self.open = open

    def __repr__(self) -> str:
        return f"Booking(t={self.t:.3f}, cost={self.cost}, open={self.open})"


class RollingBudget:
    """`limit` units per rolling `window_s`. Costs above the limit wait for an empty window."""

    def __init__(
        self,
        family: str,
        limit: int,
        window_s: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        slack_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if limit <= 0 or window_s <= 0:
            raise ValueError(f"budget {family}: limit and window must be positive")
        self.family = family
        self.limit = int(limit)
        self.window_s = float(window_s)
        # a small margin on top of the window for clock granularity and the server's own rounding
        self.slack_s = (0.02 + 0.01 * self.window_s) if slack_s is None else slack_s
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        #: in booking order; closed bookings leave from the left once out of the window
        self._bookings: deque[Booking] = deque()
        #: total cost of `_bookings` (an upper bound on what any window holds)
        self._units = 0
        #: the latest `t` of any booking held (`t` only moves later; recomputed when a booking is withdrawn)
        self._last_t = float("-inf")
        self._not_before = 0.0
        self._strikes = 0
        self.throttle_first, self.throttle_cap = THROTTLE_HOLDS.get(family, (1.0, 60.0))
        #: how often callers had to wait, and for how long in total (pacing shows in the status bar)
        self.paced = 0
        self.waited_s = 0.0

    def __repr__(self) -> str:
        return f"RollingBudget({self.family!r}, {self.limit}/{self.window_s:g}s, remaining={self.remaining()})"

    @property
    def _span(self) -> float:
        return self.window_s + self.slack_s

    def _when(self, b: Booking, now: float) -> float:
        """When the server may have counted `b`, as far as we know now."""
        return max(b.t, now) if b.open and b.t <= now else b.t

    def _prune(self, now: float) -> None:
        """Drop closed bookings that left the window, from the left (amortised O(1) per booking; a booking
        still in flight stops it there, so the total may over-count, never under-count)."""
        bookings, horizon = self._bookings, now - self._span
        while bookings and not bookings[0].open and bookings[0].t <= horizon:
            self._units -= bookings.popleft().cost

    def _prune_all(self, now: float) -> None:
        """Drop every closed booking that left the window (the precise path: O(n) anyway)."""
        horizon = now - self._span
        self._bookings = deque(b for b in self._bookings if b.open or b.t > horizon)
        self._units = sum(b.cost for b in self._bookings)

    def _moved(self, booking: Booking, t: float) -> None:
        booking.t = t
        if t > self._last_t:
            self._last_t = t

    def _withdraw(self, booking: Booking) -> None:
        self._bookings.remove(booking)
        self._units -= booking.cost
        self._last_t = max((b.t for b in self._bookings), default=float("-inf"))

    # -- decisions (pure, synchronous: tests assert on these) --------------------------------------

    def _earliest(self, cost: int, start: float, others: list[Booking], now: float) -> float:
        """The earliest t >= start at which `cost` fits beside `others` (those counted by t)."""
        need = min(max(int(cost), 0), self.limit)
        span = self._span
        times = sorted((self._when(b, now), b.cost) for b in others)
        for candidate in [start] + [t + span for t, _ in times if t + span > start]:
            used = sum(c for t, c in times if candidate - span < t <= candidate)
            if used + need <= self.limit:
                return candidate
        return max([start] + [t + span for t, _ in times])   # everything gone: the window is empty

    def plan(self, cost: int = 1) -> float:
        """The earliest start (clock time) at which `cost` fits, without booking it."""
        now = self._clock()
        self._prune(now)
        # call order: never ahead of a booking made earlier (an open booking counts as now at the latest,
        # so the max of their `_when` is the max of now and their `t`)
        start = max(now, self._not_before, self._last_t)
        if self._units + min(max(int(cost), 0), self.limit) <= self.limit:
            return start   # fits beside every booking held, so it fits in the window at `start`
        self._prune_all(now)
        return self._earliest(cost, start, list(self._bookings), now)

    def book(self, cost: int = 1, *, open: bool = True) -> Booking:
        booking = Booking(self.plan(cost), max(int(cost), 0), open=open)
        self._bookings.append(booking)
        self._units += booking.cost
        if booking.t > self._last_t:
            self._last_t = booking.t
        return booking

    def reserve(self, cost: int = 1) -> float:
        """Book `cost` units at the earliest moment they fit; returns how long to wait for it."""
        return max(0.0, self.book(cost, open=False).t - self._clock())

    def remaining(self) -> int:
        """Units that could be spent right now without waiting (bookings in flight count as spent)."""
        now = self._clock()
        if now < self._not_before:
            return 0
        used = sum(b.cost for b in self._bookings if self._when(b, now) > now - self._span)
        return max(0, self.limit - used)

    def throttled(self, retry_after: float | None = None, *, scale: float = 1.0) -> float:
        """The server said 429: hold every caller back. Returns the hold in seconds.

        Without Retry-After the hold doubles per strike (2 s, 4 s ... 60 s for Mixpanel) with jitter;
        `scale` shrinks it for tests."""
        if retry_after is not None and retry_after >= 0:
            hold = retry_after
        else:
            base = min(self.throttle_cap, self.throttle_first * (2 ** self._strikes))
            hold = min(self.throttle_cap, base * self._rng.uniform(1.0, 1.25)) * scale
        self._strikes += 1
        self._not_before = max(self._not_before, self._clock() + hold)
        return hold

    def succeeded(self) -> None:
        self._strikes = 0

    # -- waiting ----------------------------------------------------------------------------------

    async def wait_for(self, cost: int = 1, *, max_wait: float | None = None) -> Booking:
        """Book `cost` units, sleep until they fit, and return the open booking: `release()` it when
        the answer is back. With `max_wait`, a longer wait is not booked: Throttled says when to come
        back instead (an interactive search should not sleep for most of an hour)."""
        if max_wait is not None:
            wait = self.plan(cost) - self._clock()
            if wait > max_wait:
                raise Throttled(
                    f"The {self.family} budget ({self.limit} per {_span(self.window_s)}) is spent; "
                    f"room again in {wait:.0f} s.",
                    retry_after=wait,
                )
        booking = self.book(cost)
        waited = 0.0
        try:
            while True:
                wait = booking.t - self._clock()
                if wait > 0:
                    waited += wait
                    await self._sleep(wait)
                elif not waited:
                    break   # never slept since book() decided the slot: nothing else ran, nothing moved
                # earlier requests may have been counted later than booked (slow answers, a 429 hold)
                now = self._clock()
                start = max(booking.t, self._not_before, now)
                if self._units - booking.cost + min(booking.cost, self.limit) <= self.limit:
                    again = start   # fits beside every other booking held
                else:
                    self._prune_all(now)
                    others = [b for b in self._bookings if b is not booking]
                    again = self._earliest(booking.cost, start, others, now)
                if again <= now:
                    break
                self._moved(booking, again)
        except BaseException:
            self._withdraw(booking)
            raise
        self._moved(booking, self._clock())
        if waited > 0:
            self.paced += 1
            self.waited_s += waited
        return booking

    def release(self, booking: Booking) -> None:
        """The answer is back: the server counted the request no later than now."""
        self._moved(booking, max(booking.t, self._clock()))
        booking.open = False

    async def acquire(self, cost: int = 1, *, max_wait: float | None = None) -> float:
        """Wait until `cost` fits in the window and count it as spent now; returns the seconds waited."""
        before = self.waited_s
        self.release(await self.wait_for(cost, max_wait=max_wait))
        return self.waited_s - before


def _span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds / 3600:g} hours"
    if seconds >= 60 and seconds % 60 == 0:
        return "minute" if seconds == 60 else f"{seconds / 60:g} minutes"
    return f"{seconds:g} s"


@dataclass(frozen=True)
class BudgetKey:
    family: str
    owner: str       # a hash of host + credential identity: never the credential itself
    limit: int
    window_s: float


_REGISTRY: dict[BudgetKey, RollingBudget] = {}


def owner_hash(*parts: str) -> str:
    """Identify a project without keeping its credential: clients on the same project share budgets."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


def shared_budget(family: str, owner: str, limit: int, window_s: float) -> RollingBudget:
    key = BudgetKey(family, owner, int(limit), float(window_s))
    budget = _REGISTRY.get(key)
    if budget is None:
        budget = _REGISTRY[key] = RollingBudget(family, limit, window_s)
    return budget


def reset_budgets() -> None:
    """Forget every shared budget and in-flight gate (tests start each case with full budgets)."""
    from idconsole.api.inflight import reset_gates

    _REGISTRY.clear()
    reset_gates()

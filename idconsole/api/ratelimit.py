"""Rate budgets shared by every caller in the process.

A budget is a rolling window (limit units per window seconds). `acquire(cost)` reserves a slot *now*
(synchronously, so concurrent callers are served in call order without a lock that would tie the
budget to one event loop) and then sleeps until that slot starts. Waiting here is cheaper than being
throttled: a 429 from the usermap endpoint blocks every request until the window drains.

After a 429 the budget also holds everyone back (`throttled()`), doubling the hold on each strike
until a call succeeds again (adaptive backoff, used by the Mixpanel family).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from idconsole.api.errors import Throttled

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: family -> (limit, window seconds). API.md: usermap counts mappings, the others requests.
DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    "usermap": (1500, 30.0),
    "usersearch": (360, 3600.0),
    "profile": (600, 60.0),
    # Mixpanel documents no request rate for ingestion; this only bounds a runaway loop.
    "mixpanel": (600, 60.0),
}
#: first hold and cap after a 429 without Retry-After, per family (Mixpanel: 2 s -> 60 s)
THROTTLE_HOLDS: dict[str, tuple[float, float]] = {
    "usermap": (1.0, 30.0),
    "usersearch": (2.0, 60.0),
    "profile": (1.0, 60.0),
    "mixpanel": (2.0, 60.0),
}


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
        # The server stamps a request when it arrives, a little after we stamp it: keep a margin so
        # our window never closes before the server's does.
        self.slack_s = (0.05 + 0.02 * self.window_s) if slack_s is None else slack_s
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._entries: list[tuple[float, int]] = []   # (start time, cost), start times non-decreasing
        self._not_before = 0.0
        self._strikes = 0
        #: how often callers had to wait, and for how long in total (pacing shows in the status bar)
        self.paced = 0
        self.waited_s = 0.0
        self.throttle_first, self.throttle_cap = THROTTLE_HOLDS.get(family, (1.0, 60.0))

    def __repr__(self) -> str:
        return f"RollingBudget({self.family!r}, {self.limit}/{self.window_s:g}s, remaining={self.remaining()})"

    # -- decisions (pure, synchronous: tests assert on these) --------------------------------------

    def plan(self, cost: int = 1) -> float:
        """The earliest start (clock time) at which `cost` units fit, without booking it."""
        now = self._clock()
        span = self.window_s + self.slack_s
        self._prune(now, span)
        need = min(max(int(cost), 0), self.limit)
        start = max(now, self._not_before, self._entries[-1][0] if self._entries else now)
        for t_i, _ in [(start - span, 0), *self._entries]:
            # candidates: `start`, or each moment an earlier booking leaves the window. Bookings are in
            # call order, so nothing is booked after `start` and the window at the candidate decides.
            candidate = max(start, t_i + span)
            used = sum(c for t, c in self._entries if t > candidate - span)
            if used + need <= self.limit:
                return candidate
        return start  # unreachable: after the last booking leaves, the window is empty

    def reserve(self, cost: int = 1) -> float:
        """Book `cost` units at the earliest moment they fit; returns how long to wait for it."""
        start = self.plan(cost)
        self._entries.append((start, max(int(cost), 0)))
        return max(0.0, start - self._clock())

    def remaining(self) -> int:
        """Units that could be spent right now without waiting (reservations in flight count as spent)."""
        now = self._clock()
        if now < self._not_before:
            return 0
        span = self.window_s + self.slack_s
        used = sum(c for t, c in self._entries if t > now - span)
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

    async def acquire(self, cost: int = 1, *, max_wait: float | None = None) -> float:
        """Wait until `cost` fits in the window; returns the seconds waited (0 when there was room).

        With `max_wait`, a longer wait is not booked: Throttled says when to come back instead
        (an interactive search should not sleep for most of an hour)."""
        if max_wait is not None:
            wait = self.plan(cost) - self._clock()
            if wait > max_wait:
                raise Throttled(
                    f"The {self.family} budget ({self.limit} per {_span(self.window_s)}) is spent; "
                    f"room again in {wait:.0f} s.",
                    retry_after=wait,
                )
        wait = self.reserve(cost)
        if wait > 0:
            self.paced += 1
            self.waited_s += wait
            await self._sleep(wait)
        return wait

    def _prune(self, now: float, span: float) -> None:
        keep = 0
        while keep < len(self._entries) and self._entries[keep][0] <= now - span:
            keep += 1
        if keep:
            del self._entries[:keep]


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
    """Forget every shared budget (tests start each case with full budgets)."""
    _REGISTRY.clear()

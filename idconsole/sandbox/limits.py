"""Server-side rolling-window rate limiters (the vendors count over a sliding window, not fixed buckets)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class RollingWindow:
    """At most `limit` units (mappings, queries, requests) in any `seconds`-long window.

    `acquire(n)` admits all `n` units or none. A batch larger than the whole limit is admitted only
    into an empty window: otherwise a legal 2000-mapping batch could never pass a 1500/30 s limit.
    """

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._entries: deque[tuple[float, int]] = deque()
        self._total = 0

    def _drain(self, now: float) -> None:
        while self._entries and self._entries[0][0] + self.seconds <= now:
            _, n = self._entries.popleft()
            self._total -= n

    def used(self) -> int:
        self._drain(self._clock())
        return self._total

    def acquire(self, n: int = 1) -> float | None:
        """Record `n` units and return None, or return the seconds to wait before they would fit."""
        now = self._clock()
        self._drain(now)
        if self._total + n <= self.limit or self._total == 0:
            if n > 0:
                self._entries.append((now, n))
                self._total += n
            return None
        # walk the oldest entries until enough of the window has drained for this batch
        need = self._total + n - self.limit if n <= self.limit else self._total
        freed = 0
        for t, count in self._entries:
            freed += count
            if freed >= need:
                return max(0.0, t + self.seconds - now)
        return self.seconds  # unreachable: the loop always frees everything

    def reset(self) -> None:
        self._entries.clear()
        self._total = 0


def retry_after_header(wait: float) -> str:
    """Whole seconds, rounded up and never 0, so a client that sleeps that long is admitted."""
    return str(max(1, math.ceil(wait)))

"""Caps on requests in flight at once, shared by every family a vendor counts together (API.md "Limits
shared across endpoints"):

- `amplitude_rest`: Amplitude's Dashboard REST API (`amplitude.com/api/2/*`: get mappings, user search,
  user activity) takes at most 5 concurrent requests per project and answers 429 beyond.
- `mixpanel_query`: Mixpanel's Query API (engage reads, stream query) takes at most 5 concurrent queries.

A gate is held around each HTTP attempt only (not while a caller waits for its rate budget or sleeps
between retries), so a slow hourly budget never blocks another family. Gates are process-wide per
project, like the budgets (`shared_gate`), and `reset_gates()` forgets them. A gate is not bound to one
event loop: a waiter whose loop has closed is skipped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

AMPLITUDE_REST = "amplitude_rest"
MIXPANEL_QUERY = "mixpanel_query"
#: family -> requests in flight at once (overridable per client: `ApiClient(concurrency={...})`)
DEFAULT_CONCURRENCY: dict[str, int] = {AMPLITUDE_REST: 5, MIXPANEL_QUERY: 5}


class InFlightGate:
    """At most `limit` holders at once, first come first served. `peak` is the most ever held."""

    def __init__(self, family: str, limit: int) -> None:
        if int(limit) < 1:
            raise ValueError(f"gate {family}: the limit must be at least 1")
        self.family = family
        self.limit = int(limit)
        self.in_flight = 0
        self.peak = 0
        #: how many acquisitions had to wait for a free slot
        self.queued = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"InFlightGate({self.family!r}, {self.in_flight}/{self.limit}, peak={self.peak})"

    def _take(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.queued += 1
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()   # granted, then cancelled before it was used: pass the slot on
            else:
                with suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if waiter.done() or waiter.get_loop().is_closed():
                continue
            self._take()
            waiter.set_result(None)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


_GATES: dict[tuple[str, str, int], InFlightGate] = {}


def shared_gate(family: str, owner: str, limit: int) -> InFlightGate:
    """The one gate of `family` for a project (`owner`: a hash of host + credential identity)."""
    key = (family, owner, int(limit))
    gate = _GATES.get(key)
    if gate is None:
        gate = _GATES[key] = InFlightGate(family, limit)
    return gate


def reset_gates() -> None:
    _GATES.clear()

"""Get-mappings requests of lookups running side by side, sent as one batch per round.

`BatchedMappings(amplitude)` stands in for the Amplitude client where a lookup needs it (it has the two
reads of `resolve.AmplitudeLookups`). Every `get_mappings` call made while a batch is being gathered —
the same turn of the event loop and the next, which is when lookups woken by the same answer ask their
next hop — joins one call of the real client (ids deduplicated; the client splits them into requests of
<= 100 ids and fans those out under the vendor's in-flight cap). An id already answered, or already on
its way, is never asked twice. `search` passes straight through (the client caches it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from idconsole.api.models import SearchResult, UserMappings
from idconsole.identity.resolve import AmplitudeLookups


class BatchedMappings:
    """`BatchedMappings(amplitude)`; `learned` holds every answer (shared by the lookups using it)."""

    def __init__(self, amplitude: AmplitudeLookups, learned: dict[str, UserMappings] | None = None) -> None:
        self._amplitude = amplitude
        self.learned: dict[str, UserMappings] = {} if learned is None else learned
        #: ids asked and not answered yet -> the answer's arrival
        self._waiting: dict[str, asyncio.Future[None]] = {}
        #: ids of the batch being gathered
        self._gathering: list[str] = []
        #: get_mappings calls of the real client so far (tests and benchmarks read it)
        self.batches = 0

    async def search(self, query: str, *, use_cache: bool = True) -> SearchResult:
        return await self._amplitude.search(query, use_cache=use_cache)

    async def get_mappings(self, user_ids: Iterable[str]) -> dict[str, UserMappings]:
        ids = list(dict.fromkeys(user_ids))
        loop = asyncio.get_running_loop()
        arrivals = []
        for user_id in ids:
            if user_id in self.learned:
                continue
            arrival = self._waiting.get(user_id)
            if arrival is None:
                arrival = self._waiting[user_id] = loop.create_future()
                if not self._gathering:
                    # two turns: a lookup woken by the same answer as this one asks in the next turn
                    loop.call_soon(loop.call_soon, self._send)
                self._gathering.append(user_id)
            arrivals.append(arrival)
        if arrivals:
            # wait, not gather: a cancelled lookup must not cancel an answer other lookups wait for
            await asyncio.wait(arrivals)
            for arrival in arrivals:
                arrival.result()  # the batch's failure is every waiter's failure
        return {u: self.learned.get(u, UserMappings(u)) for u in ids}

    def _send(self) -> None:
        batch, self._gathering = self._gathering, []
        if batch:
            self.batches += 1
            asyncio.ensure_future(self._fetch(batch))

    async def _fetch(self, batch: list[str]) -> None:
        try:
            answer = await self._amplitude.get_mappings(batch)
        except BaseException as exc:
            for user_id in batch:
                arrival = self._waiting.pop(user_id)
                if not arrival.done():
                    if isinstance(exc, asyncio.CancelledError):
                        arrival.cancel()
                    else:
                        arrival.set_exception(exc)
                        arrival.exception()  # the waiters re-raise it; nothing to log if none is left
            if not isinstance(exc, Exception):
                raise
            return
        self.learned.update(answer)
        for user_id in batch:
            self.learned.setdefault(user_id, UserMappings(user_id))
            arrival = self._waiting.pop(user_id)
            if not arrival.done():
                arrival.set_result(None)

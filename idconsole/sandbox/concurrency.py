"""Concurrent-request caps, as the vendors enforce them (API.md "Limits shared across endpoints").

- Amplitude's Dashboard REST API (`/api/2/*`: get mappings, user search, user activity, the seed's
  `/api/2/userunmap`) takes at most 5 requests in flight per project; one more is answered 429 at once.
- Mixpanel's Query API (`/api/query/*`: engage reads, stream query) takes at most 5 concurrent queries.

A refused request never reaches its route (nothing applied) and is logged with status 429. Each family
counts what is in flight now and the most it ever held (`peak`), so a test can prove a client never sent
more than the cap: `GET /_sandbox/concurrency` answers
`{family: {"limit", "in_flight", "peak", "admitted", "refused"}}` (reset with the rest of the sandbox).
A limit of None lifts the cap but still counts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AMPLITUDE_REST = "amplitude_rest"
MIXPANEL_QUERY = "mixpanel_query"
#: the 429 bodies (?): neither vendor documents the exact text
REFUSALS = {
    AMPLITUDE_REST: {"error": "Too many concurrent requests: at most {limit} Dashboard REST API requests at a time"},
    MIXPANEL_QUERY: {"error": "Too many concurrent queries: at most {limit} Query API requests at a time",
                     "status": "error"},
}


def family_of(path: str) -> str | None:
    if path.startswith("/api/2/"):
        return AMPLITUDE_REST
    if path.startswith("/api/query/"):
        return MIXPANEL_QUERY
    return None


@dataclass
class Counter:
    limit: int | None
    in_flight: int = 0
    peak: int = 0
    admitted: int = 0
    refused: int = 0

    def export(self) -> dict[str, Any]:
        return {"limit": self.limit, "in_flight": self.in_flight, "peak": self.peak,
                "admitted": self.admitted, "refused": self.refused}


class ConcurrencyCaps:
    def __init__(self, amplitude_rest: int | None = 5, mixpanel_query: int | None = 5) -> None:
        self.families = {AMPLITUDE_REST: Counter(amplitude_rest), MIXPANEL_QUERY: Counter(mixpanel_query)}

    def enter(self, family: str) -> bool:
        counter = self.families[family]
        if counter.limit is not None and counter.in_flight >= counter.limit:
            counter.refused += 1
            return False
        counter.in_flight += 1
        counter.admitted += 1
        counter.peak = max(counter.peak, counter.in_flight)
        return True

    def leave(self, family: str) -> None:
        self.families[family].in_flight -= 1

    def export(self) -> dict[str, Any]:
        return {name: counter.export() for name, counter in self.families.items()}


Handler = Callable[..., Awaitable[None]]


async def guarded(handle: Handler, app: Any, sandbox: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`handle(app, sandbox, scope, receive, send)` (the pipeline) within the family's cap, or a 429."""
    family = family_of(scope["path"])
    caps: ConcurrencyCaps | None = getattr(sandbox, "concurrency", None)
    if family is None or caps is None:
        await handle(app, sandbox, scope, receive, send)
        return
    if not caps.enter(family):
        await _refuse(sandbox, scope, receive, send, family, caps.families[family].limit)
        return
    try:
        await handle(app, sandbox, scope, receive, send)
    finally:
        caps.leave(family)   # the caps this request entered, even if a reset replaced them since


async def _refuse(sandbox: Any, scope: dict[str, Any], receive: Any, send: Any, family: str,
                  limit: int | None) -> None:
    size = 0
    while True:  # read the request first, so closing the connection later is clean
        message = await receive()
        size += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = json.dumps({k: v.format(limit=limit) for k, v in REFUSALS[family].items()}).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"retry-after", b"1"),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
    sandbox.log.add(scope["method"], scope["path"], scope.get("query_string", b""), 429, size, None,
                    f"over the {family} concurrency cap")


async def concurrency_state(request: Request) -> Response:
    caps: ConcurrencyCaps | None = getattr(request.app.state.sandbox, "concurrency", None)
    return JSONResponse(caps.export() if caps is not None else {})


def routes() -> list[Route]:
    return [Route("/_sandbox/concurrency", concurrency_state, methods=["GET"])]

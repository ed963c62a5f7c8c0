"""Every vendor route of the sandbox, one Starlette Route per path, so a method the path does not take is
answered with the path's whole `Allow` list (Starlette matches one Route per method: two modules serving
`/api/2/usermap` — GET in amplitude_routes, POST in seed_routes — made it answer `Allow: GET, HEAD`).

`OPTIONS` answers 204 with `Allow` on every path (the vendors' ingestion hosts answer browsers' preflight
requests, since their browser SDKs post from web pages); any other method not served is 405 with `Allow`.
A handler that still hits a RecursionError (a route parsing a hostile body with plain json.loads) answers
400, never 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from idconsole.sandbox import (
    amplitude_ingest_routes,
    amplitude_routes,
    entitlements,
    mixpanel_people_routes,
    mixpanel_routes,
    seed_routes,
)

Endpoint = Callable[[Request], Awaitable[Response]]


class _Methods:
    """An ASGI app answering each method of `handlers` (HEAD with GET's), OPTIONS and 405. Being an app,
    not a function, its Route matches every method, so the 405 is ours and lists the whole path."""

    def __init__(self, handlers: dict[str, Endpoint]) -> None:
        self.handlers = handlers
        allowed = {*handlers, "OPTIONS"} | ({"HEAD"} if "GET" in handlers else set())
        self.allow = ", ".join(sorted(allowed))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        handler = self.handlers.get("GET" if request.method == "HEAD" else request.method)
        if request.method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": self.allow})
        elif handler is None:
            response = PlainTextResponse("Method Not Allowed", 405, headers={"Allow": self.allow})
        else:
            try:
                response = await handler(request)
            except RecursionError:  # a last net: every route parses with web.parse_json, which refuses these
                response = PlainTextResponse("Bad request: the body is nested too deeply", 400)
        await response(scope, receive, send)


def one_route(path: str, handlers: dict[str, Endpoint]) -> Route:
    return Route(path, _Methods(handlers))


def combine(routes: list[Route]) -> list[Route]:
    """Merge the routes that share a path into one (first path first; a method's first handler wins)."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for route in routes:
        handlers = by_path.setdefault(route.path, {})
        for method in sorted(route.methods or ("GET",)):
            if method != "HEAD":
                handlers.setdefault(method, route.endpoint)
    return [one_route(path, handlers) for path, handlers in by_path.items()]


def api_routes(*more: list[Route]) -> list[Route]:
    """The vendors' routes, with `more` of them (combined), and the entitlement control route."""
    vendor = [
        *amplitude_routes.routes(),
        *amplitude_ingest_routes.routes(),
        *seed_routes.routes(),
        *mixpanel_routes.routes(),
        *mixpanel_people_routes.routes(),
    ]
    for extra in more:
        vendor.extend(extra)
    return [*combine(vendor), *entitlements.routes()]

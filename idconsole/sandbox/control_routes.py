"""`/_sandbox/*`: inspect and steer the sandbox from tests and training. No auth, no faults, no limits."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.faults import ScriptedFault
from idconsole.sandbox.web import js, parse_json, sandbox


async def _json(request: Request) -> object:
    body = await request.body()
    return parse_json(body) if body.strip() else None  # ValueError for anything, 10,000-deep bodies too


async def state(request: Request) -> Response:
    return js(sandbox(request).state.export())


async def reset(request: Request) -> Response:
    sandbox(request).reset()
    return js({"ok": True})


async def health(request: Request) -> Response:
    return js({"ok": True})


async def faults(request: Request) -> Response:
    plan = sandbox(request).faults
    if request.method == "DELETE":
        plan.clear()
        return js({"ok": True})
    if request.method == "POST":
        try:
            data = await _json(request)
            items = data if isinstance(data, list) else [data]
            parsed = [ScriptedFault.from_json(item) for item in items]
        except ValueError as exc:
            return js({"ok": False, "error": str(exc)}, 400)
        for item in parsed:
            plan.add(item)
    return js({"ok": True, "faults": [item.export() for item in plan.scripted]})


async def requests(request: Request) -> Response:
    log = sandbox(request).log
    if request.method == "DELETE":
        log.clear()
        return js({"ok": True})
    return js(log.export())


async def users(request: Request) -> Response:
    """Bulk-seed state fast, bypassing limits: `{"users": [...], "mappings": [[u, g]], "clusters": [...]}`."""
    sb = sandbox(request)
    try:
        data = await _json(request)
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        sb.state.load_amplitude(data.get("users", []), data.get("mappings", []))
        for cluster in data.get("clusters", []):
            sb.state.mixpanel.load_cluster(cluster)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return js({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 400)
    return js(
        {"ok": True, "users": len(sb.state.amplitude.users), "mappings": len(sb.state.amplitude.mappings)}
    )


def routes() -> list[Route]:
    return [
        Route("/_sandbox/state", state, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
        Route("/_sandbox/users", users, methods=["POST"]),
    ]

"""The seed OpenAPI routes (`specs/*.yaml`), answered over the same state as the wire routes.

- `POST /api/2/usermap` and `POST /api/2/userunmap`: JSON `{"mapping": [...]}`, Basic `api_key:secret_key`,
  `{"code": 100, "success": true}`. They share the usermap rolling window with `POST /usermap` (same
  operation). `/userunmap` unmaps each `user_id` (its `global_user_id` is optional and ignored (?)).
  Errors are JSON `{"code": 4xx, "success": false, "error": "..."}` (the spec gives no body).
- `POST /identity/create`, `/identity/create-alias`, `/identity/merge`: JSON bodies carrying `$token`, Basic
  service account or API secret (no `project_id` needed (?)). `{"status": 1}` on success (no `error` key:
  the spec types it as a string); a wrong `$token` or a refused identity change is HTTP 200
  `{"status": 0, "error": "..."}` like `/track`; a missing field is 400 with the same shape.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.amplitude_routes import BadRequest, apply_mappings, check_basic, check_mappings
from idconsole.sandbox.entitlements import usermap_refusal
from idconsole.sandbox.mixpanel_routes import check_mixpanel_auth
from idconsole.sandbox.web import MB, TooLarge, js, parse_json, read_body, sandbox, set_items, throttle


async def _json_body(request: Request) -> tuple[Any, Response | None]:
    """(parsed JSON body or None when it is not JSON, or a Response to send instead)."""
    try:
        body = await read_body(request, MB)
    except TooLarge:
        return None, js({"code": 413, "success": False, "error": "request body exceeds 1 MB"}, 413)
    try:
        return parse_json(body.decode("utf-8")), None
    except (ValueError, UnicodeDecodeError):
        return None, None


def _amp_error(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
    return js({"code": status, "success": False, "error": error}, status, headers)


async def _amplitude_seed(request: Request, *, unmap_only: bool) -> Response:
    data, problem = await _json_body(request)
    if problem is not None:
        return problem
    if denied := check_basic(request):
        return denied
    if refused := usermap_refusal(request, as_json=True):
        return refused
    if not isinstance(data, dict) or not isinstance(data.get("mapping"), list):
        return _amp_error(400, "body must be a JSON object with a mapping array")
    try:
        batch = check_mappings(data["mapping"], unmap_only=unmap_only)
    except BadRequest as exc:
        return _amp_error(400, str(exc))
    set_items(request, len(batch))
    sb = sandbox(request)
    if headers := throttle(sb.limits["usermap"], len(batch)):
        return _amp_error(429, "Too many requests: over 1500 mappings per 30 s", headers)
    apply_mappings(sb, batch)
    return js({"code": 100, "success": True})


async def seed_usermap(request: Request) -> Response:
    return await _amplitude_seed(request, unmap_only=False)


async def seed_userunmap(request: Request) -> Response:
    return await _amplitude_seed(request, unmap_only=True)


REQUIRED = {
    "create": ("$identified_id", "$anon_id", "$token"),
    "create-alias": ("alias", "distinct_id", "$token"),
    "merge": ("$distinct_ids", "$token"),
}


def _identity_route(kind: str):
    async def handler(request: Request) -> Response:
        data, problem = await _json_body(request)
        if problem is not None:
            return problem
        if denied := check_mixpanel_auth(request, need_project=False):
            return denied
        if not isinstance(data, dict):
            return js({"status": 0, "error": "body must be a JSON object"}, 400)
        for key in REQUIRED[kind]:
            value = data.get(key)
            ok = isinstance(value, list) if key == "$distinct_ids" else isinstance(value, str) and bool(value)
            if not ok:
                return js({"status": 0, "error": f"{key} is required"}, 400)
        set_items(request, 1)
        sb = sandbox(request)
        if data["$token"] != sb.config.mixpanel_token:
            return js({"status": 0, "error": "$token does not match this project"})
        mp = sb.state.mixpanel
        if kind == "create":
            error = mp.identify(data["$identified_id"], data["$anon_id"])
        elif kind == "create-alias":
            error = mp.alias(data["alias"], data["distinct_id"])
        else:
            ids = data["$distinct_ids"]
            if len(ids) != 2 or not all(isinstance(i, str) and i for i in ids):
                return js({"status": 0, "error": "$distinct_ids must hold exactly two non-empty ids"}, 400)
            error = mp.merge(ids[0], ids[1])
        if error:
            return js({"status": 0, "error": error})
        sb.state.counters[f"identity_{kind}"] += 1
        return js({"status": 1})

    return handler


def routes() -> list[Route]:
    return [
        Route("/api/2/usermap", seed_usermap, methods=["POST"]),
        Route("/api/2/userunmap", seed_userunmap, methods=["POST"]),
        Route("/identity/create", _identity_route("create"), methods=["POST"]),
        Route("/identity/create-alias", _identity_route("create-alias"), methods=["POST"]),
        Route("/identity/merge", _identity_route("merge"), methods=["POST"]),
    ]

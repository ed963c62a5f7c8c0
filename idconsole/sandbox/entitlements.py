"""The sandbox acting as a project without the user-mapping entitlement.

Amplitude's User Mapping needs the Portfolio add-on (or an org plan that includes it); how a project without
it is answered is undocumented (?). The sandbox's choice, the most likely one: the credentials are checked
first (a bad key is still 401), then every user-mapping route (`POST /usermap`, `GET /api/2/usermap` and
the seed routes `POST /api/2/usermap`, `/api/2/userunmap`) answers **403** with a sentence naming the
add-on — plain text where the route's other answers are text, the seed routes' JSON error shape there.
Nothing else changes (search, profile, identify still work), so a client can tell "no entitlement" (403
after the key was accepted) from "bad credentials" (401).

Switched by `sandbox serve --no-usermap-entitlement` (SandboxConfig.usermap_entitlement) or at run time by
`POST /_sandbox/entitlements {"usermap": false}`; `GET` shows the switch. A reset keeps it (it is config).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.web import js, parse_json, sandbox, text

NO_USERMAP = (
    "Forbidden: this project does not have User Mapping; it needs the Portfolio add-on "
    "(or an organization plan that includes it)"
)


def usermap_refusal(request: Request, *, as_json: bool = False) -> Response | None:
    """The 403 of a project without the entitlement, or None when the project has it."""
    if sandbox(request).config.usermap_entitlement:
        return None
    if as_json:
        return js({"code": 403, "success": False, "error": NO_USERMAP}, 403)
    return text(NO_USERMAP, 403)


async def entitlements(request: Request) -> Response:
    config = sandbox(request).config
    if request.method == "POST":
        try:
            data = parse_json(await request.body())
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("usermap"), bool):
            return js({"ok": False, "error": 'body must be {"usermap": true|false}'}, 400)
        config.usermap_entitlement = data["usermap"]
    return js({"ok": True, "usermap": config.usermap_entitlement})


def routes() -> list[Route]:
    return [Route("/_sandbox/entitlements", entitlements, methods=["GET", "POST"])]

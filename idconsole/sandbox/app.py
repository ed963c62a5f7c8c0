"""`create_app(config)`: the Starlette app serving every vendor path from one base URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from idconsole.sandbox import activity_routes, concurrency, control_routes, pipeline, routes
from idconsole.sandbox.config import SandboxConfig
from idconsole.sandbox.runtime import Sandbox


class SandboxApp(Starlette):
    """Starlette, with latency / faults / request log wrapped around the API routes (see pipeline.py)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        sync = self.state.sandbox.sync if scope["type"] == "http" else None
        if sync is None:
            await self._dispatch(scope, receive, send)
        else:  # the world lives in a file: read it again if it changed, save what this request changed
            await sync.handle(self._dispatch, scope, receive, send)

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(pipeline.CONTROL_PREFIX):
            await super().__call__(scope, receive, send)
            return
        await concurrency.guarded(pipeline.handle, super().__call__, self.state.sandbox, scope, receive, send)


def create_app(config: SandboxConfig | None = None, *, on_notice: Callable[[str], None] | None = None) -> Starlette:
    """`on_notice` hears the one-sentence notices of the world file (a bad `sandbox.json` set aside);
    they are also kept in `app.state.sandbox.notices`."""
    config = config or SandboxConfig()
    app = SandboxApp(
        routes=[
            *routes.api_routes(activity_routes.routes()),  # one Route per path: right Allow headers
            *control_routes.routes(),
            *concurrency.routes(),
        ]
    )
    app.state.sandbox = Sandbox(config, on_notice=on_notice)
    return app

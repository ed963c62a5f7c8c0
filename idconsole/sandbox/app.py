"""`create_app(config)`: the Starlette app serving every vendor path from one base URL."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from idconsole.sandbox import (
    activity_routes,
    amplitude_routes,
    concurrency,
    control_routes,
    mixpanel_routes,
    pipeline,
    seed_routes,
)
from idconsole.sandbox.config import SandboxConfig
from idconsole.sandbox.runtime import Sandbox


class SandboxApp(Starlette):
    """Starlette, with latency / faults / request log wrapped around the API routes (see pipeline.py)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(pipeline.CONTROL_PREFIX):
            await super().__call__(scope, receive, send)
            return
        await concurrency.guarded(pipeline.handle, super().__call__, self.state.sandbox, scope, receive, send)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    app = SandboxApp(
        routes=[
            *amplitude_routes.routes(),
            *seed_routes.routes(),
            *mixpanel_routes.routes(),
            *activity_routes.routes(),
            *control_routes.routes(),
            *concurrency.routes(),
        ]
    )
    app.state.sandbox = Sandbox(config)
    return app

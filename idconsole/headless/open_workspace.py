"""The workspace every headless command runs in: `--demo`, `--profile NAME`, or the IDCONSOLE_* env.

    def run(ns):
        return run_async(_lookup, ns)

    async def _lookup(ws: Workspace, ns) -> int:
        ...

Config problems (no profile, a missing secret, a malformed profiles.toml) raise ConfigError, an
IdConsoleError with exit code 2 like BadInput.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.config.resolve import resolve_connection
from idconsole.headless.output import configure_logging
from idconsole.workspace import Workspace


def open_workspace(ns: Any) -> Workspace:
    """`ns.demo` → the in-process sandbox; else the connection of `ns.profile` (None: the `env`
    profile), env variables overriding. Honours `ns.readonly`. The caller closes it (`aclose`)."""
    readonly = bool(getattr(ns, "readonly", False))
    profile = getattr(ns, "profile", None)
    if getattr(ns, "demo", False):
        if profile:
            raise BadInput("--demo and --profile cannot be used together.", hint="Pick one.")
        return Workspace.demo(readonly=readonly)
    connection = resolve_connection(profile)
    return Workspace.open(connection, readonly=readonly)


def run_async(coro_fn: Callable[[Workspace, Any], Awaitable[int]], ns: Any) -> int:
    """Open the workspace, `await coro_fn(workspace, ns)` on a fresh event loop, always close the
    client (also on errors, which then propagate to the CLI's error reporter). Returns the exit code."""

    configure_logging()

    async def main() -> int:
        workspace = open_workspace(ns)
        try:
            return await coro_fn(workspace, ns)
        finally:
            await workspace.aclose()

    return asyncio.run(main())

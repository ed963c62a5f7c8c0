"""The workspace every headless command runs in: `--demo`, `--profile NAME`, or the IDCONSOLE_* env.

    def run(ns):
        return run_async(_lookup, ns)

    async def _lookup(ws: Workspace, ns) -> int:
        ...

Config problems (no profile, a missing secret, a malformed profiles.toml) become BadInput (exit 2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.config.errors import ConfigError
from idconsole.config.resolve import resolve_connection
from idconsole.headless.output import configure_logging
from idconsole.workspace import Workspace


@contextmanager
def config_errors_as_bad_input() -> Iterator[None]:
    """Config errors (the lowest layer cannot import api.errors) as the CLI's BadInput (exit 2)."""
    try:
        yield
    except ConfigError as exc:
        raise BadInput(exc.message, hint=exc.hint) from None


def open_workspace(ns: Any) -> Workspace:
    """`ns.demo` → the in-process sandbox; else the connection of `ns.profile` (None: the `env`
    profile), env variables overriding. Honours `ns.readonly`. The caller closes it (`aclose`)."""
    readonly = bool(getattr(ns, "readonly", False))
    profile = getattr(ns, "profile", None)
    if getattr(ns, "demo", False):
        if profile:
            raise BadInput("--demo and --profile cannot be used together.", hint="Pick one.")
        return Workspace.demo(readonly=readonly)
    with config_errors_as_bad_input():
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

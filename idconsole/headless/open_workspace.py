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

from idconsole.api.errors import BadInput, IdConsoleError
from idconsole.config.resolve import resolve_connection
from idconsole.config.secret import Secret
from idconsole.headless.errors import chain, env_redactor, translate
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
    client (also on errors, which then propagate to the CLI's error reporter). Returns the exit code.
    A failure that is not one of ours is translated here, while the workspace still knows its secrets
    (to scrub them from the message) and its state directory (to name it when an OSError does not)."""

    configure_logging()

    async def main() -> int:
        workspace = open_workspace(ns)
        try:
            return await coro_fn(workspace, ns)
        except (IdConsoleError, KeyboardInterrupt, asyncio.CancelledError, BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - turned into one of ours, reported by the CLI
            raise translate(exc, redact=workspace_redactor(workspace),
                            where=f"a file in {workspace.state_dir}") from exc
        finally:
            await workspace.aclose()

    return asyncio.run(main())


def workspace_redactor(workspace: Workspace) -> Callable[[str], str]:
    """The client's own redactor when it exists (it knows every encoding the client sent), the raw
    secret values of the connection otherwise, and the IDCONSOLE_* values either way."""
    funcs = [env_redactor()]
    client = getattr(workspace, "_client", None)  # not `workspace.client`: that would build one
    redact = getattr(getattr(client, "transport", None), "redact", None)
    if callable(redact):
        funcs.append(redact)
    values = [s.reveal() for s in connection_secrets(workspace.connection)]
    funcs.append(chain(_replacer(v) for v in sorted(values, key=len, reverse=True) if len(v) >= 3))
    return chain(funcs)


def _replacer(value: str) -> Callable[[str], str]:
    return lambda text: text.replace(value, "***")


def connection_secrets(connection: Any) -> list[Secret]:
    """Every Secret a connection holds (both vendors' credentials)."""
    found: list[Secret] = []
    for creds in (connection.amplitude, connection.mixpanel):
        if creds is not None:
            found += [v for v in vars(creds).values() if isinstance(v, Secret)]
    return found

"""`idconsole [--demo | --profile NAME] [--readonly]`: build the Workspace, run the app, return an exit code.

Imports only what the first screen needs: `--demo` does not load the keyring or the profiles file,
and the Connections screen does not load httpx or the api package.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2


def open_workspace(ns: Any):
    """The Workspace the command line asks for, or None (nothing configured: the Connections screen).

    Raises ConfigError (unknown profile, bad settings) and MissingSecret (secrets not stored).
    """
    readonly = bool(getattr(ns, "readonly", False))
    profile = getattr(ns, "profile", None)
    if getattr(ns, "demo", False):
        if profile:
            from idconsole.config.errors import ConfigError

            raise ConfigError("--demo and --profile cannot be used together.", hint="Pick one.")
        from idconsole.workspace import Workspace

        return Workspace.demo(readonly=readonly)
    from idconsole.config.resolve import env_profile_active, resolve_connection

    if profile is None and not env_profile_active():
        return None
    from idconsole.workspace import Workspace

    return Workspace.open(resolve_connection(profile), readonly=readonly)


def run(ns: Any) -> int:
    # start-up: the cyclic collector's passes over every module being imported cost ~10% of the time to
    # the first frame (measured: benchmarks/README.md); what start-up built is long-lived, so it is frozen
    # out of later collections and the collector runs as usual from the first frame on
    gc.disable()
    try:
        return _run(ns)
    finally:
        gc.enable()


def _run(ns: Any) -> int:
    from idconsole.config.errors import ConfigError, MissingSecret

    notice = ""
    try:
        workspace = open_workspace(ns)
    except MissingSecret as exc:
        # secrets can be entered on the Connections screen (without a keyring they last one session)
        workspace, notice = None, str(exc)
    except ConfigError as exc:
        print(f"idconsole: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from idconsole.tui.app import IdConsoleApp

    app = IdConsoleApp(workspace, readonly=bool(getattr(ns, "readonly", False)), notice=notice)
    gc.freeze()
    gc.enable()
    app.run()
    return app.return_code or EXIT_OK

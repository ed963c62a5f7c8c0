"""`idconsole sandbox reset --demo`: put the demo world back to its story (Workspace.reset_demo).

Only the demo world is ever reset: without `--demo` (or with `--profile`) it says so and exits 2.
`sandbox serve` is handed to the sandbox's server before argument parsing (cli.py); it only
arrives here when global flags come first (`idconsole --demo sandbox serve`), and is handed over then.
"""

from __future__ import annotations

from typing import Any

from idconsole.api.errors import BadInput
from idconsole.headless.output import note, print_json


def run(ns: Any) -> int:
    if ns.sandbox_command == "serve":
        from idconsole.workspace import serve_sandbox

        return serve_sandbox(list(getattr(ns, "rest", [])))
    return _reset(ns)


def _reset(ns: Any) -> int:
    if not getattr(ns, "demo", False) or getattr(ns, "profile", None):
        raise BadInput("`idconsole sandbox reset` only resets the demo world; a real service is never reset.",
                       hint="Run `idconsole sandbox reset --demo`.")
    from idconsole.workspace import Workspace

    done = Workspace.demo(readonly=bool(getattr(ns, "readonly", False))).reset_demo()
    for sentence in done.sentences():
        note(f"idconsole: {sentence}")
    if getattr(ns, "json", False):
        print_json({
            "world_reset": True,
            "world_changed": done.world_changed,
            "journal_archive": None if done.journal_archive is None else str(done.journal_archive),
            "staged_cleared": done.staged_cleared,
        })
    return 0

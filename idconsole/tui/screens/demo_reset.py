"""Reset the demo world from the console (Connections, shift+r): ask first — Cancel has the focus — then
`Workspace.reset_demo()`, the same rule `idconsole sandbox reset --demo` runs."""

from __future__ import annotations

from typing import Any

from idconsole.tui.screens.base import ConsoleScreen

TITLE = "Reset the demo world?"
MESSAGE = (
    "This puts the demo's users, mappings and properties back to the story, archives the demo journal "
    "(journal-<time>.jsonl beside it) and clears the demo's staged changes. Only the demo changes; no real "
    "service is touched."
)


def ask_reset_demo(screen: ConsoleScreen[Any]) -> None:
    app = screen.app
    if not app.check_writable("Resetting the demo world"):
        return
    from idconsole.tui.screens.confirm import AskDialog

    def confirmed(yes: bool | None) -> None:
        if yes:
            reset_demo(screen)

    app.push_screen(AskDialog(TITLE, MESSAGE, "Reset"), confirmed)


def reset_demo(screen: ConsoleScreen[Any]) -> None:
    """Reset the open demo workspace, or the demo's files when another connection is open."""
    from idconsole.workspace import Workspace

    app = screen.app
    workspace = app.workspace
    if workspace is None or not workspace.is_demo:
        workspace = Workspace.demo()  # only the demo's files: nothing is built or sent
    try:
        done = workspace.reset_demo()
    except Exception as exc:  # the router says what and why
        app.show_error(exc, context="Reset demo")
        return
    screen.notify(" ".join(done.sentences()), title="Demo reset", markup=False, timeout=10)

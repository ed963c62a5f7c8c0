"""Noticing that someone else changed staged.json — a CLI `stage clear` / `stage map`, a script, a second
console on the same profile — so the console never shows (or plans) a copy that is no longer the truth.

`reload_if_changed_outside(app)` re-reads the file when its content changed since this console last read
or wrote it, tells the user in one line, and returns True; the staged set's listeners (the editor) redraw.
Called when a console screen comes back (screens.base), before a plan is built or submitted (the plan
screen: `plan_is_stale`), and once a second while the staged editor is open. Each call costs one read of
the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idconsole.changes import Plan
    from idconsole.tui.app import IdConsoleApp

NOTICE = "Staged changes were changed outside this console; reloaded."


def reload_if_changed_outside(app: IdConsoleApp) -> bool:
    workspace = app.workspace
    if workspace is None:
        return False
    try:
        changed = workspace.staged.refresh()
    except Exception:  # an unreadable file: the editor and the plan say so when they read it
        return False
    if changed:
        app.notify(NOTICE, title="Staged changes", severity="warning", markup=False)
    return changed


def plan_is_stale(app: IdConsoleApp, plan: Plan | None) -> bool:
    """Is `plan` built from another revision of staged.json than the one on disk now? Compared by revision,
    not by whether this call reloaded: the editor's timer (or a screen coming back) may have reloaded the
    set already, after the plan was built."""
    reload_if_changed_outside(app)
    workspace = app.workspace
    return plan is not None and workspace is not None and plan.revision != workspace.staged.revision

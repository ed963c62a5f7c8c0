"""Staging from anywhere in the console: open the stage dialog (prefilled from the context), then add
what it returns to the staged set and say so. Nothing here sends anything.

    from idconsole.tui.staging import actions

    actions.stage_map(self.app, user_id)              # Lookup: "map this user into…"
    actions.stage_unmap(self.app, user_id)            # Lookup: "unmap this user"
    actions.stage_property(self.app, user_id, key, value)   # Profile
    actions.open_stage_dialog(self.app)               # the editor's "add by hand"

Each one refuses (through `app.check_writable`, with its one message) in a read-only session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from idconsole.tui.display import plural
from idconsole.tui.staging.describe import describe_change
from idconsole.tui.text import visible

if TYPE_CHECKING:
    from idconsole.changes import Change
    from idconsole.tui.app import IdConsoleApp


def stage_changes(app: IdConsoleApp, changes: Iterable[Change]) -> int:
    """Add changes to the staged set in one write (all or none). Returns how many were added."""
    return len(app.active_workspace.staged.extend(changes))


def open_stage_dialog(
    app: IdConsoleApp,
    kind: str | None = None,
    *,
    values: Mapping[str, str] | None = None,
    lock_kind: bool = False,
    title: str | None = None,
    on_staged: Callable[[Change], None] | None = None,
) -> None:
    """Open the staging dialog (prefilled); on "Stage" the change is added and the user is told so."""
    if not app.check_writable("Staging a change"):
        return
    from idconsole.tui.screens.stage_dialog import StageChangeDialog

    def staged(change: Change | None) -> None:
        if change is None:
            return
        try:
            stage_changes(app, [change])
        except Exception as exc:  # a failed write: say so, nothing else is lost
            app.show_error(exc, context="Could not stage the change")
            return
        row = describe_change(change)
        count = len(app.active_workspace.staged)
        app.notify(
            f"Staged: {row.op} {visible(row.subject, limit=60)} {visible(row.detail, limit=60)}. "
            f"{plural(count, 'change')} staged — review them in Staged changes.",
            title="Staged",
            markup=False,
        )
        if on_staged is not None:
            on_staged(change)

    app.push_screen(StageChangeDialog(kind, values=values, lock_kind=lock_kind, title=title), staged)


def stage_map(app: IdConsoleApp, user_id: str, global_user_id: str = "") -> None:
    """Lookup: "map this user into…" (the global user id is typed in the dialog)."""
    open_stage_dialog(app, "map", values={"user_id": user_id, "global_user_id": global_user_id},
                      title="Map this user into…")


def stage_unmap(app: IdConsoleApp, user_id: str) -> None:
    """Lookup: "unmap this user" (the dialog shows what will be staged; Stage confirms)."""
    open_stage_dialog(app, "unmap", values={"user_id": user_id}, lock_kind=True, title="Unmap this user")


def stage_property(app: IdConsoleApp, user_id: str, key: str = "", value: str = "", op: str = "$set") -> None:
    """Profile: "set property" (prefilled with the selected property when there is one)."""
    open_stage_dialog(app, "identify", values={"user_id": user_id, "key": key, "value": value, "op": op},
                      title="Set a user property")


def unstage_property(app: IdConsoleApp, user_id: str, key: str) -> None:
    """Profile: "unset property"."""
    open_stage_dialog(app, "identify", values={"user_id": user_id, "key": key, "op": "$unset"},
                      title="Unset a user property")


"""The staged-changes editor: everything that would be sent, in order, before any plan.

`StagedScreen()` shows the active workspace's staged set (it follows edits made elsewhere, e.g. staging
from Lookup). Add by hand, edit, move up/down, drop (u puts it back), clear (asks first), import a CSV, and
`P` builds the plan. Nothing here sends anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from idconsole.tui.display import plural
from idconsole.tui.errors import route_worker_error, show_error
from idconsole.tui.screens.staged_import import StagedImport
from idconsole.tui.staging import actions
from idconsole.tui.staging.drop_undo import DropUndo
from idconsole.tui.staging.freshness import reload_if_changed_outside
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.import_errors import ImportErrors
from idconsole.tui.widgets.staged_table import StagedTable
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from idconsole.changes import Change, StagedEntry, StagedSet

EMPTY_TEXT = (
    "Nothing is staged. Press a to stage a change by hand, i to import a CSV, "
    "or stage from a user's mappings or profile."
)


_MOVE = Binding.Group("Move")


class StagedScreen(StagedImport):
    """`StagedScreen()`: the staged changes of `app.workspace`."""

    CSS_PATH = "../styles/changes.tcss"
    TITLE = "Staged changes"
    #: the app's key for this screen does nothing here (app.check_action)
    NAV_ACTION = "staged"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="staged.add", tooltip="Stage a change by hand"),
        Binding("e", "edit", "Edit", id="staged.edit", show=False,  # Enter edits too; help and palette say e
                tooltip="Edit the selected change"),
        Binding("d,delete", "drop", "Drop", id="staged.drop",
                tooltip="Remove the selected change (u puts it back; a held one asks first)"),
        Binding("u", "undo_drop", "Undo", id="staged.undo_drop",
                tooltip="Put the last dropped change back where it was"),
        # one footer entry for both (`^↑ ^↓ Move`): the footer must fit 120 columns
        Binding("ctrl+up,K", "move(-1)", "Move up", id="staged.move_up", tooltip="Move the selected change up",
                group=_MOVE),
        Binding("ctrl+down,J", "move(1)", "Move down", id="staged.move_down",
                tooltip="Move the selected change down", group=_MOVE),
        Binding("R", "resolve", "Resolve held…", id="staged.resolve",
                tooltip="Say whether a held change (outcome unknown) took effect"),
        Binding("i", "import_csv", "Import", id="staged.import", tooltip="Stage every row of a CSV file"),
        Binding("X", "clear", "Clear all", id="staged.clear", tooltip="Remove every staged change (asks first)"),
        Binding("P", "plan", "Plan", id="staged.plan",
                tooltip="See exactly what submitting would do; nothing is sent yet"),
        Binding("escape", "back", "Back", id="staged.back", tooltip="Close the staged changes"),
    ]
    WRITE_ACTIONS = frozenset({"add", "edit", "drop", "undo_drop", "move", "import_csv", "clear", "resolve"})
    HELP = """\
## Staged changes

Everything that would be sent, in the order it would be sent. Nothing here sends anything: **P** builds
the plan (before → after, warnings, the exact requests), and only a confirmed plan is submitted.

- **a** add a change by hand (map, unmap, property, Mixpanel identify / alias / merge)
- **e** (or Enter) edit the selected change, **d** drop it at once — **u** puts it back where it was (a held
  change asks first: its outcome is unknown)
- **K** / **J** (or ctrl+↑ / ctrl+↓) move it up / down
- **i** import a CSV (`op,user_id,global_user_id[,key,value]`), **X** clear everything (asks first)

A change marked *held* was sent but its outcome is unknown; it is never re-sent automatically.
Check the user, then **R** records what happened (it took effect: dropped; it did not: staged again).
Staged changes survive restarts. In a read-only session the list is shown but cannot be changed.
"""

    def __init__(self) -> None:
        super().__init__()
        self._unsubscribe: Callable[[], None] | None = None
        self._ids: list[str] = []
        self._dropped = DropUndo()  # what `u` puts back

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="staged-body", classes="changes-body"):
            yield Static("", id="staged-summary", classes="changes-summary")
            yield StagedTable(id="staged-table")
            yield Static(EMPTY_TEXT, id="staged-empty", classes="changes-help", markup=False)
            yield Static("", id="staged-note", classes="changes-help")
            yield ImportErrors(id="staged-import-errors")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(StagedTable)
        self.query_one("#staged-empty").display = False
        try:
            staged = self.app.active_workspace.staged
        except Exception as exc:  # a damaged staged.json: say so, keep the screen usable
            self.query_one("#staged-summary", Static).update(
                literal("The staged changes could not be read; nothing was changed.")
            )
            show_error(self.app, exc, context="Staged changes")
            return
        self._unsubscribe = staged.subscribe(self._staged_changed)
        self.reload()
        table.focus()
        # a CLI call or a second console may change staged.json while this list is on screen
        self.set_interval(1.0, self._check_outside)

    def _check_outside(self) -> None:
        if self.is_current:
            reload_if_changed_outside(self.app)

    def _staged_changed(self, _staged: StagedSet) -> None:
        self.call_later(self.reload)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_screen_resume(self) -> None:
        self.reload()

    # -- showing -----------------------------------------------------------------------------

    @property
    def staged(self) -> StagedSet:
        return self.app.active_workspace.staged

    def reload(self, select_id: str | None = None) -> None:
        """Redraw from the staged set, keeping the cursor on the same change when it is still there."""
        if not self.is_mounted:
            return
        try:
            entries = self.staged.entries
        except Exception as exc:
            show_error(self.app, exc, context="Staged changes")
            return
        table = self.query_one(StagedTable)
        table.show(entries, select_id)
        self._ids = table.ids
        self._update_summary(entries)
        self.refresh_bindings()

    def _update_summary(self, entries: list[StagedEntry]) -> None:
        count = len(entries)
        irreversible = sum(1 for e in entries if e.change.irreversible)
        held = sum(1 for e in entries if e.held)
        profile = visible(self.app.active_workspace.connection.name)
        parts = [f"{plural(count, 'change')} staged for profile {profile}"]
        if irreversible:
            parts.append(f"{irreversible} irreversible")
        if held:
            parts.append(f"{held} held (outcome unknown)")
        if self.app.readonly:
            parts.append("read-only session: shown, not editable")
        elif count:
            parts.append("P builds the plan")
        self.query_one("#staged-summary", Static).update(literal(" · ".join(parts)))
        self.query_one("#staged-table").display = bool(count)
        self.query_one("#staged-empty").display = not count
        if self.staged.mismatch:
            self.query_one("#staged-note", Static).update(
                literal(
                    f"These changes were staged under profile {self.staged.profile!r}, not this one: "
                    "they cannot be planned or sent here. X clears them."
                )
            )
        else:
            note = self._selected_note()
            self.query_one("#staged-note", Static).update(literal(note))

    def _selected_note(self) -> str:
        change_id = self.selected_id()
        if change_id is None:
            return ""
        try:
            entry = self.staged.entry(change_id)
        except Exception:
            return ""
        bits = []
        if entry.held:
            bits.append("Held: it was sent but the outcome is unknown; it will not be re-sent automatically.")
        if entry.note:
            bits.append(f"Last error: {entry.note}")
        return " ".join(bits)

    def selected_id(self) -> str | None:
        return self.query_one(StagedTable).selected_id()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if not self.staged.mismatch:
            self.query_one("#staged-note", Static).update(literal(self._selected_note()))
        self.refresh_bindings()

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.run_action("edit")

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("edit", "drop", "move") and self.selected_id() is None:
            return None
        if action == "resolve" and not self._selected_held():
            return False
        if action == "undo_drop" and not self._dropped:
            return False
        if action == "plan" and not self._ids:
            return None
        if action == "clear" and not self._ids:
            return None
        return allowed

    def _selected_held(self) -> bool:
        change_id = self.selected_id()
        if change_id is None:
            return False
        try:
            return self.staged.entry(change_id).held
        except Exception:
            return False

    def action_resolve(self) -> None:
        if not self.app.check_writable("Resolving a held change"):
            return
        change_id = self.selected_id()
        if change_id is None or not self._selected_held():
            return
        from idconsole.changes import resolve_unknown
        from idconsole.tui.screens.confirm import ResolveHeldDialog

        def done(decision: str | None) -> None:
            if decision in ("applied", "resend"):
                applied = decision == "applied"
                if self._edit("Could not record the decision",
                              lambda: resolve_unknown(self.app.active_workspace, change_id, applied=applied)):
                    self.notify("Recorded: it took effect; dropped from the staged changes." if applied else
                                "Recorded: it did not take effect; staged again for the next submit.",
                                title="Resolved", markup=False)

        self.app.push_screen(ResolveHeldDialog(self.staged.get(change_id).description()), done)

    def _edit(self, what: str, fn: Callable[[], Any], *, select_id: str | None = None) -> bool:
        """Run one staged-set edit; failures are shown and the screen redraws from the set as it is."""
        try:
            fn()
        except Exception as exc:
            show_error(self.app, exc, context=what)
            self.reload()
            return False
        self.reload(select_id)
        return True

    def action_add(self) -> None:
        if not self.app.check_writable("Staging a change"):
            return
        actions.open_stage_dialog(self.app, on_staged=lambda change: self.reload(change.id))

    def action_edit(self) -> None:
        if not self.app.check_writable("Editing a staged change"):
            return
        change_id = self.selected_id()
        if change_id is None:
            return
        from idconsole.tui.screens.stage_dialog import StageChangeDialog

        change = self.staged.get(change_id)

        def done(new: Change | None) -> None:
            if new is not None:
                self._edit("Could not save the change", lambda: self.staged.replace(change_id, new),
                           select_id=new.id)

        self.app.push_screen(StageChangeDialog(change=change), done)

    def action_drop(self) -> None:
        if not self.app.check_writable("Dropping a staged change"):
            return
        change_id = self.selected_id()
        if change_id is None:
            return
        if not self._selected_held():
            self._drop(change_id)  # nothing was sent: no question, and u puts it back
            return
        from idconsole.tui.screens.confirm import AskDialog

        # a held change was sent with an unknown outcome: dropping it is a decision, asked first, not undone
        def done(yes: bool | None) -> None:
            if yes:
                self._drop(change_id, undoable=False)

        self.app.push_screen(AskDialog("Drop this held change?", self.staged.get(change_id).description(),
                                       "Drop"), done)

    def _drop(self, change_id: str, *, undoable: bool = True) -> None:
        index = self._ids.index(change_id) if change_id in self._ids else 0
        change = self.staged.get(change_id)
        if not self._edit("Could not drop the change", lambda: self.staged.drop(change_id)):
            return
        if self._ids:
            self.query_one("#staged-table", DataTable).move_cursor(row=min(index, len(self._ids) - 1))
        if undoable:
            self._dropped.remember(change, index + 1)
            self.refresh_bindings()
        self.notify("Dropped one staged change." + (" u puts it back." if undoable else ""), title="Dropped",
                    markup=False)

    def action_undo_drop(self) -> None:
        if not self.app.check_writable("Putting a dropped change back") or not self._dropped:
            return
        restored: list[Change] = []
        if self._edit("Could not put the change back", lambda: restored.append(self._dropped.put_back(self.staged))):
            self.reload(restored[0].id)
            self.notify("Put the dropped change back.", title="Undo drop", markup=False)

    def action_move(self, delta: int) -> None:
        if not self.app.check_writable("Reordering staged changes"):
            return
        change_id = self.selected_id()
        if change_id is None:
            return
        position = self._ids.index(change_id) + 1
        to = position + delta
        if not 1 <= to <= len(self._ids):
            return
        self._edit("Could not move the change", lambda: self.staged.move(change_id, to), select_id=change_id)

    def action_clear(self) -> None:
        if not self.app.check_writable("Clearing the staged changes"):
            return
        if not self._ids:
            return
        from idconsole.tui.screens.confirm import AskDialog

        count = len(self._ids)

        def done(yes: bool | None) -> None:
            if yes and self._edit("Could not clear the staged changes", self.staged.clear):
                self.notify(f"Cleared {plural(count, 'staged change')}.", title="Cleared", markup=False)

        self.app.push_screen(
            AskDialog("Clear every staged change?", f"All {plural(count, 'staged change')} will be removed. "
                      "Nothing has been sent, and nothing will be.", "Clear all"),
            done,
        )

    def action_plan(self) -> None:
        # a plan sends nothing: it is shown in a read-only session too (without its submit)
        if not self._ids:
            self.notify("Nothing is staged.", title="Plan", severity="warning", markup=False)
            return
        self.app.open_plan()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Staged changes")

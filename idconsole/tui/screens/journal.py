"""The journal: every submit, newest first, what each change did, and undo where one exists.

`JournalScreen()` lists the active workspace's journal; the selected entry is shown below the list.
`u` stages the inverse of the selected entry (it sends nothing: the inverse is reviewed in a plan like any
other change). A Mixpanel merge cannot be undone, and the screen says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.display import cell, plural
from idconsole.tui.errors import route_worker_error, show_error
from idconsole.tui.staging import actions
from idconsole.tui.staging.results_view import journal_entry_view
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.results_table import results_table
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from rich.console import RenderableType

    from idconsole.changes import JournalEntry

MAX_DETAIL_ROWS = 300


class JournalScreen(WriteActionsGuard[None]):
    """`JournalScreen()`: the journal of `app.workspace`."""

    CSS_PATH = "../styles/changes.tcss"
    TITLE = "Journal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "Undo (stage inverse)", id="journal.undo",
                tooltip="Stage the changes that reverse the selected entry; nothing is sent"),
        Binding("enter", "show", "Show", id="journal.show", tooltip="Read the selected entry in full"),
        Binding("r", "refresh", "Refresh", id="journal.refresh", tooltip="Read the journal again"),
        Binding("S", "staged", "Staged changes", id="journal.staged", tooltip="Open the staged changes"),
        Binding("escape", "back", "Back", id="journal.back", tooltip="Close the journal"),
    ]
    WRITE_ACTIONS = frozenset({"undo"})
    HELP = """\
## Journal

Every submit, newest first: when, what was sent, what the server acknowledged, and what reading it back
showed. The selected entry is shown below the list; **Enter** moves into it to scroll.

**u** stages the inverse of the selected entry (map → unmap or the previous mapping, property → its old
value). It sends nothing: review it in the staged changes and submit it like any change.
A **Mixpanel merge cannot be undone**; the entry says so. **r** reads the journal again.
"""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[JournalEntry] = []
        self._ids: list[str] = []
        self._loading = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="journal-body", classes="changes-body"):
            yield Static("Reading the journal…", id="journal-summary", classes="changes-summary")
            table: DataTable[Any] = DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="journal-detail"):
                yield Static("", id="journal-detail-title", classes="changes-section")
                yield Static("", id="journal-detail-body")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#journal-table", DataTable)
        table.add_column("Entry", key="id", width=20)
        table.add_column("When (UTC)", key="when", width=19)
        table.add_column("Changes", key="changes", width=7)
        table.add_column("Outcome", key="outcome", width=24)
        table.add_column("Summary", key="summary", width=34)
        table.focus()
        self.load()

    # -- loading -----------------------------------------------------------------------------

    @work(group="journal", exclusive=True, exit_on_error=False, thread=True)
    def load(self) -> None:
        """Read the journal file off the UI thread."""
        try:
            entries = self.app.active_workspace.journal.entries()
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self.show_entries, entries)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.query_one("#journal-summary", Static).update(literal("The journal could not be read. r tries again."))
        show_error(self.app, exc, context="Journal")

    def show_entries(self, entries: list[JournalEntry]) -> None:
        """`entries` newest first (as the journal gives them)."""
        self._loading = False
        self._entries = list(entries)
        table = self.query_one("#journal-table", DataTable)
        current = self.selected_id()
        table.clear()
        self._ids = []
        for entry in self._entries:
            view = journal_entry_view(entry)
            table.add_row(
                cell(view.id),
                cell(view.when),
                Text(str(len(view.rows))),
                cell(view.outcome, style="bold red" if view.failed else ("yellow" if view.partial else "green")),
                cell(view.summary, limit=60),
                key=view.id,
            )
            self._ids.append(view.id)
        if current in self._ids:
            table.move_cursor(row=self._ids.index(current))
        count = len(self._entries)
        self.query_one("#journal-summary", Static).update(
            literal(f"{plural(count, 'entry', 'entries')} · newest first" if count else
                    "The journal is empty: nothing has been submitted from this profile yet.")
        )
        self.query_one("#journal-table").display = bool(count)
        self.show_selected()
        self.refresh_bindings()

    # -- the selected entry ------------------------------------------------------------------

    def selected_id(self) -> str | None:
        table = self.query_one("#journal-table", DataTable)
        row = table.cursor_row
        if not self._ids or row is None or not 0 <= row < len(self._ids):
            return None
        return self._ids[row]

    def selected_entry(self) -> JournalEntry | None:
        entry_id = self.selected_id()
        if entry_id is None:
            return None
        return self._entries[self._ids.index(entry_id)]

    def show_selected(self) -> None:
        entry = self.selected_entry()
        title = self.query_one("#journal-detail-title", Static)
        body = self.query_one("#journal-detail-body", Static)
        if entry is None:
            title.update("")
            body.update("")
            return
        view = journal_entry_view(entry)
        title.update(literal(f"Entry {view.id} · {view.when} · {view.outcome}"))
        table = results_table(view.rows, max_rows=MAX_DETAIL_ROWS, limits=(40, 50, 50, 80), coloured=False)
        parts: list[RenderableType] = [table]
        if view.irreversible:
            parts.append(Text("\n⚠ This entry contains a Mixpanel merge: a merge cannot be undone.", style="bold red"))
        if view.undo_note:
            parts.append(cell(view.undo_note, limit=300, style="dim"))
        from rich.console import Group

        body.update(Group(*parts))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_selected()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("undo", "show"):
            entry = self.selected_entry()
            if entry is None or (action == "undo" and not journal_entry_view(entry).undoable):
                return None
        if action == "refresh" and self._loading:
            return None
        return allowed

    def action_show(self) -> None:
        detail = self.query_one("#journal-detail", VerticalScroll)
        if detail.has_focus:
            self.query_one("#journal-table").focus()
        else:
            detail.focus()

    def action_refresh(self) -> None:
        self._loading = True
        self.query_one("#journal-summary", Static).update("Reading the journal…")
        self.load()

    def action_undo(self) -> None:
        if not self.app.check_writable("Undo"):
            return
        entry = self.selected_entry()
        if entry is None:
            return
        self.undo(entry)

    @work(group="journal-undo", exclusive=True, exit_on_error=False)
    async def undo(self, entry: JournalEntry) -> None:
        from idconsole import changes

        view = journal_entry_view(entry)
        try:
            # as `idconsole undo` does: ordered on the mappings the server holds now (only lookups are sent)
            inverse, notes = await changes.undo_with_lookup(self.app.active_workspace, entry)
        except Exception as exc:
            show_error(self.app, exc, context="Undo")
            return
        notes_text = " ".join(visible(n, limit=200) for n in notes)
        if not inverse:
            self.notify(
                ("Nothing to stage: " + notes_text) if notes_text else "This entry has nothing that can be undone.",
                title=f"Undo {visible(view.id)}",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        try:
            actions.stage_changes(self.app, inverse)
        except Exception as exc:
            show_error(self.app, exc, context="Undo")
            return
        self.notify(
            f"Staged {plural(len(inverse), 'inverse change')} for entry {visible(view.id)}. Nothing was sent: "
            "review them in Staged changes (S) and submit. " + notes_text,
            title="Undo staged",
            markup=False,
            timeout=10,
        )

    def action_staged(self) -> None:
        self.app.open_staged()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Journal")

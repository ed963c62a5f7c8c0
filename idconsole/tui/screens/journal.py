"""The journal: every submit, newest first, what each change did, and undo where one exists.

`JournalScreen()` lists the active workspace's journal; the selected entry is shown below the list, with
who submitted it, the ticket and the note, and its changes numbered as `idconsole journal show` numbers
them. `/` filters the list to the entries whose changes touch one user id (the engine's
`entries_touching`, as `idconsole journal --user`). `u` stages the inverse of the selected entry — only of
the changes marked with space in its detail when any are (`undo ID --changes N,...`). It sends nothing:
the inverse is reviewed in a plan like any other change. A Mixpanel merge cannot be undone, and the
screen says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.column_fit import Column, fit, widest
from idconsole.tui.display import cell, plural
from idconsole.tui.errors import route_worker_error, show_error
from idconsole.tui.staging import actions
from idconsole.tui.staging.results_view import journal_entry_view
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.journal_changes import JournalChanges
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from rich.console import RenderableType

    from idconsole.changes import JournalEntry
    from idconsole.tui.staging.results_view import JournalEntryView

COLUMNS = (("Entry", "id"), ("When (UTC)", "when"), ("Changes", "changes"), ("Outcome", "outcome"),
           ("Summary", "summary"))
#: the Outcome column is as wide as its longest value, up to this; the Summary column takes the rest
OUTCOME_CAP = 32
#: the Summary cell keeps this much text (the column cuts it with an ellipsis; the detail pane has it all)
SUMMARY_LIMIT = 400


class JournalScreen(WriteActionsGuard[None]):
    """`JournalScreen()`: the journal of `app.workspace`."""

    CSS_PATH = "../styles/changes.tcss"
    TITLE = "Journal"
    #: the app's key for this screen does nothing here (app.check_action)
    NAV_ACTION = "journal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "Undo", id="journal.undo",
                tooltip="Stage the changes that reverse the selected entry (only its marked changes, if any); "
                        "nothing is sent"),
        Binding("slash", "filter", "Filter", id="journal.filter",
                tooltip="Only the entries whose changes touch one user id"),
        Binding("enter", "show", "Show", id="journal.show", tooltip="Read the selected entry in full"),
        Binding("r", "refresh", "Refresh", id="journal.refresh", tooltip="Read the journal again"),
        Binding("S", "staged", "Staged changes", id="journal.staged", tooltip="Open the staged changes"),
        Binding("escape", "back", "Back", id="journal.back", tooltip="Close the journal"),
    ]
    WRITE_ACTIONS = frozenset({"undo"})
    HELP = """\
## Journal

Every submit, newest first: when, what was sent, what the server acknowledged, and what reading it back
showed, who submitted it (the operator), the ticket and the note. The selected entry is shown below the
list; **Enter** moves into its changes (numbered as `idconsole journal show` numbers them).

**/** filters the list to the entries whose changes touch one user id (as the user, the global id or a
Mixpanel id): type it, **Enter**. **Esc** clears the filter.

**u** stages the inverse of the selected entry (map → unmap or the previous mapping, property → its old
value). To undo only some of its changes, mark them with **space** in the entry's changes first; **u**
then undoes just those, in a safe order. It sends nothing: review it in the staged changes and submit it
like any change. A **Mixpanel merge cannot be undone**; the entry says so. **r** reads the journal again.
"""

    def __init__(self) -> None:
        super().__init__()
        self._all: list[JournalEntry] = []  # the whole journal; `_entries` is what the filter lets through
        self._entries: list[JournalEntry] = []
        self._ids: list[str] = []
        self._views: list[JournalEntryView] = []
        #: the content widths the table's columns were built with (recomputed on resize)
        self.column_widths: list[int] = []
        self._loading = True
        #: the user id the list is filtered by (None: every entry)
        self.user_filter: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="journal-body", classes="changes-body"):
            yield Static("Reading the journal…", id="journal-summary", classes="changes-summary")
            yield Input(placeholder="user id, then Enter (Esc clears)", id="journal-filter")
            table: DataTable[Any] = DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="journal-detail", can_focus=False):
                yield Static("", id="journal-detail-title", classes="changes-section")
                yield Static("", id="journal-detail-meta")
                yield JournalChanges(id="journal-changes")
                yield Static("", id="journal-detail-body")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#journal-table", DataTable)
        self.query_one("#journal-filter", Input).display = False
        table.focus()
        self.load()

    # -- columns sized by content ------------------------------------------------------------

    def fitted_widths(self, views: list[JournalEntryView]) -> list[int]:
        """Entry, When and Changes as wide as they are, Outcome up to its longest (capped), Summary the rest
        of the width (less the scrollbar when the rows will need one)."""
        table = self.query_one("#journal-table", DataTable)
        available = self.query_one("#journal-body").content_region.width or max(self.app.size.width - 2, 0)
        available -= table.styles.gutter.width
        if not table.size.height or len(views) + 1 > table.size.height:
            available -= table.styles.scrollbar_size_vertical
        return fit([
            Column("Entry", widest(visible(v.id) for v in views)),
            Column("When (UTC)", widest(v.when for v in views)),
            Column("Changes", widest(str(len(v.rows)) for v in views)),
            Column("Outcome", widest(visible(v.outcome) for v in views), cap=OUTCOME_CAP),
            Column("Summary", widest(visible(v.summary, limit=SUMMARY_LIMIT) for v in views), fill=True),
        ], available, padding=table.cell_padding)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if not self._loading and self.fitted_widths(self._views) != self.column_widths:
            self._fill_table()

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
        """`entries` newest first (as the journal gives them); the filter, if any, still applies."""
        from idconsole.changes import entries_touching

        self._loading = False
        self._all = list(entries)
        self._entries = self._all if self.user_filter is None else entries_touching(self._all, self.user_filter)
        self._views = [journal_entry_view(entry) for entry in self._entries]
        self._fill_table()
        count = len(self._entries)
        if self.user_filter is not None:
            who = repr(visible(self.user_filter, limit=120))
            summary = (f"{count} of {plural(len(self._all), 'entry', 'entries')} touch {who} · newest first · "
                       "Esc clears the filter" if count else
                       f"No entry of this journal touches {who} ({plural(len(self._all), 'entry', 'entries')} in "
                       "all) · Esc clears the filter")
        else:
            summary = (f"{plural(count, 'entry', 'entries')} · newest first" if count else
                       "The journal is empty: nothing has been submitted from this profile yet.")
        self.query_one("#journal-summary", Static).update(literal(summary))
        self.query_one("#journal-table").display = bool(count)
        self.show_selected()
        self.refresh_bindings()
        self.call_after_refresh(self._refit)  # the table may have just been shown: its real size decides

    def _fill_table(self) -> None:
        """(Re)build the columns at their fitted widths and the rows, keeping the selected entry."""
        table = self.query_one("#journal-table", DataTable)
        current = self.selected_id()
        self.column_widths = widths = self.fitted_widths(self._views)
        table.clear(columns=True)
        for (label, key), width in zip(COLUMNS, widths, strict=True):
            table.add_column(label, key=key, width=width)
        self._ids = []
        for view in self._views:
            table.add_row(
                cell(view.id),
                cell(view.when),
                Text(str(len(view.rows))),
                cell(view.outcome, style="bold red" if view.failed else ("yellow" if view.partial else "green")),
                cell(view.summary, limit=SUMMARY_LIMIT),
                key=view.id,
            )
            self._ids.append(view.id)
        if current in self._ids:
            table.move_cursor(row=self._ids.index(current))

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
        from idconsole.changes.journal_meta import shown

        entry = self.selected_entry()
        title = self.query_one("#journal-detail-title", Static)
        meta = self.query_one("#journal-detail-meta", Static)
        body = self.query_one("#journal-detail-body", Static)
        changes = self.query_one("#journal-changes", JournalChanges)
        changes.show_entry(entry)
        changes.display = entry is not None
        if entry is None:
            title.update("")
            meta.update("")
            body.update("")
            return
        view = journal_entry_view(entry)
        title.update(literal(f"Entry {view.id} · {view.when} · {view.outcome}"))
        meta.update(literal(f"By {shown(entry.operator)} · ticket {shown(entry.ticket)} · note "
                            f"{shown(entry.note)}", limit=600))
        self._update_body(entry)

    @staticmethod
    def _marks_hint(changes: JournalChanges) -> Text:
        if changes.marked:
            numbers = ", ".join(str(n) for n in sorted(changes.marked))
            return Text(f"Marked: {numbers} — u undoes only these (space unmarks).", style="bold")
        return Text("u undoes every change of this entry; mark some with space (Enter first) to undo only those.",
                    style="dim")

    def on_journal_changes_marks_changed(self, event: JournalChanges.MarksChanged) -> None:
        event.stop()
        entry = self.selected_entry()
        if entry is None:
            return
        self._update_body(entry)

    def _update_body(self, entry: JournalEntry) -> None:
        view = journal_entry_view(entry)
        parts: list[RenderableType] = [self._marks_hint(self.query_one("#journal-changes", JournalChanges))]
        if view.irreversible:
            parts.append(Text("\n⚠ This entry contains a Mixpanel merge: a merge cannot be undone.", style="bold red"))
        if view.undo_note:
            parts.append(cell(view.undo_note, limit=300, style="dim"))
        from rich.console import Group

        self.query_one("#journal-detail-body", Static).update(Group(*parts))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id != "journal-table":
            return
        self.show_selected()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id != "journal-table":
            return
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
        changes = self.query_one("#journal-changes", JournalChanges)
        if changes.has_focus:
            self.query_one("#journal-table").focus()
        else:
            changes.focus()

    # -- filter by user id -------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#journal-filter", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "journal-filter":
            return
        event.stop()
        self.set_user_filter(event.value or None)
        self.query_one("#journal-table").focus()

    def set_user_filter(self, user_id: str | None) -> None:
        """Show only the entries whose changes touch `user_id` (None: every entry)."""
        self.user_filter = user_id
        box = self.query_one("#journal-filter", Input)
        if user_id is None:
            box.value = ""
            box.display = False
        if not self._loading:
            self.show_entries(self._all)

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
        marks = self.query_one("#journal-changes", JournalChanges)
        numbers = sorted(marks.marked) if marks.entry_id == entry.journal_id else []
        self.undo(entry, numbers)

    @work(group="journal-undo", exclusive=True, exit_on_error=False)
    async def undo(self, entry: JournalEntry, numbers: list[int] | None = None) -> None:
        """Stage the inverse of `entry`, or only of its changes with these 1-based numbers."""
        from idconsole import changes

        view = journal_entry_view(entry)
        try:
            only = [c.id for c in changes.select_changes(entry, numbers)] if numbers else None
            # as `idconsole undo` does: ordered on the mappings the server holds now (only lookups are sent)
            inverse, notes = await changes.undo_with_lookup(self.app.active_workspace, entry, only=only)
        except Exception as exc:
            show_error(self.app, exc, context="Undo")
            return
        which = f"changes {', '.join(map(str, numbers))} of " if numbers else ""
        notes_text = " ".join(visible(n, limit=200) for n in notes)
        if not inverse:
            self.notify(
                ("Nothing to stage: " + notes_text) if notes_text else "This entry has nothing that can be undone.",
                title=f"Undo {which}{visible(view.id)}",
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
        marks = self.query_one("#journal-changes", JournalChanges)
        if numbers and marks.entry_id == entry.journal_id:
            marks.clear_marks()
        self.notify(
            f"Staged {plural(len(inverse), 'inverse change')} for {which}entry {visible(view.id)}. Nothing was sent: "
            "review them in Staged changes (S) and submit. " + notes_text,
            title="Undo staged",
            markup=False,
            timeout=10,
        )

    def action_staged(self) -> None:
        self.app.open_staged()

    def action_back(self) -> None:
        # Esc in the filter box, or with a filter on, clears the filter; otherwise it closes the journal
        if self.user_filter is not None or self.query_one("#journal-filter", Input).has_focus:
            self.set_user_filter(None)
            self.query_one("#journal-table").focus()
            return
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Journal")

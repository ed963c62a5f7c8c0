"""The changes of one journal entry, numbered as `idconsole journal show ID` numbers them, with marks.

`JournalChanges()` is a DataTable; `show_entry(entry)` fills it. **Space** marks or unmarks the change
under the cursor (a ✓ in the first column); `marked` is the set of marked 1-based numbers, which the
journal screen hands to the engine (`select_changes`) to undo just those. Marks are kept while the same
entry is shown again (a refresh) and dropped for another entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from idconsole.tui.display import cell
from idconsole.tui.staging.results_view import result_rows
from idconsole.tui.widgets.results_table import OUTCOME_STYLES, VERIFY_STYLES

if TYPE_CHECKING:
    from idconsole.changes import JournalEntry

MARK = "✓"
MAX_ROWS = 1000


def _style(styles: dict[str, str], value: str) -> str:
    return next((style for word, style in styles.items() if value.startswith(word)), "")


class JournalChanges(DataTable[Any]):
    """One entry's changes; space marks rows for a partial undo."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark for undo", id="journal.mark",
                tooltip="Mark this change; u then undoes only the marked changes"),
    ]

    class MarksChanged(Message):
        """The set of marked changes changed (the screen updates its hint)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.entry_id: str | None = None
        self.marked: set[int] = set()
        self._count = 0

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        self.add_column("#", key="n", width=4)
        self.add_column("Change", key="op", width=8)
        self.add_column("User / id", key="subject", width=30)
        self.add_column("Detail", key="detail", width=28)
        self.add_column("Outcome", key="outcome", width=20)
        self.add_column("Verification", key="verification", width=14)

    def show_entry(self, entry: JournalEntry | None) -> None:
        same = entry is not None and entry.journal_id == self.entry_id
        self.entry_id = entry.journal_id if entry is not None else None
        row = self.cursor_row if same else 0
        self.clear()
        rows = result_rows(entry) if entry is not None else []
        self._count = min(len(rows), MAX_ROWS)
        if not same:
            self.marked = set()
        self.marked = {n for n in self.marked if n <= self._count}
        for n, result in enumerate(rows[:MAX_ROWS], 1):
            self.add_row(
                Text(MARK if n in self.marked else ""),
                Text(str(n)),
                cell(result.op, style="bold red" if result.irreversible else ""),
                cell(result.subject, limit=60),
                cell(result.detail, limit=60),
                cell(result.outcome + (f": {result.error}" if result.error else ""), limit=80,
                     style=_style(OUTCOME_STYLES, result.outcome)),
                cell(result.verification or "—", limit=60, style=_style(VERIFY_STYLES, result.verification)),
                key=str(n),
            )
        if self._count:
            self.move_cursor(row=min(row, self._count - 1))
        self.post_message(self.MarksChanged())

    def action_toggle_mark(self) -> None:
        if not self._count:
            return
        n = self.cursor_row + 1
        if n in self.marked:
            self.marked.discard(n)
        else:
            self.marked.add(n)
        self.update_cell(str(n), "mark", Text(MARK if n in self.marked else ""))
        self.post_message(self.MarksChanged())

    def clear_marks(self) -> None:
        for n in self.marked:
            self.update_cell(str(n), "mark", Text(""))
        self.marked = set()
        self.post_message(self.MarksChanged())

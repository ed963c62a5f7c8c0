"""The staged changes as a table: one row per change, in the order they would be sent, keyed by change id.
Every cell is literal (ids and values are untrusted text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

from idconsole.tui.display import cell
from idconsole.tui.staging.describe import describe_change

if TYPE_CHECKING:
    from idconsole.changes import StagedEntry


class StagedTable(DataTable[Any]):
    """`StagedTable(id=...)`; `show(entries)` redraws it, `selected_id()` is the change under the cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        #: change ids, row by row
        self.ids: list[str] = []
        self.add_column("#", key="n", width=3)
        self.add_column("Vendor", key="vendor", width=9)
        self.add_column("Change", key="op", width=8)
        self.add_column("User / id", key="subject", width=36)
        self.add_column("Details", key="detail", width=39)
        self.add_column("Status", key="status", width=6)

    def show(self, entries: Sequence[StagedEntry], select_id: str | None = None) -> None:
        """Redraw from `entries`, keeping the cursor on `select_id` (default: the same change) if it is there."""
        current = select_id or self.selected_id()
        self.clear()
        self.ids = []
        for n, entry in enumerate(entries, 1):
            change = entry.change
            row = describe_change(change)
            self.add_row(
                Text(str(n), style="dim"),
                cell(row.vendor),
                cell(row.op, style="bold red" if row.irreversible else "bold"),
                cell(row.subject, limit=60),
                cell(row.detail, limit=80),
                Text("held", style="bold yellow") if entry.held else Text("staged", style="dim"),
                key=change.id,
            )
            self.ids.append(change.id)
        if current in self.ids:
            self.move_cursor(row=self.ids.index(current))

    def selected_id(self) -> str | None:
        row = self.cursor_row
        if not self.ids or row is None or not 0 <= row < len(self.ids):
            return None
        return self.ids[row]

"""A two-or-more column table of untrusted values (properties, cohorts, recommendations) with a filter.

Every cell is a Rich `Text` built from `visible()`: never parsed as markup, control characters escaped,
long values shortened (the Raw JSON tab has them in full). Nested values are compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from idconsole.tui.text import visible

#: longest text in one cell; the Raw JSON tab shows everything
CELL_LIMIT = 120


def compact(value: Any) -> str:
    """A value as one line: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):  # circular or otherwise unserialisable: still show something
        return repr(value)


def cell(value: Any, *, limit: int = CELL_LIMIT, style: str = "") -> Text:
    """A literal table cell (a Text is never read as markup by DataTable)."""
    return Text(visible(compact(value), limit=limit), style=style, no_wrap=True, overflow="ellipsis", end="")


def row_matches(row: Sequence[Any], query: str) -> bool:
    """Case-insensitive substring match on any column, raw or as shown (escaped)."""
    if not query:
        return True
    needle = query.casefold()
    for value in row:
        text = compact(value)
        if needle in text.casefold() or needle in visible(text).casefold():
            return True
    return False


class PropertyTable(DataTable):
    """`PropertyTable(columns=("Property", "Value"))`; `set_rows(rows)` / `set_mapping(dict)`;
    `apply_filter(text)` shows only rows where some column contains `text`."""

    DEFAULT_CSS = """
    PropertyTable { height: 1fr; }
    """

    def __init__(
        self,
        columns: Sequence[str] = ("Property", "Value"),
        *,
        empty: str = "(none)",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = tuple(columns)
        self._rows: list[tuple[Any, ...]] = []
        self._filter = ""
        self._empty = empty
        self.shown_rows: list[tuple[Any, ...]] = []

    def on_mount(self) -> None:
        for name in self._columns:
            self.add_column(name, key=name)
        self._render_rows()

    @property
    def total(self) -> int:
        return len(self._rows)

    def set_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows = [tuple(r) for r in rows]
        self._render_rows()

    def set_mapping(self, mapping: Mapping[Any, Any]) -> None:
        self.set_rows((key, value) for key, value in mapping.items())

    def selected_row(self) -> tuple[Any, ...] | None:
        """The raw (unescaped) row under the cursor, or None on the empty-note row."""
        if not self.shown_rows or not 0 <= self.cursor_row < len(self.shown_rows):
            return None
        return self.shown_rows[self.cursor_row]

    def apply_filter(self, query: str) -> int:
        """Show only matching rows; returns how many are shown."""
        self._filter = query
        self._render_rows()
        return len(self.shown_rows)

    def _render_rows(self) -> None:
        if not self.is_mounted or not self.columns:
            return
        self.clear()
        self.shown_rows = [r for r in self._rows if row_matches(r, self._filter)]
        for index, row in enumerate(self.shown_rows):
            cells = [cell(v, style="bold" if i == 0 else "") for i, v in enumerate(row)]
            cells += [Text("")] * (len(self._columns) - len(cells))
            self.add_row(*cells[: len(self._columns)], key=str(index))
        if not self.shown_rows:
            note = self._empty if not self._rows else f"(nothing matches “{visible(self._filter, limit=40)}”)"
            blanks = [Text("")] * (len(self._columns) - 1)
            self.add_row(Text(note, style="dim italic"), *blanks, key="empty")

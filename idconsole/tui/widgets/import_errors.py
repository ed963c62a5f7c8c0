"""Under the staged table: why the last CSV import staged nothing, one line per bad row with its line
number. Its own widget (not the row note, which follows the cursor) so moving in the table keeps it;
it goes when an import succeeds or `dismiss()` is called."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from idconsole.tui.display import plural
from idconsole.tui.text import literal

#: bad rows listed; the rest are counted (`idconsole stage import FILE` lists up to 50)
SHOWN = 8


class ImportErrors(Static):
    """`ImportErrors(id=...)`: hidden until `show(source, rows)`; every text shown literally."""

    DEFAULT_CSS = """
    ImportErrors {
        height: auto;
        max-height: 11;
        color: $text-warning;
        border-left: thick $warning;
        padding: 0 1;
        margin: 0 0 1 0;
        display: none;
    }
    """

    def show(self, source: str, rows: list[tuple[int, str]]) -> None:
        lines = [literal(f"Import of {source}: {plural(len(rows), 'bad row')}; nothing was staged. "
                         "Fix them and import the file again.", limit=200, style="bold")]
        lines += [literal(f"line {line}: {reason}", limit=160) for line, reason in rows[:SHOWN]]
        if len(rows) > SHOWN:
            lines.append(literal(f"… and {len(rows) - SHOWN} more (`idconsole stage import` lists up to 50)"))
        self.update(Content("\n").join(lines))
        self.display = True

    def dismiss(self) -> None:
        self.update("")
        self.display = False

"""The per-change table of a submit (results screen) or of a journal entry (journal screen)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from idconsole.tui.display import cell
from idconsole.tui.staging.results_view import ResultRow

OUTCOME_STYLES = {"sent": "green", "rejected": "bold red", "unknown": "bold yellow", "not applied": "yellow",
                  "not sent": "yellow"}
VERIFY_STYLES = {"confirmed": "green", "pending": "yellow", "failed": "bold red", "unverifiable": "dim"}

#: change, who, what, how it went, what reading it back showed
RESULT_COLUMNS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Change", {"width": 8}),
    ("User / id", {"ratio": 3}),
    ("Detail", {"ratio": 3}),
    ("Outcome", {"ratio": 4}),
    ("Verification", {"ratio": 3}),
)


def _style(styles: dict[str, str], value: str) -> str:
    for word, style in styles.items():
        if value.startswith(word):
            return style
    return ""


def results_table(rows: Sequence[ResultRow], *, max_rows: int, limits: tuple[int, int, int, int],
                  coloured: bool) -> Table:
    """`limits`: longest user / detail / outcome / verification text; `coloured` styles outcomes and
    verifications by how they went."""
    subject, detail, outcome, verification = limits
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold")
    for column, options in RESULT_COLUMNS:
        table.add_column(column, overflow="ellipsis", no_wrap=True, **options)
    for row in rows[:max_rows]:
        table.add_row(
            cell(row.op, style="bold red" if row.irreversible else ""),
            cell(row.subject, limit=subject),
            cell(row.detail, limit=detail),
            cell(row.outcome + (f": {row.error}" if row.error else ""), limit=outcome,
                 style=_style(OUTCOME_STYLES, row.outcome) if coloured else ""),
            cell(row.verification or "—", limit=verification,
                 style=_style(VERIFY_STYLES, row.verification) if coloured else ""),
        )
    if len(rows) > max_rows:
        table.add_row(Text(f"… and {len(rows) - max_rows:,} more", style="dim"), "", "", "", "")
    return table

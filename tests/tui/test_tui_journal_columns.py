"""The journal list's columns are sized by what they hold: Entry, When and Changes as wide as their content,
Outcome up to its longest value, Summary the rest of the screen's width (again after a resize), never a
column narrower than its header. Before, the widths were fixed (20, 19, 7, 24, 34) and a long summary was
cut at 34 cells whatever the width of the terminal."""

from __future__ import annotations

from typing import Any

import pytest
from journal_support import write_entry
from textual.widgets import DataTable
from tui_support import make_app, settle

from idconsole.changes.model import Change
from idconsole.tui.column_fit import Column, fit
from idconsole.tui.screens.journal import JournalScreen

pytestmark = pytest.mark.usefixtures("tui_env")

OLD_SUMMARY_WIDTH = 34
HEADERS = {"id": "Entry", "when": "When (UTC)", "changes": "Changes", "outcome": "Outcome", "summary": "Summary"}


def write_long_entry(ws: Any) -> None:
    changes = [Change.map(f"customer-with-a-rather-long-identifier-{n:04d}@example-enterprise.com",
                          f"global-account-{n:04d}@example-enterprise.com") for n in range(5)]
    write_entry(ws.journal, "20250611-093000-ab12", changes, {"mappings": {}, "mappings_read": True},
                at="2025-06-11T09:30:00.000+00:00")
    write_entry(ws.journal, "20250611-101500-cd34", changes[:1], {"mappings": {}, "mappings_read": True},
                at="2025-06-11T10:15:00.000+00:00", acked=[])


def widths(table: DataTable[Any]) -> dict[str, int]:
    return {str(key.value): column.width for key, column in table.columns.items()}


def row_width(table: DataTable[Any]) -> int:
    return sum(column.get_render_width(table) for column in table.columns.values())


def check_fitted(screen: JournalScreen) -> dict[str, int]:
    table = screen.query_one("#journal-table", DataTable)
    got = widths(table)
    assert list(got) == list(HEADERS)
    for key, header in HEADERS.items():
        assert got[key] >= len(header), (key, got)
    assert got["id"] == len("20250611-093000-ab12") and got["when"] == len("2025-06-11 09:30:00")
    assert got["changes"] == len("Changes")
    assert got["outcome"] <= 32
    # the row fills the table's width (less the scrollbar when there is one), never more: no sideways scroll
    room = table.scrollable_content_region.width
    assert row_width(table) == room, (row_width(table), room, got)
    assert table.virtual_size.width <= table.size.width
    return got


async def open_journal(app: Any, pilot: Any) -> JournalScreen:
    app.push_screen(JournalScreen())
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, JournalScreen)
    return screen


async def test_at_120_columns_the_summary_takes_the_rest(demo_workspace: Any) -> None:
    write_long_entry(demo_workspace)
    app = make_app(demo_workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_journal(app, pilot)
        got = check_fitted(screen)
        assert got["summary"] > OLD_SUMMARY_WIDTH
        assert got["outcome"] == len("1 rejected")  # its longest value, not a fixed 24
        # the full summary is in the cell (cut by the column with an ellipsis); the detail lists every change
        cell = screen.query_one("#journal-table", DataTable).get_row_at(1)[4]
        assert "… 2 more" in str(cell) and len(str(cell)) > got["summary"]


async def test_at_80x24_every_header_fits_and_a_resize_refits(demo_workspace: Any) -> None:
    write_long_entry(demo_workspace)
    app = make_app(demo_workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_journal(app, pilot)
        narrow = check_fitted(screen)
        assert narrow["outcome"] == len("1 rejected")  # still whole: the summary gives way (cut with …)
        assert narrow["summary"] >= len("Summary")
        await pilot.resize_terminal(120, 40)
        await settle(pilot, app)
        wide = check_fitted(screen)
        assert wide["summary"] == narrow["summary"] + 40
        assert screen.selected_id() == "20250611-101500-cd34"  # the cursor stays on its entry


def test_fit_gives_way_capped_columns_first_and_never_cuts_a_header() -> None:
    columns = [Column("Entry", 20), Column("Outcome", 40, cap=24), Column("Summary", 300, fill=True)]
    assert fit(columns, 100) == [20, 24, 100 - 6 - 20 - 24]      # capped; the summary takes the rest
    assert fit(columns, 6 + 20 + 24 + 3) == [20, 20, 7]          # the summary keeps its header: Outcome gives way
    assert fit(columns, 20) == [20, 7, 7]                        # too narrow for anything: headers, then scroll
    assert fit([Column("Id", 1), Column("Text", 2, fill=True)], 30, padding=0) == [2, 28]

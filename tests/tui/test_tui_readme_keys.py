"""The README's keys table says what the footers show: every key a screen's footer offers is in the
table, for that screen (or "everywhere"), with the same key. Read from the README itself and from the
footers of the running console at 120x40, so neither can drift from the other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.changes import Change
from idconsole.sandbox import demo
from idconsole.tui.screens.journal import JournalScreen
from idconsole.tui.screens.mixpanel_view import MixpanelViewScreen
from idconsole.tui.screens.plan import PlanScreen
from idconsole.tui.screens.profile import ProfileScreen
from idconsole.tui.screens.report import ReportScreen
from idconsole.tui.screens.staged import StagedScreen

pytestmark = pytest.mark.usefixtures("tui_env")

README = Path(__file__).resolve().parents[2] / "README.md"
#: how the README spells a key that the footer shows differently
SPELLED = {"del": "delete", "esc": "escape", "return": "enter", "↑": "up", "↓": "down", "⏎": "enter"}


def normal(key: str) -> str:
    key = key.strip().strip("`").lower().replace("ctrl+", "^")
    return SPELLED.get(key, key)


def readme_rows() -> list[tuple[set[str], str]]:
    """(keys, where) per row of the keys table; `where` without the *(palette)* note."""
    text = README.read_text("utf-8")
    table = text[text.index("| key | where | what |"):].split("\n\n", 1)[0].splitlines()[2:]
    rows = []
    for line in table:
        keys_cell, where, _what = (cell.strip() for cell in line.strip("|").split("|", 2))
        keys = {normal(k) for k in re.findall(r"`([^`]+)`", keys_cell)}
        keys |= {normal(word) for word in re.findall(r"\b(Enter|Esc|space|Del)\b", keys_cell)}
        for spread in re.findall(r"`(\d)`–`(\d)`", keys_cell):  # `1`–`6`
            keys |= {str(n) for n in range(int(spread[0]), int(spread[1]) + 1)}
        rows.append((keys, where.replace("*(palette)*", "").strip()))
    return rows


def footer(app: Any) -> list[tuple[str, str]]:
    return [(normal(str(k.key_display)), str(k.description)) for k in app.screen.query_one(Footer).query("FooterKey")]


def missing_from_readme(app: Any, where: str) -> list[tuple[str, str]]:
    rows = readme_rows()
    return [(key, what) for key, what in footer(app)
            if not any(key in keys and (w == "everywhere" or w.startswith(where)) for keys, w in rows)]


async def look_up(app: Any, pilot: Any, query: str) -> None:
    app.screen.query_one("#lookup-input", Input).value = query
    await pilot.press("enter")
    await settle(pilot, app)


def test_the_table_is_read() -> None:
    rows = readme_rows()
    assert len(rows) > 30 and ({"?", "f1"}, "everywhere") in rows
    assert any("^↑" in keys or "^up" in keys for keys, _ in rows)


async def test_every_footer_key_is_in_the_readme(demo_workspace: Any) -> None:
    ws = demo_workspace
    ws.staged.add(Change.map("readme-keys-user@example.com", demo.STORY_USER))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        problems: dict[str, list[tuple[str, str]]] = {}
        problems["Lookup box"] = missing_from_readme(app, "Lookup")
        await look_up(app, pilot, demo.STORY_USER)
        problems["Lookup tree"] = missing_from_readme(app, "Lookup")
        await pilot.press("t")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "TimelineScreen"
        problems["Timeline"] = missing_from_readme(app, "Timeline")
        for screen, where in ((ProfileScreen(demo.STORY_USER), "Profile"), (StagedScreen(), "Staged changes"),
                              (PlanScreen(), "Plan"), (JournalScreen(), "Journal"),
                              (MixpanelViewScreen(demo.STORY_USER), "Mixpanel view"),
                              (ReportScreen(demo.STORY_USER), "Report")):
            app.push_screen(screen)
            await settle(pilot, app)
            assert app.screen is screen
            problems[where] = missing_from_readme(app, where)
        app.action_connections()
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ConnectionsScreen"
        problems["Connections"] = missing_from_readme(app, "Connections")
    assert {where: keys for where, keys in problems.items() if keys} == {}

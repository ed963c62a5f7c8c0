"""Hostile ids and property values, seeded into the sandbox and looked up through the TUI: shown
literally (brackets stay brackets, escapes are made visible), nothing is triggered, the app keeps running.

What is checked is what a user would see: the exported screenshot text of the screen.
"""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input
from tui_support import TUI_SIZE, make_app, screen_text, settle

from idconsole.identity import graph as g
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.profile import ProfileScreen
from idconsole.tui.widgets.property_table import PropertyTable
from idconsole.tui.widgets.recent_lookups import RecentLookupsScreen
from idconsole.workspace import Workspace

pytestmark = pytest.mark.usefixtures("tui_env")

PARENT = "hostile-parent@example.com"
MARKUP = ["[bold red]x[/]", "[@click=app.quit]x[/]", "[link=https://evil.example]x[/link]"]
ANSI = "ansi-\x1b[31mRED\x1b[0m-\x07bell\x9b2J"
CONTROL = "ctl-\x00nul\r\nline2\ttab\x7fdel"
ZERO_WIDTH = "zw\u200b\u200d\ufeffuser"
RTL = "invoice-\u202egnp.exe"
RTL_SCRIPT = "משתמש@דוגמה.ישראל"
WIDE = "王小明🦄" * 20
LONG = "long-" + "x" * 9_995  # 10,000 characters
HOSTILE = [*MARKUP, ANSI, CONTROL, ZERO_WIDTH, RTL, RTL_SCRIPT, WIDE, LONG]

HOSTILE_PROPERTIES = {
    "[bold]key[/]": "[@click=app.quit]click me[/]",
    "link": "[link=https://evil.example]x[/link]",
    "ansi": ANSI,
    "control": CONTROL,
    "zero_width": ZERO_WIDTH,
    "rtl": RTL,
    "wide": WIDE,
    "long": LONG,
    "nested": {"a": ["[b]x[/b]", {"deep": "\x1b]52;c;AAAA\x07"}]},
}


async def seed(ws: Workspace) -> None:
    body = {
        "users": [{"user_id": h, "user_properties": HOSTILE_PROPERTIES} for h in HOSTILE],
        "mappings": [[h, PARENT] for h in HOSTILE],
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        response = await client.post("/_sandbox/users", json=body)
        assert response.status_code == 200, response.text


async def lookup(pilot, app, query: str) -> LookupScreen:
    screen = app.screen
    box = screen.query_one("#lookup-input", Input)
    box.focus()
    box.value = query
    await pilot.press("enter")
    await settle(pilot, app)
    return screen


@pytest.fixture
async def hostile_workspace(demo_workspace):
    await seed(demo_workspace)
    return demo_workspace


async def test_hostile_children_are_shown_literally(hostile_workspace):
    app = make_app(hostile_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, PARENT)
        tree = screen.identity_tree
        shown = [n.data.user_id for n in tree.iter_nodes() if n.data is not None and n.data.kind == g.USER]
        assert set(HOSTILE) <= set(shown)
        text = screen_text(app)
        for markup in MARKUP:
            assert markup in text, markup
        assert "ansi-\\x1b[31mRED\\x1b[0m-\\x07bell\\x9b2J" in text
        assert "ctl-\\x00nul\\x0d\\x0aline2\\x09tab\\x7fdel" in text
        assert "zw\\u200b\\u200d\\ufeffuser" in text
        assert "invoice-\\u202egnp.exe" in text
        assert "\x1b" not in text and "\u202e" not in text and "\u200b" not in text
        # long ids are shortened in the tree (full in the side panel)
        long_label = next(n.label.plain for n in tree.iter_nodes()
                          if n.data is not None and n.data.user_id == LONG)
        assert len(long_label) < 80 and "…" in long_label
        assert app.is_running


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: repr(h[:12]))
async def test_each_hostile_id_looked_up_selected_copied_and_profiled(hostile_workspace, hostile):
    app = make_app(hostile_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, hostile)
        assert screen.resolved_user == hostile
        tree = screen.identity_tree
        # the side panel has the full id, escaped
        details = str(screen.query_one("#node-details-body").render())
        if hostile == LONG:
            assert LONG in details and "(10000 characters)" in details
        if hostile in MARKUP:
            assert hostile in screen_text(app)
        # click the root label (a parsed [@click] would run app.quit); Enter semantics open the profile
        await pilot.click(IdentityTreeSelector, offset=(4, 1))
        await settle(pilot, app)
        assert app.is_running and app.return_value is None
        if isinstance(app.screen, ProfileScreen):
            await pilot.press("escape")
            await pilot.pause()
        tree.move_cursor(tree.root)
        await pilot.press("c")
        assert app.clipboard == hostile
        await pilot.press("p")
        await settle(pilot, app)
        profile = app.screen
        assert isinstance(profile, ProfileScreen) and profile.user_id == hostile
        assert profile.message == "", profile.message
        assert dict(profile.query_one("#user-props", PropertyTable).shown_rows)["link"] == MARKUP[2]
        assert app.is_running


async def test_hostile_property_values_are_literal_and_clicks_do_nothing(hostile_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the export (e) writes to the current directory
    app = make_app(hostile_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(ProfileScreen(MARKUP[1]))
        await settle(pilot, app)
        screen = app.screen
        text = screen_text(app)
        assert "[@click=app.quit]click me[/]" in text
        assert "[bold]key[/]" in text and "[link=https://evil.example]x[/link]" in text
        assert '["[b]x[/b]",{"deep":"\\u001b]52;c;AAAA\\u0007"}]' in text  # nested: compact JSON, escaped
        assert "\x1b" not in text
        # click every row of the table: a parsed [@click=app.quit] would quit
        table = screen.query_one("#user-props", PropertyTable)
        for row in range(len(table.shown_rows)):
            await pilot.click("#user-props", offset=(table.size.width // 2, row + 1))
            await pilot.click("#user-props", offset=(30, row + 1))
        await pilot.pause()
        assert app.is_running and app.return_value is None
        # raw JSON: control characters escaped, brackets literal
        raw = screen.query_one("#raw-json").text
        assert "[@click=app.quit]click me[/]" in raw and "\x1b" not in raw and "\u202e" not in raw
        # the filter matches hostile values literally
        screen.query_one("#profile-filter", Input).value = "[@click"
        await pilot.pause()
        assert "[bold]key[/]" in [r[0] for r in table.shown_rows]
        assert all("[@click" in r[1] for r in table.shown_rows) and len(table.shown_rows) < table.total
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")  # the Export to dialog's default: the current directory
        await pilot.pause()
        assert screen.exported is not None and "[" not in screen.exported.name
        assert app.is_running


async def test_hostile_recent_lookups_and_notifications(hostile_workspace):
    app = make_app(hostile_workspace)
    seen: list[tuple[str, bool]] = []
    original = app.notify
    app.notify = lambda message, **kw: (seen.append((message, kw.get("markup", True))), original(message, **kw))
    async with app.run_test(size=TUI_SIZE) as pilot:
        for hostile in (MARKUP[1], ANSI, LONG):
            screen = await lookup(pilot, app, hostile)
        screen.identity_tree.move_cursor(screen.identity_tree.root)
        await pilot.press("c")
        await pilot.pause()
        assert all(markup is False for _, markup in seen)
        copied = [m for m, _ in seen if m.startswith("Copied")]
        assert copied and "(10000 characters)" in copied[-1] and len(copied[-1]) < 200
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RecentLookupsScreen)
        text = screen_text(app)
        assert MARKUP[1] in text and "ansi-\\x1b[31mRED" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running


async def test_junk_ids_are_flagged(demo_workspace):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo_workspace.sandbox_app),
                                 base_url=demo_workspace.connection.base_url) as client:
        await client.post("/_sandbox/users", json={"mappings": [["null", "junk-collector-1"]]})
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, "null")
        assert screen.resolved_user == "null"
        assert "⚠ junk id" in screen.identity_tree.root.label.plain
        assert "Junk id" in str(screen.query_one("#node-details-body").render())


IdentityTreeSelector = "#identity-tree"

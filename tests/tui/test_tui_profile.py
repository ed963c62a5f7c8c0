"""Pilot tests of the Profile inspector on the in-process demo sandbox (no timing: `settle` waits)."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
from textual.widgets import Input, TabbedContent, TextArea
from tui_support import TUI_SIZE, make_app, settle

from idconsole.sandbox import SandboxConfig, create_app, demo
from idconsole.tui.export_path import profile_file_name
from idconsole.tui.profile_data import pretty_json
from idconsole.tui.screens.export_dialog import ExportDialog
from idconsole.tui.screens.profile import EU_MESSAGE, ProfileScreen
from idconsole.tui.widgets.property_table import PropertyTable
from idconsole.workspace import Workspace

pytestmark = pytest.mark.usefixtures("tui_env")


async def open_profile(pilot, app, user_id: str, **kwargs) -> ProfileScreen:
    await settle(pilot, app)
    screen = ProfileScreen(user_id, **kwargs)
    app.push_screen(screen)
    await settle(pilot, app)
    return screen


def rows(screen: ProfileScreen, table_id: str) -> list[tuple]:
    return screen.query_one(f"#{table_id}", PropertyTable).shown_rows


async def show_tab(pilot, screen: ProfileScreen, tab_id: str) -> None:
    screen.query_one("#profile-tabs", TabbedContent).active = tab_id
    await pilot.pause()


async def test_amplitude_tabs_show_values(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        assert screen.message == ""
        props = dict(rows(screen, "user-props"))
        assert props["email"] == demo.STORY_USER and props["name"] == "Hank Scorpio"
        assert "computed-prop-12" in dict(rows(screen, "computed-props"))
        assert rows(screen, "cohorts") == [("x7kq2p1",), ("c0hrt55",)]
        recs = rows(screen, "recs")
        assert recs[0][0] == "rec-home-feed" and recs[0][2] == "no" and recs[0][3] == "model"
        assert recs[0][4] == "For you" and recs[0][1] == "8 items"  # a count: Control/Source/Title stay on screen
        assert rows(screen, "propensities") == [("pred-churn-30d", "score", 0.8312)]
        raw = screen.query_one("#raw-json", TextArea)
        assert json.loads(raw.text)["userData"]["user_id"] == demo.STORY_USER
        assert raw.read_only
        # the table has focus, not the filter (so the screen's keys work)
        assert isinstance(app.focused, PropertyTable)
        for tab in ("tab-computed", "tab-cohorts", "tab-recs", "tab-propensities", "tab-raw", "tab-user"):
            await show_tab(pilot, screen, tab)
            assert screen.query_one("#profile-tabs", TabbedContent).active == tab


async def test_control_group_recommendation_says_yes(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.CONTROL_GROUP_USER)
        (rec,) = rows(screen, "recs")
        assert rec[0] == "rec-upsell" and rec[2] == "yes"


async def test_asking_for_other_rec_ids_refetches(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        await show_tab(pilot, screen, "tab-recs")
        box = screen.query_one("#rec-ids", Input)
        box.focus()
        box.value = "no-such-rec"
        await pilot.press("enter")
        await settle(pilot, app)
        assert rows(screen, "recs") == []
        assert "no recommendations" in str(screen.query_one("#recs", PropertyTable).get_row_at(0)[0])


async def test_filter_matches_key_or_value(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#profile-filter")
        await pilot.press(*"PLAN")
        await pilot.pause()
        assert rows(screen, "user-props") == [("plan", "enterprise")]  # key, case-insensitive
        screen.query_one("#profile-filter", Input).value = "scorpio"
        await pilot.pause()
        assert rows(screen, "user-props") == [("name", "Hank Scorpio")]  # value
        screen.query_one("#profile-filter", Input).value = "zzz-nothing"
        await pilot.pause()
        assert rows(screen, "user-props") == []
        assert "nothing matches" in str(screen.query_one("#user-props", PropertyTable).get_row_at(0)[0])
        screen.query_one("#profile-filter", Input).value = ""
        await pilot.pause()
        assert len(rows(screen, "user-props")) == 7


async def test_export_writes_valid_json_to_the_current_directory_and_says_where(demo_workspace, tmp_path,
                                                                                 monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)  # "Export to", prefilled: Enter accepts it
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.exported is not None and screen.exported.parent == here
        assert screen.exported.stat().st_mode & 0o777 == 0o600  # personal data: owner-only
        assert any(n.title == "Exported" and str(screen.exported) in n.message for n in app.notifications)
        data = json.loads(screen.exported.read_text(encoding="utf-8"))
        assert data["user_id"] == demo.STORY_USER and data["user_properties"]["plan"] == "enterprise"
        assert data["recommendations"][0]["rec_id"] == "rec-home-feed"
        assert [p.name for p in here.iterdir()] == [screen.exported.name]  # no temp file left behind


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "[bold]x[/]", "a/b\\c", ".hidden", "", "\x1b[31m",
                                     "x" * 10_000, "王小明@例子.公司"])
def test_export_file_names_are_safe(hostile):
    name = profile_file_name(hostile)
    assert name.startswith("profile-") and name.endswith(".json")
    assert "/" not in name and "\\" not in name and ".." not in name.removesuffix(".json")
    assert len(name) < 100 and name.isascii()
    assert profile_file_name(hostile) != profile_file_name(hostile + "?")  # distinct ids, distinct files


def test_pretty_json_is_visible():
    text = pretty_json({"k": "a\u202eb\u200bc\x1b[31m\u2028"})
    assert "\\u202e" in text and "\\u200b" in text and "\\u2028" in text and "\x1b" not in text


async def test_mixpanel_profile_shows_the_canonical_id(demo_workspace):
    alias, canonical = demo.MP_ALIAS
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, alias, vendor="mixpanel")
        note = str(screen.query_one("#profile-note").render())
        assert f"Canonical distinct id: {canonical}" in note and "not the id asked for" in note
        assert dict(rows(screen, "mp-props"))["$email"]
        raw = json.loads(screen.query_one("#raw-json", TextArea).text)
        assert raw["distinct_id"] == canonical and raw["requested_id"] == alias
        app.pop_screen()
        screen = await open_profile(pilot, app, canonical, vendor="mixpanel")
        assert "(the id asked for)" in str(screen.query_one("#profile-note").render())


async def test_eu_profile_says_it_is_not_offered(tmp_path):
    connection = Workspace.demo(state_dir=tmp_path / "s").connection
    ws = Workspace.open(dataclasses.replace(connection, region="eu"),
                        transport=httpx.ASGITransport(app=create_app(SandboxConfig())), state_dir=tmp_path / "eu")
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        assert screen.message == EU_MESSAGE
        assert "not offered in the EU region" in str(screen.query_one("#profile-message").render())
        assert not screen.query_one("#profile-tabs").display
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProfileScreen)


async def test_unknown_user_profile_is_a_clear_message(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, "never-seen-user-9")
        assert "Could not load the profile" in screen.message and "never-seen-user-9" in screen.message
        assert app.is_running
        await pilot.press("r")  # reload: the same clear message, no crash
        await settle(pilot, app)
        assert "Could not load the profile" in screen.message


async def test_set_and_unset_stage_the_selected_property(demo_workspace):
    from idconsole.tui.screens.stage_dialog import StageChangeDialog

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        table = screen.query_one("#user-props", PropertyTable)
        table.focus()
        names = [row[0] for row in table.shown_rows]
        table.move_cursor(row=names.index("plan"))
        await pilot.press("s")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog) and dialog.kind == "identify"
        assert dialog.query_one("#input-key", Input).value == "plan"
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        (change,) = list(demo_workspace.staged)
        assert change.op == "identify" and change.user_id == demo.STORY_USER
        # nothing was sent: staging only
        assert app.screen is screen
        await pilot.press("u")
        await settle(pilot, app)
        assert isinstance(app.screen, StageChangeDialog)
        assert app.screen.query_one("#input-key", Input).value == "plan"


async def test_staging_keys_are_hidden_for_mixpanel_and_readonly(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER, vendor="mixpanel")
        assert screen.check_action("stage_set", ()) is False
    demo_workspace.readonly = True
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_profile(pilot, app, demo.STORY_USER)
        assert screen.check_action("stage_set", ()) is False
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is screen

"""Pilot tests of the Compare view on the demo sandbox: the story's fix (the phone user mapped into hank)
compared from Lookup (`C`), from the stage dialog and from the plan; hostile values shown literally."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.changes import Change
from idconsole.identity import graph as g
from idconsole.identity.compare import RIGHT, Side, build_comparison
from idconsole.sandbox import demo
from idconsole.tui.screens.compare import CompareScreen, compare_for
from idconsole.tui.screens.lookup import LookupScreen

pytestmark = pytest.mark.usefixtures("tui_env")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def rows(screen, selector: str) -> list[str]:
    table = screen.query_one(selector, DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def look_up(pilot, app, query: str) -> LookupScreen:
    screen = app.screen
    box = screen.query_one("#lookup-input", Input)
    box.value = query
    box.focus()
    await pilot.press("enter")
    await settle(pilot, app)
    return screen


async def test_compare_the_phone_user_with_hank_from_lookup(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = await look_up(pilot, app, demo.STORY_USER)
        tree = screen.identity_tree
        node = next(n for n in tree.iter_nodes()
                    if n.data is not None and n.data.kind == g.USER and n.data.user_id == demo.STORY_PHONE_USER)
        tree.move_cursor(node)
        tree.focus()
        await pilot.pause()
        await pilot.press("C")
        await settle(pilot, app)
        view = app.screen
        assert isinstance(view, CompareScreen)
        c = view.comparison
        assert c is not None and (c.left.id, c.right.id) == (demo.STORY_PHONE_USER, demo.STORY_USER)
        assert c.kept == RIGHT
        assert "Amplitude does not merge user properties" in text_of(view, "#compare-rule")
        sides = rows(view, "#compare-sides")
        assert any(r.startswith("events") for r in sides) and any(r.startswith("last seen") for r in sides)
        props = rows(view, "#compare-props")
        assert any(r.startswith("plan") and "enterprise" in r and "free" in r for r in props)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)


async def test_compare_needs_another_user_selected(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = await look_up(pilot, app, demo.STORY_USER)
        screen.identity_tree.focus()
        await pilot.press("C")
        await settle(pilot, app)
        assert isinstance(app.screen, LookupScreen)
        assert any(n.title == "Select a user" for n in app.notifications)


async def test_compare_from_the_stage_dialog(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        from idconsole.tui.staging import actions

        actions.stage_map(app, demo.STORY_PHONE_USER, demo.STORY_USER)
        await settle(pilot, app)
        await pilot.press("ctrl+r")
        await settle(pilot, app)
        view = app.screen
        assert isinstance(view, CompareScreen) and view.op == "map"
        assert (view.left_id, view.right_id) == (demo.STORY_PHONE_USER, demo.STORY_USER)
        assert view.comparison is not None


async def compare_from_the_plan(pilot, app) -> None:
    """Open the plan of the staged set and press C in it."""
    await settle(pilot, app)
    app.open_plan()
    await settle(pilot, app)
    await pilot.press("C")
    await settle(pilot, app)


async def test_compare_from_the_plan(demo_workspace):
    demo_workspace.staged.extend([Change.unmap(demo.STORY_USER), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER)])
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await compare_from_the_plan(pilot, app)
        view = app.screen
        assert isinstance(view, CompareScreen)
        assert (view.left_id, view.right_id) == (demo.STORY_PHONE_USER, demo.STORY_USER)


async def test_compare_from_a_plan_with_several_maps_asks_which(demo_workspace):
    from textual.widgets import OptionList

    from idconsole.tui.screens.compare_pick import ComparePickScreen

    demo_workspace.staged.extend([Change.unmap(demo.STORY_USER), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER),
                                  Change.mp_merge(demo.STORY_MP_PHONE_ANON, demo.STORY_USER)])
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await compare_from_the_plan(pilot, app)
        picker = app.screen
        assert isinstance(picker, ComparePickScreen)
        options = picker.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            f"change 2: map {demo.STORY_PHONE_USER} → {demo.STORY_USER}",
            f"change 3: MERGE {demo.STORY_MP_PHONE_ANON} + {demo.STORY_USER} (irreversible)",
        ]
        await pilot.press("down", "enter")  # the second one: the merge
        await settle(pilot, app)
        view = app.screen
        assert isinstance(view, CompareScreen) and view.op == "mp_merge"
        assert (view.left_id, view.right_id) == (demo.STORY_MP_PHONE_ANON, demo.STORY_USER)
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("C", "escape")  # Esc closes the question; nothing opens
        await settle(pilot, app)
        assert type(app.screen).__name__ == "PlanScreen"


def test_compare_for_only_maps_and_merges_with_both_ids():
    assert compare_for("unmap", {"user_id": "a"}) is None
    assert compare_for("map", {"user_id": "a", "global_user_id": " "}) is None
    screen = compare_for("mp_merge", {"id_a": "a", "id_b": "b"})
    assert screen is not None and (screen.left_id, screen.right_id, screen.op) == ("a", "b", "mp_merge")


async def test_hostile_values_are_shown_literally(demo_workspace):
    left = Side("[bold red]admin[/]", True, {"plan": "[b]x[/b]\x1b[31m", "$(rm)": 1}, events=3)
    right = Side("b", True, {"plan": "free"}, events=1)
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = CompareScreen(left.id, right.id)
        app.push_screen(view)
        await settle(pilot, app)
        view.show_comparison(build_comparison("map", left, right))
        await pilot.pause()
        props = "\n".join(rows(view, "#compare-props"))
        assert "[b]x[/b]\\x1b[31m" in props and "$(rm)" in props and "\x1b" not in props
        assert "[bold red]admin[/]" in "\n".join(rows(view, "#compare-sides"))


async def test_compare_a_mixpanel_identify(demo_workspace):
    """The phone's anonymous cluster vs hank in Mixpanel: the canonical (identified) profile survives."""
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = CompareScreen(demo.STORY_MP_PHONE_ANON, demo.STORY_USER, op="mp_identify")
        app.push_screen(view)
        await settle(pilot, app)
        c = view.comparison
        assert c is not None and c.kept == RIGHT and c.left.found and c.right.found
        rule = text_of(view, "#compare-rule")
        assert "Mixpanel $identify" in rule and "hides the other" in rule
        assert any(r.startswith("$os") or r.startswith("$email") for r in rows(view, "#compare-props"))

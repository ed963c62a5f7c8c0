"""The keyboard flow of issue 12: the lookup box replaces its text on focus, `?` on an empty box opens
the help, the footer always offers Help and Quit, the palette lists every action whatever has focus."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.tui.commands import screen_commands
from idconsole.tui.screens.help import HelpScreen
from idconsole.tui.screens.lookup import LookupScreen

pytestmark = pytest.mark.usefixtures("tui_env")


def footer_keys(app) -> dict[str, str]:
    """description -> key as the footer shows it."""
    footer = app.screen.query_one(Footer)
    return {str(key.description): str(key.key_display) for key in footer.query("FooterKey")}


async def test_slash_selects_the_box_so_the_next_id_replaces_the_last(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press(*"hank@globex.net", "enter")
        await settle(pilot, app)
        assert app.focused is not app.screen.query_one("#lookup-input")  # the tree has it now
        await pilot.press("slash", *"chain-a@example.com")
        box = app.screen.query_one("#lookup-input", Input)
        assert box.value == "chain-a@example.com"
        # and with the box already focused, `/` is text — but focusing it again selects
        box.value = "old-id"
        app.screen.action_focus_input()
        await pilot.press("x")
        assert box.value == "x"


async def test_question_mark_on_the_empty_box_opens_help_but_is_text_after_a_character(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        box = app.screen.query_one("#lookup-input", Input)
        assert app.focused is box and box.value == ""
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert box.value == ""
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("a", "question_mark", "q")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)
        assert box.value == "a?q"  # ids may hold both; q never quits from the box
        assert app.is_running


async def test_the_first_screen_footer_shows_help_and_quit_while_typing(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        keys = footer_keys(app)
        assert keys.get("Help") == "?"  # empty box: ? works
        assert keys.get("Quit") == "^q"
        await pilot.press("h")
        await pilot.pause()
        keys = footer_keys(app)
        assert keys.get("Help") == "f1" and keys.get("Quit") == "^q"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


async def test_palette_lists_every_action_while_the_box_has_focus(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        assert app.focused is app.screen.query_one("#lookup-input")
        commands = {c.name: c.keys for c in screen_commands(app.screen)}
        for name, key in [("Recent", "r"), ("Copy id", "c"), ("Profile", "p"), ("Mixpanel", "m"),
                          ("Map…", "M"), ("Unmap…", "U"), ("Staged", "f2"), ("Journal", "f3"),
                          ("Connections", "^o"), ("Find", "/ / esc")]:
            assert commands.get(name) == key, (name, commands)
        assert commands["Help"].split(" / ")[:2] == ["?", "f1"]
        assert "q" in commands["Quit"].split(" / ") and "^q" in commands["Quit"].split(" / ")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        for query, wanted in [("recent", "Recent"), ("mix", "Mixpanel"), ("stag", "Staged")]:
            palette_input = app.screen.query_one(Input)
            palette_input.value = query
            await pilot.pause(0.5)
            prompts = [str(o.prompt) for o in app.screen.query_one("OptionList").options]
            assert any(wanted in p for p in prompts), (query, prompts)
        palette_input.value = "recent"
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "RecentLookupsScreen"


async def test_palette_follows_the_keymap_and_hides_write_actions_when_read_only(tui_env, tmp_path):
    from dataclasses import replace

    from idconsole.workspace import Workspace

    app = make_app(Workspace.demo(readonly=True, state_dir=tmp_path / "s"), readonly=True)
    app.user_settings = replace(app.user_settings, keymap={"lookup.recent": "R"})
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        commands = {c.name: c.keys for c in screen_commands(app.screen)}
        assert commands["Recent"] == "R"
        assert "Map…" not in commands and "Unmap…" not in commands


# --- the plan: one key acknowledges, Enter submits and never unticks, s says why -----------------------


async def _plan_with_a_warning(pilot, app):
    from idconsole.tui.screens.plan import PlanScreen

    app.push_screen(PlanScreen())
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    return screen


async def test_one_key_acknowledges_every_warning_and_enter_never_unticks(demo_workspace):
    from textual.widgets import Checkbox

    from idconsole.changes import Change
    from idconsole.tui.screens.confirm import ConfirmSubmitScreen

    demo_workspace.staged.add(Change.map("undefined", "brand-new-global@example.com"))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await _plan_with_a_warning(pilot, app)
        boxes = list(screen.query(".plan-ack").results(Checkbox))
        assert boxes and not any(b.value for b in boxes)
        # the warning names its change in words, not the engine's code
        text = " ".join(str(w.query_one(".plan-warning-text").render()) for w in screen.query(".plan-warning"))
        assert "change 1: map undefined → brand-new-global@example.com" in text
        assert "[junk_id]" not in text
        # s on an unacknowledged plan says why
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is screen
        assert any(n.title == "Cannot submit yet" and "Acknowledge" in n.message for n in app.notifications)
        await pilot.press("a")
        await pilot.pause()
        assert all(b.value for b in boxes)
        assert len(list(screen.query(".plan-warning"))) == len(boxes)  # still listed
        boxes[0].focus()
        await pilot.press("enter")  # Enter on a ticked box submits; it never unticks it
        await settle(pilot, app)
        assert all(b.value for b in boxes)
        assert isinstance(app.screen, ConfirmSubmitScreen)


async def test_s_on_a_blocked_plan_says_why(demo_workspace):
    from idconsole.changes import Change

    demo_workspace.staged.add(Change("map", "self-map-user@example.com", "self-map-user@example.com"))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await _plan_with_a_warning(pilot, app)
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is screen
        assert any(n.title == "Cannot submit yet" and "blocking" in n.message for n in app.notifications)


# --- read-only: a write key says so ---------------------------------------------------------------------


async def test_a_write_key_in_a_read_only_session_says_so(tui_env, tmp_path):
    from idconsole.tui.screens.staged import StagedScreen
    from idconsole.workspace import Workspace

    app = make_app(Workspace.demo(readonly=True, state_dir=tmp_path / "s"), readonly=True)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press(*"hank@globex.net", "enter")
        await settle(pilot, app)
        await pilot.press("M")  # the tree has the focus: M would stage a map
        await pilot.pause()
        assert type(app.screen) is LookupScreen
        said = [n for n in app.notifications if "read-only session" in n.message]
        assert said and said[-1].title == "Read-only" and said[-1].message.startswith("Map")
        app.open_staged()
        await settle(pilot, app)
        assert isinstance(app.screen, StagedScreen)
        before = len(app.notifications)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, StagedScreen)  # no dialog
        assert any("read-only session" in n.message for n in app.notifications[before:])
        await pilot.press("j")  # not a write key: says nothing
        await pilot.pause()
        assert len([n for n in app.notifications[before:] if "read-only" in n.message]) == 1


# --- profile tabs -------------------------------------------------------------------------------------


async def test_number_keys_switch_the_profile_tabs_and_help_says_so(demo_workspace):
    from textual.widgets import TabbedContent

    from idconsole.sandbox import demo
    from idconsole.tui.screens.profile import ProfileScreen

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(ProfileScreen(demo.STORY_USER))
        await settle(pilot, app)
        screen = app.screen
        tabs = screen.query_one("#profile-tabs", TabbedContent)
        for key, pane in [("3", "tab-cohorts"), ("6", "tab-raw"), ("1", "tab-user"), ("4", "tab-recs")]:
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane, key
        assert "**1**–**6**" in ProfileScreen.HELP
        assert {"Tab 1", "Tab 6"} <= {c.name for c in screen_commands(screen)}
        # a digit typed in a box stays text
        screen.query_one("#rec-ids", Input).focus()
        await pilot.press("2")
        await pilot.pause()
        assert tabs.active == "tab-recs"
        app.pop_screen()
        await pilot.pause()
        app.push_screen(ProfileScreen(demo.STORY_USER, vendor="mixpanel"))
        await settle(pilot, app)
        names = {c.name for c in screen_commands(app.screen)}
        assert "Tab 2" in names and "Tab 6" not in names, names  # Mixpanel has fewer tabs


# --- CSV import errors --------------------------------------------------------------------------------


async def test_csv_import_errors_are_listed_with_line_numbers_under_a_full_table(demo_workspace, tmp_path):
    from idconsole.changes import Change
    from idconsole.tui.screens.staged import StagedScreen

    for n in range(3):
        demo_workspace.staged.add(Change.map(f"user-{n}@example.com", "brand-new-global@example.com"))
    bad = tmp_path / "bad.csv"
    bad.write_text("op,user_id,global_user_id\nmap,,x\n# a comment\nfrobnicate,a,b\n", "utf-8")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.open_staged()
        await settle(pilot, app)
        editor = app.screen
        assert isinstance(editor, StagedScreen)
        await pilot.press("i")
        await settle(pilot, app)
        app.screen.query_one("#import-path", Input).value = str(bad)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.pause(0.2)
        assert app.screen is editor and len(demo_workspace.staged) == 3
        shown = editor.query_one("#staged-import-errors")
        text = str(shown.render())
        assert shown.display and shown.region.height > 0  # on screen, not just in the widget tree
        assert "line 2:" in text and "line 4:" in text and "nothing was staged" in text
        await pilot.press("down")  # moving in the table keeps the list
        await pilot.pause()
        assert "line 4:" in str(editor.query_one("#staged-import-errors").render())


# --- dropping a staged change ---------------------------------------------------------------------------


async def test_drop_needs_no_question_and_u_puts_it_back_but_a_held_change_asks(demo_workspace):
    from idconsole.changes import Change
    from idconsole.tui.screens.confirm import AskDialog
    from idconsole.tui.screens.staged import StagedScreen

    staged = demo_workspace.staged
    one = staged.add(Change.map("one@example.com", "brand-new-global@example.com"))
    two = staged.add(Change.map("two@example.com", "brand-new-global@example.com"))
    held = staged.add(Change.mp_merge("anon-held-1", "held-target-1"))
    staged.mark([held.id], status="unknown", note="no answer")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.open_staged()
        await settle(pilot, app)
        editor = app.screen
        assert isinstance(editor, StagedScreen)
        assert "Undo" not in footer_keys(app)  # nothing to put back yet
        await pilot.press("d")  # the first row
        await settle(pilot, app)
        assert app.screen is editor and [c.id for c in staged] == [two.id, held.id]
        assert footer_keys(app).get("Undo") == "u"
        await pilot.press("d")
        await settle(pilot, app)
        assert [c.id for c in staged] == [held.id]
        await pilot.press("u", "u")  # latest first, each at its old place
        await settle(pilot, app)
        assert [c.id for c in staged] == [one.id, two.id, held.id]
        editor.query_one("#staged-table").move_cursor(row=2)
        await pilot.press("d")  # held: its outcome is unknown, so dropping it is asked
        await settle(pilot, app)
        assert isinstance(app.screen, AskDialog)
        await pilot.press("enter")  # Cancel is the default
        await settle(pilot, app)
        assert [c.id for c in staged] == [one.id, two.id, held.id]


# --- footers: everything fits at 120 columns, Help and Quit first (so 80 columns keep them) -------------


def footer_layout(app) -> tuple[list[str], list[str]]:
    """(descriptions drawn whole, descriptions cut or hidden) of the footer's keys, left to right."""
    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query("FooterKey") if not k.has_class("-command-palette")]
    palette = [k for k in footer.query("FooterKey") if k.has_class("-command-palette")]
    right = min([footer.region.right, *(p.region.x for p in palette)])
    whole = [str(k.description) for k in keys if k.region.width and k.region.right <= right]
    cut = [str(k.description) for k in keys if str(k.description) not in whole]
    return whole, cut


async def _screens_to_check(pilot, app):
    """Yield after each of the console's own busy screens is up (lookup both ways, profile, staged, plan)."""
    from idconsole.changes import Change
    from idconsole.sandbox import demo
    from idconsole.tui.screens.plan import PlanScreen
    from idconsole.tui.screens.profile import ProfileScreen

    await settle(pilot, app)
    yield "lookup, box focused"
    await pilot.press(*demo.STORY_USER, "enter")
    await settle(pilot, app)
    yield "lookup, tree focused"
    app.push_screen(ProfileScreen(demo.STORY_USER))
    await settle(pilot, app)
    yield "profile"
    app.pop_screen()
    app.active_workspace.staged.add(Change.map("undefined", "brand-new-global@example.com"))
    app.active_workspace.staged.add(Change.map("two@example.com", "brand-new-global@example.com"))
    app.open_staged()
    await settle(pilot, app)
    await pilot.press("d")  # Undo drop joins the footer
    await settle(pilot, app)
    yield "staged, after a drop"
    app.push_screen(PlanScreen())
    await settle(pilot, app)
    yield "plan with a warning"


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_footers_fit_and_keep_help_and_quit(demo_workspace, size):
    app = make_app(demo_workspace)
    async with app.run_test(size=size) as pilot:
        async for where in _screens_to_check(pilot, app):
            await pilot.pause()
            whole, cut = footer_layout(app)
            assert whole[:2] == ["Help", "Quit"], (where, whole)
            if size[0] >= 120:
                assert not cut, (where, cut)


# --- toasts and the clipboard ---------------------------------------------------------------------------


async def test_toasts_never_cover_a_dialogs_buttons(demo_workspace):
    from textual.widgets import Button

    from idconsole.tui.screens.confirm import AskDialog

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE, notifications=True) as pilot:  # tests hide toasts by default
        await settle(pilot, app)
        app.push_screen(AskDialog("Drop everything?", "A question with buttons.\n" * 12, "Drop"))
        await pilot.pause()
        for n in range(4):  # a stack of them, long ones
            app.notify("A long notification that wraps over several lines. " * 3, title=f"Note {n}")
        await pilot.pause(0.3)
        drawn = [t.region for t in app.screen.query("Toast")]
        assert len(drawn) == 1 and drawn[0].area  # over a dialog, the latest only
        buttons = list(app.screen.query(Button))
        assert buttons
        for region in drawn:
            for button in buttons:
                assert not region.overlaps(button.region), (region, button.region)


# --- the tree marks staged changes on the nodes they touch ------------------------------------------


async def test_the_tree_marks_the_nodes_a_staged_change_touches(demo_workspace):
    from idconsole.changes import Change
    from idconsole.sandbox import demo

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press(*demo.STORY_USER, "enter")
        await settle(pilot, app)
        tree = app.screen.identity_tree
        assert not any("● staged" in n.label.plain for n in tree.iter_nodes())
        demo_workspace.staged.add(Change.map(demo.STORY_USER, "[bold]new[/]@example.com"))  # from anywhere
        await pilot.pause()
        root = tree.root.label.plain
        assert "● staged: map → [bold]new[/]@example.com" in root  # literal, never markup
        demo_workspace.staged.clear()
        await pilot.pause()
        assert "● staged" not in tree.root.label.plain


async def test_f_in_the_tree_finds_a_child_among_thousands(demo_workspace):
    import httpx

    parent = "bulk-parent@example.com"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo_workspace.sandbox_app),
                                 base_url=demo_workspace.connection.base_url) as client:
        response = await client.post("/_sandbox/users",
                                     json={"mappings": [[f"bulk-{i:05d}", parent] for i in range(3_000)]})
        assert response.status_code == 200
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press(*parent, "enter")
        await settle(pilot, app)
        tree = app.screen.identity_tree
        assert app.focused is tree
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"BULK-02345", "enter")  # not on the first page; any case
        await settle(pilot, app)
        assert tree.cursor_node is not None and tree.cursor_node.data.user_id == "bulk-02345"
        await pilot.press("f")
        await pilot.pause()
        assert app.screen.query_one("#tree-find", Input).value == "BULK-02345"  # the last one, selected
        await pilot.press(*"no-such-id", "enter")
        await settle(pilot, app)
        assert any(n.title == "Not found" for n in app.notifications)
        assert tree.cursor_node.data.user_id == "bulk-02345"


async def test_help_keys_wrap_under_their_own_column(demo_workspace):
    from idconsole.tui.screens.help import keys_table

    app = make_app(demo_workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        lines = keys_table(app.screen, 60).plain.split("\n")
        assert all(len(line) <= 60 for line in lines), [line for line in lines if len(line) > 60]
        first = next(line for line in lines if line.startswith("M "))  # Map…'s long tooltip wraps
        indent = first.index("Stage")
        following = lines[lines.index(first) + 1]
        assert following[:indent].strip() == "" and following[indent:indent + 1].strip()
        await pilot.press("f1")
        await pilot.pause()
        shown = app.screen.query_one("#help-keys")
        assert shown.region.right <= 80


async def test_setting_a_property_from_the_profile_replaces_its_value_as_typed(demo_workspace):
    """`s` on a property row prefills key and value and puts the cursor in the value with it selected:
    typing the new value replaces the old one and Enter stages it (no Tab, no clearing first)."""
    from idconsole.sandbox import demo
    from idconsole.tui.screens.profile import ProfileScreen
    from idconsole.tui.screens.stage_dialog import StageChangeDialog
    from idconsole.tui.widgets.property_table import PropertyTable

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(ProfileScreen(demo.STORY_USER))
        await settle(pilot, app)
        table = app.screen.query_one("#user-props", PropertyTable)
        table.focus()
        while (table.selected_row() or ("",))[0] != "plan":
            await pilot.press("down")
        await pilot.press("s")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        value = dialog.query_one("#input-value", Input)
        assert app.focused is value and value.value == "enterprise"
        await pilot.press(*"pro", "enter")
        await settle(pilot, app)
        assert not isinstance(app.screen, StageChangeDialog)
        (change,) = list(demo_workspace.staged)
        assert (change.user_id, change.operation, dict(change.properties)) == (demo.STORY_USER, "$set", {"plan": "pro"})


async def test_help_over_the_tree_lists_every_key_of_the_screen_and_the_app(demo_workspace):
    """Help is read while its screen is in front: with the tree focused it lists the tree's keys AND the
    Lookup screen's and the app's (it listed only the tree's four once the dialog covered the screen)."""
    from idconsole.sandbox import demo

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.screen.query_one("#lookup-input", Input).value = demo.STORY_USER
        await pilot.press("enter")
        await settle(pilot, app)
        assert type(app.focused).__name__ == "IdentityTree"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys").render())
        for name in ("Expand", "Find in tree", "Timeline", "Profile", "Map…", "Unmap…", "Staged", "Journal",
                     "Quit", "Help"):
            assert name in keys, (name, keys)

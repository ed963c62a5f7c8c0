"""The staged changes and the journal are one key away from every main screen (F2, F3)."""

from __future__ import annotations

import pytest
from tui_support import TUI_SIZE, make_app, settle

from idconsole.tui.screens.journal import JournalScreen
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.staged import StagedScreen

pytestmark = pytest.mark.usefixtures("tui_env")


async def test_f2_opens_staged_changes_and_f3_the_journal(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, LookupScreen)
        # even while the lookup input has the focus
        await pilot.press("f2")
        await settle(pilot, app)
        assert isinstance(app.screen, StagedScreen)
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("f3")
        await settle(pilot, app)
        assert isinstance(app.screen, JournalScreen)


async def test_no_staged_or_journal_without_a_connection():
    app = make_app(None)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        assert app.check_action("staged", ()) is False
        await pilot.press("f2")
        await settle(pilot, app)
        assert not isinstance(app.screen, StagedScreen)


async def test_enter_on_a_staged_row_edits_it(demo_workspace):
    from idconsole.changes import Change
    from idconsole.tui.screens.stage_dialog import StageChangeDialog

    demo_workspace.staged.add(Change.map("phone-user-0001", "hank@globex.net"))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await settle(pilot, app)
        staged = app.screen
        assert isinstance(staged, StagedScreen)
        staged.query_one("DataTable").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog) and dialog.kind == "map"

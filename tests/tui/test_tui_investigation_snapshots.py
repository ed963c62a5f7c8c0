"""Snapshots (120x40) of the investigation screens on the demo sandbox: the story user's timeline (the
phone's events and the identity-change marker), the phone's Mixpanel cluster, the compare view of the
story's fix, and the report. Regenerate with
`pytest tests/test_tui_investigation_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.sandbox import demo
from idconsole.tui.screens.compare import CompareScreen
from idconsole.tui.screens.mixpanel_view import MixpanelViewScreen
from idconsole.tui.screens.report import ReportScreen

pytestmark = pytest.mark.usefixtures("tui_env")


async def _look_up(pilot, query: str) -> None:
    app = pilot.app
    await settle(pilot, app)
    box = app.screen.query_one("#lookup-input", Input)
    box.value = query
    box.focus()
    await pilot.press("enter")
    await settle(pilot, app)
    app.screen.identity_tree.focus()


def test_timeline_story(snap_compare, demo_workspace):
    async def run_before(pilot) -> None:
        await _look_up(pilot, demo.STORY_USER)
        await pilot.press("t")
        await settle(pilot, pilot.app)
        await pilot.press("enter")
        await settle(pilot, pilot.app)
        screen = pilot.app.screen
        # the page holding the phone's first event under the phone user, with the marker highlighted
        for _ in range(50):
            page = screen._page
            index = next((n for n, r in enumerate(page.rows) if r.marker is not None
                          and r.marker.device_id == demo.STORY_PHONE_DEVICE), None)
            if index is not None:
                screen.query_one(DataTable).move_cursor(row=index)
                break
            await pilot.press("n")
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=run_before)


def test_timeline_cost_question(snap_compare, demo_workspace):
    async def run_before(pilot) -> None:
        await _look_up(pilot, demo.STORY_USER)
        await pilot.press("t")
        await settle(pilot, pilot.app)

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=run_before)


def test_mixpanel_view_phone(snap_compare, demo_workspace):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app)
        pilot.app.push_screen(MixpanelViewScreen(demo.STORY_MP_PHONE_ANON, other=demo.STORY_USER))
        await settle(pilot, pilot.app)

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=run_before)


def test_compare_story_fix(snap_compare, demo_workspace):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app)
        pilot.app.push_screen(CompareScreen(demo.STORY_PHONE_USER, demo.STORY_USER))
        await settle(pilot, pilot.app)

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=run_before)


def test_report_story(snap_compare, demo_workspace):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app)
        screen = ReportScreen(demo.STORY_USER)
        pilot.app.push_screen(screen)
        await settle(pilot, pilot.app)
        # the picture must not change with the clock: the generation time is the only moving part
        screen.show_text(re.sub(r"generated \S+", "generated 2026-01-01T00:00:00+00:00", screen.text or ""))
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=run_before)

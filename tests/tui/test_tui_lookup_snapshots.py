"""Snapshots (120x40) of the Lookup screen and the Profile inspector on the demo sandbox.

Regenerate with `pytest tests/test_tui_lookup_snapshots.py --snapshot-update`, then look at the SVGs in
`tests/__snapshots__/test_tui_lookup_snapshots/`. Cursors do not blink (ConsoleTestApp), the config is
isolated (conftest + tui_env), the demo data is deterministic, and every step waits for the workers.
"""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from textual.widgets import Input, TabbedContent
from tui_support import TUI_SIZE, make_app, settle

from idconsole.identity import graph as g
from idconsole.sandbox import SandboxConfig, create_app, demo
from idconsole.tui.screens.profile import ProfileScreen
from idconsole.workspace import Workspace

pytestmark = pytest.mark.usefixtures("tui_env")


def look_up(query: str, *, expand: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot, app)
        box = app.screen.query_one("#lookup-input", Input)
        box.value = query
        await pilot.press("enter")
        await settle(pilot, app)
        if expand is not None:
            tree = app.screen.identity_tree
            node = next(n for n in tree.iter_nodes()
                        if n.data is not None and n.data.kind == g.USER and n.data.user_id == expand)
            tree.move_cursor(node)
            await pilot.press("right")
            await settle(pilot, app)

    return run_before


def profile(user_id: str, *, vendor: str = "amplitude", tab: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot, app)
        app.push_screen(ProfileScreen(user_id, vendor=vendor))
        await settle(pilot, app)
        if tab is not None:
            app.screen.query_one("#profile-tabs", TabbedContent).active = tab
            await settle(pilot, app)

    return run_before


def test_lookup_empty(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=settle_only)


def test_lookup_story_user_expanded(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE,
                        run_before=look_up(demo.STORY_USER, expand=demo.STORY_PHONE_USER))


def test_lookup_chain(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=look_up(demo.CHAIN[0]))


def test_lookup_cycle(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=look_up(demo.CYCLE[0]))


def test_lookup_big_parent(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=look_up(demo.BIG_PARENT))


def test_profile_user_properties(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=profile(demo.STORY_USER))


def test_profile_recommendations(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE,
                        run_before=profile(demo.CONTROL_GROUP_USER, tab="tab-recs"))


def test_profile_raw_json(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE,
                        run_before=profile(demo.STORY_USER, tab="tab-raw"))


def test_profile_mixpanel(snap_compare, demo_workspace):
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE,
                        run_before=profile(demo.MP_ALIAS[0], vendor="mixpanel"))


def test_profile_eu_not_offered(snap_compare, tmp_path):
    connection = Workspace.demo(state_dir=tmp_path / "s").connection
    ws = Workspace.open(dataclasses.replace(connection, region="eu"),
                        transport=httpx.ASGITransport(app=create_app(SandboxConfig())), state_dir=tmp_path / "eu")
    assert snap_compare(make_app(ws), terminal_size=TUI_SIZE, run_before=profile(demo.STORY_USER))


async def settle_only(pilot) -> None:
    await settle(pilot, pilot.app)

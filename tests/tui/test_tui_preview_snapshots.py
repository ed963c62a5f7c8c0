"""Snapshot (120x40) of the Lookup tree's "after staged changes" preview (`a`) on the demo story with its fix
staged: the border says it is a preview and nothing was sent, the changed nodes are tagged and coloured.

Regenerate with `pytest tests/tui/test_tui_preview_snapshots.py --snapshot-update`, then look at the SVG in
`tests/tui/__snapshots__/test_tui_preview_snapshots/`."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.changes import Change
from idconsole.sandbox import demo

pytestmark = pytest.mark.usefixtures("tui_env")


async def _preview_the_fix(pilot) -> None:
    app = pilot.app
    await settle(pilot, app)
    app.screen.query_one("#lookup-input", Input).value = demo.STORY_USER
    await pilot.press("enter")
    await settle(pilot, app)
    await pilot.press("a")
    await settle(pilot, app)


def test_lookup_tree_after_the_staged_fix(snap_compare, demo_workspace):
    demo_workspace.staged.add(Change.unmap(demo.STORY_USER))
    demo_workspace.staged.add(Change.map(demo.STORY_PHONE_USER, demo.STORY_USER))
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=_preview_the_fix)

"""The Plan screen's Before column is the real current state, shown literally: a property's value as the
Profile API has it now (a hostile one stays brackets and escapes), a Mixpanel id's cluster as engage shows
it, and `not read: why` where it could not be read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_tui_changes import wait_plan_pushed
from tui_support import TUI_SIZE, make_app, screen_text

from idconsole.changes import Change
from idconsole.sandbox.demo import STORY_MP_WEB_ANON, STORY_USER

pytestmark = pytest.mark.usefixtures("tui_env")

VICTIM = "plan-before-hostile@example.com"
HOSTILE_VALUE = "[@click=app.quit]click me[/] \x1b[2J"


async def seed(ws: Any) -> None:
    body = {"users": [{"user_id": VICTIM, "user_properties": {"bio": HOSTILE_VALUE, "plan": "free"}}]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        assert (await client.post("/_sandbox/users", json=body)).status_code == 200


async def test_the_plan_screen_shows_current_values_and_clusters_literally(demo_workspace: Any) -> None:
    ws = demo_workspace
    await seed(ws)
    ws.staged.extend([Change.identify(VICTIM, "$unset", {"bio": "-"}),
                      Change.identify(VICTIM, "$set", {"plan": "pro"}),
                      Change.mp_merge(STORY_MP_WEB_ANON, STORY_USER)])
    app = make_app(ws)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_plan_pushed(pilot, app)
        text = screen_text(app)
        assert '"[@click=app.quit]click me[/] \\u001b[2J"' in text and "\x1b" not in text
        assert '"free"' in text and '"pro"' in text
        assert f"in the cluster of {STORY_USER}" in text and "unchanged: already one cluster" in text
        assert "current properties" not in text and "separate ids" not in text  # the old fixed labels
        assert app.is_running


async def test_the_plan_screen_says_why_a_value_was_not_read(demo_workspace: Any) -> None:
    ws = demo_workspace
    budget = ws.client.budget("profile")
    budget.book(budget.remaining() - 5, open=False)  # the person's lookups have used the minute's profiles
    ws.staged.add(Change.identify(STORY_USER, "$set", {"plan": "pro"}))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await wait_plan_pushed(pilot, app)
        text = screen_text(app)
        assert "not read: the user profile" in text  # the column has room for the start of it...
        # ...and the full reason is said once below the effects
        assert "Not read for 1 change 1: the user profile budget is low (5 of 600 left)." in text


async def test_the_plan_screen_says_which_ids_amplitude_knows(demo_workspace: Any) -> None:
    ws = demo_workspace
    ws.staged.add(Change.map("63629@hmail.com", "hank@globex.nte"))  # a typo in the global id
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await wait_plan_pushed(pilot, app)
        text = screen_text(app)
        assert "Known to Amplitude: 63629@hmail.com" in text
        assert "Unknown to Amplitude (a typo?): hank@globex.nte" in text

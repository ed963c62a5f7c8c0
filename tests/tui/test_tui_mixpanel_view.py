"""Pilot tests of the Mixpanel view (`X` on Lookup) on the demo sandbox: the phone's `$device:` id that
Amplitude never saw opens, the observed ids are labelled observed, the Query API budget is shown, a project
without the stream endpoint says so, and staging opens the shared dialog prefilled."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList
from tui_support import TUI_SIZE, make_app, settle

from idconsole.sandbox import demo
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.mixpanel_view import MixpanelViewScreen
from idconsole.tui.screens.stage_dialog import StageChangeDialog

pytestmark = pytest.mark.usefixtures("tui_env")
STREAM = "/api/query/stream/query"   # Profile Event Activity (the stream query)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_from_box(pilot, app, text: str) -> MixpanelViewScreen:
    """Type an id in the box, leave the box (Esc would refocus it: use tab) and press X."""
    box = app.screen.query_one("#lookup-input", Input)
    box.value = text
    app.screen.identity_tree.focus()
    await pilot.press("X")
    await settle(pilot, app)
    view = app.screen
    assert isinstance(view, MixpanelViewScreen)
    return view


async def test_the_phone_cluster_opens_with_observed_ids_and_budget(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = await open_from_box(pilot, app, demo.STORY_MP_PHONE_ANON)
        assert view.found is not None and view.found.known
        assert demo.STORY_MP_PHONE_ANON in view.found.observed_ids
        assert "observed" in text_of(view, "#mp-observed-title")
        assert "no API listing a cluster" in text_of(view, "#mp-observed-title")
        budget = text_of(view, "#mp-budget")
        assert "Query API budget" in budget and "of 60 an hour" in budget
        options = [str(o.prompt) for o in view.query_one("#mp-observed", OptionList).options]
        assert any(demo.STORY_MP_PHONE_ANON in o for o in options)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)


async def test_identify_from_the_view_is_prefilled_with_the_looked_up_user(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        box = screen.query_one("#lookup-input", Input)
        box.value = demo.STORY_USER
        box.focus()
        await pilot.press("enter")
        await settle(pilot, app)
        app.push_screen(MixpanelViewScreen(demo.STORY_MP_PHONE_ANON, other=screen.found.user_id))
        await settle(pilot, app)
        await pilot.press("i")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        assert dialog.kind == "mp_identify"
        assert dialog.query_one("#input-anon_id", Input).value == demo.STORY_MP_PHONE_ANON
        assert dialog.query_one("#input-identified_id", Input).value == demo.STORY_USER
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("g")
        await settle(pilot, app)
        assert app.screen.kind == "mp_merge"
        assert app.screen.query_one("#input-id_b", Input).value == demo.STORY_USER


async def test_an_unknown_id_says_so(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = await open_from_box(pilot, app, "$device:00000000-0000-4000-8000-000000000000")
        assert view.found is not None and not view.found.known
        assert "no profile and no events" in text_of(view, "#mp-summary")


async def test_hostile_ids_and_values_are_shown_literally(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = await open_from_box(pilot, app, "[bold red]admin[/]")
        assert "[bold red]admin[/]" in text_of(view, "#mp-summary")


async def test_stage_keys_are_hidden_read_only(tui_env, tmp_path):
    from idconsole.workspace import Workspace

    ws = Workspace.demo(readonly=True, state_dir=tmp_path / "ro")
    app = make_app(ws, readonly=True)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(MixpanelViewScreen(demo.STORY_MP_PHONE_ANON))
        await settle(pilot, app)
        await pilot.press("i")
        await settle(pilot, app)
        assert isinstance(app.screen, MixpanelViewScreen)


async def test_without_the_stream_endpoint_the_view_says_so(demo_workspace):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo_workspace.sandbox_app),
                                 base_url=demo_workspace.connection.base_url) as client:
        response = await client.post("/_sandbox/faults", json={"path": STREAM, "status": 404, "times": 5})
        assert response.status_code == 200, response.text
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        view = await open_from_box(pilot, app, demo.STORY_USER)
        assert view.found is not None and view.found.canonical_id == demo.STORY_USER
        title = text_of(view, "#mp-observed-title")
        assert "No observed ids" in title and "not offered" in title


async def test_the_vendor_toggle_opens_mixpanel_ids_and_is_remembered(demo_workspace, tmp_path):
    from idconsole.workspace import Workspace

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        box = screen.query_one("#lookup-input", Input)
        assert box.has_focus
        await pilot.press("ctrl+t")   # works while typing
        await pilot.pause()
        assert screen.vendor_choice.vendor == "mixpanel" and box.border_title == "Mixpanel"
        assert "Mixpanel" in app.notifications[-1].message
        box.value = demo.STORY_MP_PHONE_ANON
        await pilot.press("enter")
        await settle(pilot, app)
        view = app.screen
        assert isinstance(view, MixpanelViewScreen) and view.distinct_id == demo.STORY_MP_PHONE_ANON
        assert view.found is not None and view.found.known
    # a new session of the same profile starts on Mixpanel
    again = make_app(Workspace.demo(state_dir=tmp_path / "again"))
    async with again.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, again)
        assert again.screen.vendor_choice.vendor == "mixpanel"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert again.screen.vendor_choice.vendor == "amplitude"
        assert again.screen.query_one("#lookup-input", Input).border_title is None


async def test_a_device_id_typed_in_the_box_wins_over_the_tree(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        box = app.screen.query_one("#lookup-input", Input)
        box.value = demo.STORY_USER
        box.focus()
        await pilot.press("enter")
        await settle(pilot, app)
        view = await open_from_box(pilot, app, demo.STORY_MP_PHONE_ANON)   # hank is selected in the tree
        assert view.distinct_id == demo.STORY_MP_PHONE_ANON and view.other == demo.STORY_USER

"""Pilot tests of the staged-changes workflow: editor, stage dialog, plan, confirm, submit, journal, undo.

Everything runs on `Workspace.demo()` (the in-process sandbox); the sandbox's own state is the proof of
what was (or was not) sent. Nothing of idconsole is mocked.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from rich.console import Console
from textual.content import Content
from textual.widgets import Button, DataTable, Input, Select
from tui_support import TUI_SIZE, make_app, settle

from idconsole.changes.model import Change
from idconsole.sandbox.demo import CHAIN, MARKUP_IDS, STORY_PHONE_USER, STORY_USER
from idconsole.tui.screens.apply_progress import ApplyProgressScreen
from idconsole.tui.screens.confirm import ConfirmSubmitScreen
from idconsole.tui.screens.journal import JournalScreen
from idconsole.tui.screens.plan import PlanScreen
from idconsole.tui.screens.stage_dialog import StageChangeDialog
from idconsole.tui.screens.staged import StagedScreen
from idconsole.tui.staging import actions as staging

HOSTILE = MARKUP_IDS[1]  # "[@click=app.quit]x[/]"
NEW_GLOBAL = "brand-new-global@example.com"


# --- helpers ----------------------------------------------------------------------------------------


def sandbox_state(ws: Any) -> dict[str, Any]:
    return ws.sandbox_app.state.sandbox.state.export()


async def sandbox_state_http(ws: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=ws.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=ws.connection.base_url) as client:
        response = await client.get("/_sandbox/state")
        response.raise_for_status()
        return response.json()


def mapped_to(ws: Any, user_id: str) -> str | None:
    mappings = sandbox_state(ws)["amplitude"]["mappings"]
    if isinstance(mappings, dict):
        return mappings.get(user_id)
    for user, target in mappings:
        if user == user_id:
            return target
    return None


def text_of(widget: Any) -> str:
    """What a Static shows, as plain text (rich tables rendered wide, so nothing is cut)."""
    content = widget.content
    if isinstance(content, (str, Content)):
        return str(content)
    console = Console(width=400, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


def table_text(table: DataTable) -> str:
    rows = []
    for row in range(table.row_count):
        rows.append(" | ".join(str(getattr(c, "plain", c)) for c in table.get_row_at(row)))
    return "\n".join(rows)


async def open_staged(app: Any, pilot: Any) -> StagedScreen:
    app.open_staged()
    await settle(pilot, app)
    assert isinstance(app.screen, StagedScreen)
    return app.screen


async def fill(pilot: Any, dialog: StageChangeDialog, **values: str) -> None:
    for name, value in values.items():
        dialog.query_one(f"#input-{name}", Input).value = value
    await pilot.pause()


async def wait_plan(pilot: Any, app: Any) -> PlanScreen:
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, PlanScreen), type(screen).__name__
    assert screen.plan is not None, text_of(screen.query_one("#plan-summary"))
    return screen


# --- the stage dialog and the editor ----------------------------------------------------------------


async def test_stage_a_map_by_hand_shows_in_the_editor(demo_workspace: Any) -> None:
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        assert "Nothing is staged" in text_of(editor.query_one("#staged-empty"))
        await pilot.press("a")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        assert dialog.kind == "map"
        await fill(pilot, dialog, user_id=STORY_PHONE_USER, global_user_id=NEW_GLOBAL)
        dialog.query_one("#input-global_user_id", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen is editor
        staged = list(demo_workspace.staged)
        assert [(c.op, c.user_id, c.target_id) for c in staged] == [("map", STORY_PHONE_USER, NEW_GLOBAL)]
        table = editor.query_one("#staged-table", DataTable)
        assert STORY_PHONE_USER in table_text(table)
        assert NEW_GLOBAL in table_text(table)


async def test_dialog_refuses_incomplete_input_and_shows_why(demo_workspace: Any) -> None:
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await open_staged(app, pilot)
        await pilot.press("a")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        await fill(pilot, dialog, user_id="someone@example.com")
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        assert app.screen is dialog
        assert "required" in text_of(dialog.query_one("#stage-error"))
        # a merge of an id with itself
        dialog.query_one("#stage-kind", Select).value = "mp_merge"
        await pilot.pause()
        await fill(pilot, dialog, id_a="same-id-1", id_b="same-id-1")
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        assert "two different ids" in text_of(dialog.query_one("#stage-error"))
        # the engine's own validation ($add needs a number) is shown, literally
        dialog.query_one("#stage-kind", Select).value = "identify"
        await pilot.pause()
        dialog.query_one("#stage-property-op", Select).value = "$add"
        await pilot.pause()
        await fill(pilot, dialog, user_id="someone@example.com", key="logins", value="[b]lots[/b]")
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        assert "$add needs a number" in text_of(dialog.query_one("#stage-error"))
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, StagedScreen)
        assert len(demo_workspace.staged) == 0


async def test_edit_reorder_drop_and_clear(demo_workspace: Any) -> None:
    staged = demo_workspace.staged
    first = staged.add(Change.map(CHAIN[0], NEW_GLOBAL))
    second = staged.add(Change.unmap(STORY_USER))
    third = staged.add(Change.identify(STORY_USER, "$set", {"plan": "pro"}))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        table = editor.query_one("#staged-table", DataTable)
        assert table.row_count == 3
        # move the last one up twice: K and ctrl+up
        table.move_cursor(row=2)
        await pilot.press("K")
        await pilot.press("ctrl+up")
        await settle(pilot, app)
        assert [c.id for c in staged] == [third.id, first.id, second.id]
        assert editor.selected_id() == third.id
        await pilot.press("J")
        await settle(pilot, app)
        assert [c.id for c in staged] == [first.id, third.id, second.id]
        # edit the identify (same id, same place)
        await pilot.press("e")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        assert dialog.query_one("#input-key", Input).value == "plan"
        assert dialog.query_one("#input-value", Input).value == "pro"
        await fill(pilot, dialog, value="enterprise")
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        edited = staged.get(third.id)
        assert dict(edited.properties) == {"plan": "enterprise"}
        assert [c.id for c in staged] == [first.id, third.id, second.id]
        # drop needs no question (nothing was sent); u puts it back where it was, d drops it again
        await pilot.press("d")
        await settle(pilot, app)
        assert app.screen is editor
        assert [c.id for c in staged] == [first.id, second.id]
        await pilot.press("u")
        await settle(pilot, app)
        assert [c.id for c in staged] == [first.id, third.id, second.id]
        assert editor.selected_id() == third.id
        assert not editor.check_action("undo_drop", ())  # nothing more to put back
        await pilot.press("d")
        await settle(pilot, app)
        assert [c.id for c in staged] == [first.id, second.id]
        # clear asks too
        await pilot.press("X")
        await settle(pilot, app)
        await pilot.click("#ask-yes")
        await settle(pilot, app)
        assert len(staged) == 0
        assert editor.query_one("#staged-empty").display


async def test_hostile_ids_are_shown_literally_and_trigger_nothing(demo_workspace: Any) -> None:
    demo_workspace.staged.add(Change.map(HOSTILE, "[bold]global[/bold]"))
    demo_workspace.staged.add(Change.identify(HOSTILE, "$set", {"[red]k[/red]": "[@click=app.quit]v[/]"}))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        text = table_text(editor.query_one("#staged-table", DataTable))
        assert HOSTILE in text
        assert "[bold]global[/bold]" in text
        assert "[@click=app.quit]v[/]" in text
        await pilot.click("#staged-table")
        await settle(pilot, app)
        assert app.is_running
        # the edit dialog shows them as they are too
        await pilot.press("e")
        await settle(pilot, app)
        assert app.screen.query_one("#input-user_id", Input).value == HOSTILE
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.is_running


async def test_readonly_hides_every_way_to_change(tui_env: Any, tmp_path: Any) -> None:
    from idconsole.workspace import Workspace

    ws = Workspace.demo(state_dir=tmp_path / "ro", readonly=True)
    ws.staged.add(Change.map(CHAIN[0], NEW_GLOBAL))
    app = make_app(ws, readonly=True)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        active = {b.binding.action for b in editor.active_bindings.values() if b.enabled}
        for action in ("add", "edit", "drop", "clear", "import_csv"):
            assert action not in active
        assert "read-only" in text_of(editor.query_one("#staged-summary"))
        # reached anyway (palette, another screen's code): refused with a message, nothing staged
        editor.action_add()
        staging.stage_map(app, STORY_USER)
        await settle(pilot, app)
        assert not isinstance(app.screen, StageChangeDialog)
        assert len(ws.staged) == 1
        # the plan can be read, but it has no submit
        plan = PlanScreen()
        app.push_screen(plan)
        await settle(pilot, app)
        assert not plan.query_one("#plan-submit", Button).display
        assert "submit" not in {b.binding.action for b in plan.active_bindings.values() if b.enabled}


async def test_context_staging_helpers_prefill_the_dialog(demo_workspace: Any) -> None:
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        staging.stage_unmap(app, STORY_USER)
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        assert dialog.kind == "unmap"
        assert dialog.query_one("#input-user_id", Input).value == STORY_USER
        assert app.focused is not None and app.focused.id == "stage-ok"
        await pilot.press("enter")
        await settle(pilot, app)
        assert [(c.op, c.user_id) for c in demo_workspace.staged] == [("unmap", STORY_USER)]

        staging.stage_property(app, STORY_USER, "plan", "pro")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog) and dialog.kind == "identify"
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        staging.unstage_property(app, STORY_USER, "plan")
        await settle(pilot, app)
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        ops = [(c.op, c.operation, dict(c.properties)) for c in demo_workspace.staged][1:]
        assert ops == [("identify", "$set", {"plan": "pro"}), ("identify", "$unset", {"plan": "-"})]


# --- confirm ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("irreversible", [False, True])
async def test_confirm_starts_on_cancel_or_in_the_box_for_the_ids(demo_workspace: Any, irreversible: bool) -> None:
    from idconsole.changes.plan import Plan, PlannedChange, PlannedRequest

    change = Change.mp_merge("anon-1234567", "user-7654321") if irreversible else Change.map(CHAIN[0], NEW_GLOBAL)
    kind = "mp_merge" if irreversible else "usermap"
    plan = Plan("demo", "us", "fp", "now", [PlannedChange(1, change, "send", (), (), 1)], [],
                [PlannedRequest(1, change.vendor, kind, "POST", "http://x/endpoint", (change.id,), 1, 100, True)])
    app = make_app(demo_workspace)
    results: list[bool | None] = []
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.push_screen(ConfirmSubmitScreen(plan), results.append)
        await settle(pilot, app)
        screen = app.screen
        apply_button = screen.query_one("#confirm-apply", Button)
        assert apply_button.disabled is irreversible
        if not irreversible:  # a plain confirm: Cancel is the default, Enter cancels
            assert app.focused is not None and app.focused.id == "confirm-cancel"
            await pilot.press("enter")
            await settle(pilot, app)
            assert results == [False]
            return
        field = screen.query_one("#confirm-type-0", Input)
        assert app.focused is field  # typing starts at once
        await pilot.press(*"anon-1234567 user-765432")
        await pilot.pause()
        assert apply_button.disabled
        await pilot.press("enter")  # not matching yet: Enter says so and sends nothing
        await pilot.pause()
        assert app.screen is screen and results == []
        assert any(n.title == "Not confirmed yet" for n in app.notifications)
        # no invisible tab stop: Tab goes box -> Ticket -> Note -> Cancel -> (Apply disabled) -> the box again
        for stop in ("confirm-ticket", "confirm-note", "confirm-cancel"):
            await pilot.press("tab")
            assert app.focused is not None and app.focused.id == stop
        await pilot.press("tab")
        assert app.focused is field
        await pilot.press("end", "1", "enter")  # typed ids match: Enter in the box sends
        await settle(pilot, app)
    assert results == [True]


# --- the whole way: stage → plan → confirm (cancel, then for real) → progress → results → journal → undo


async def test_stage_plan_confirm_apply_journal_undo(demo_workspace: Any) -> None:
    ws = demo_workspace
    user, target = "fresh-user-0001@example.com", NEW_GLOBAL
    assert mapped_to(ws, user) is None
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        await pilot.press("a")
        await settle(pilot, app)
        await fill(pilot, app.screen, user_id=user, global_user_id=target)
        await pilot.click("#stage-ok")
        await settle(pilot, app)
        assert len(ws.staged) == 1

        # the plan: before → after, and the exact request
        await pilot.press("P")
        plan_screen = await wait_plan(pilot, app)
        effects = text_of(plan_screen.query_one("#plan-effects"))
        assert user in effects and "(not mapped)" in effects and target in effects
        requests = text_of(plan_screen.query_one("#plan-requests"))
        assert "POST" in requests and "/usermap" in requests and "1 mappings" in requests
        acks = list(plan_screen.query(".plan-ack"))
        for ack in acks:  # whatever the demo data warns about must be acknowledged first
            ack.value = True
        await pilot.pause()
        assert plan_screen.blocked_reason() == ""

        # confirm: Cancel has the focus, Enter cancels, nothing is sent
        await pilot.press("s")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmSubmitScreen)
        assert app.focused is not None and app.focused.id == "confirm-cancel"
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen is plan_screen
        state = await sandbox_state_http(ws)
        assert mapped_to(ws, user) is None
        assert state["counters"].get("mappings", 0) == sandbox_state(ws)["counters"].get("mappings", 0)
        assert len(ws.staged) == 1
        assert ws.journal.entries() == []

        # confirm for real: Tab to Apply, Enter
        await pilot.press("s")
        await settle(pilot, app)
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "confirm-apply"
        await pilot.press("enter")
        await settle(pilot, app)
        progress = app.screen
        assert isinstance(progress, ApplyProgressScreen)
        assert progress.report is not None, text_of(progress.query_one("#apply-counts"))
        assert text_of(progress.query_one("#apply-title")) == "Submitted"
        results = text_of(progress.query_one("#apply-table"))
        assert user in results and "sent" in results and "confirmed" in results
        assert mapped_to(ws, user) == target
        assert len(ws.staged) == 0

        # the journal lists it; undo stages the inverse and says so
        await pilot.press("j")
        await settle(pilot, app)
        journal = app.screen
        assert isinstance(journal, JournalScreen)
        table = journal.query_one("#journal-table", DataTable)
        assert table.row_count == 1
        assert progress.report.journal_id in table_text(table)
        assert user in table_text(journal.query_one("#journal-changes", DataTable))
        await pilot.press("u")
        await settle(pilot, app)
        inverse = list(ws.staged)
        assert [(c.op, c.user_id) for c in inverse] == [("unmap", user)]
        assert mapped_to(ws, user) == target  # undo sends nothing by itself
        # back: the plan is gone from the stack (it described a set that has changed)
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is editor
        assert "unmap" in table_text(editor.query_one("#staged-table", DataTable))


async def test_blocking_warning_disables_submit(demo_workspace: Any) -> None:
    ws = demo_workspace
    ws.staged.add(Change("map", "self-map-user@example.com", "self-map-user@example.com"))  # as an old file may hold it: blocking
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.push_screen(PlanScreen())
        plan_screen = await wait_plan(pilot, app)
        assert any(w.blocking for w in plan_screen.warnings)
        assert plan_screen.query_one("#plan-submit", Button).disabled
        assert "blocking" in text_of(plan_screen.query_one("#plan-status"))
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is plan_screen  # no confirm dialog
        assert len(list(plan_screen.query(".plan-warning.-blocking"))) >= 1


async def test_mixpanel_merge_needs_the_typed_ids(demo_workspace: Any) -> None:
    ws = demo_workspace
    a, b = "anon-merge-source-1", "merge-target-user-1"
    ws.staged.add(Change.mp_merge(a, b))
    before = sandbox_state(ws)["mixpanel"]["clusters"]
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.push_screen(PlanScreen())
        plan_screen = await wait_plan(pilot, app)
        assert "cannot be undone" in text_of(plan_screen.query_one("#plan-irreversible"))
        for ack in plan_screen.query(".plan-ack"):
            ack.value = True
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot, app)
        confirm = app.screen
        assert isinstance(confirm, ConfirmSubmitScreen)
        apply_button = confirm.query_one("#confirm-apply", Button)
        assert apply_button.disabled
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        assert app.screen is confirm  # a disabled Apply does nothing
        confirm.query_one("#confirm-type-0", Input).focus()
        await pilot.press(*f"{a} {b}")
        await pilot.pause()
        assert not apply_button.disabled
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        progress = app.screen
        assert isinstance(progress, ApplyProgressScreen)
        assert progress.report is not None
        assert progress.report.succeeded == 1
        assert not any({a, b} <= set(c["ids"]) for c in before)
        clusters = sandbox_state(ws)["mixpanel"]["clusters"]
        assert any({a, b} <= set(cluster["ids"]) for cluster in clusters)


async def test_apply_hitting_401_says_so_and_keeps_the_staged_changes(demo_workspace: Any) -> None:
    ws = demo_workspace
    user = "fresh-user-0401@example.com"
    ws.staged.add(Change.map(user, NEW_GLOBAL))
    transport = httpx.ASGITransport(app=ws.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=ws.connection.base_url) as client:
        response = await client.post("/_sandbox/faults",
                                     json={"path": "/usermap", "method": "POST", "status": 401, "times": 5})
        assert response.status_code < 300, response.text
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await open_confirm(pilot, app)
        await pilot.press("tab", "enter")
        await settle(pilot, app)
        # the router's modal: credentials rejected
        from idconsole.tui.screens.message import MessageScreen

        assert isinstance(app.screen, MessageScreen)
        assert "Credentials rejected" in text_of(app.screen.query_one("#message-title"))
        await pilot.press("enter")
        await settle(pilot, app)
        progress = app.screen
        assert isinstance(progress, ApplyProgressScreen)
        assert "credentials rejected" in text_of(progress.query_one("#apply-title"))
        assert "still staged" in text_of(progress.query_one("#apply-counts"))
        assert [c.user_id for c in ws.staged] == [user]
        assert mapped_to(ws, user) is None
        # the screen stays usable: close goes back
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, (ApplyProgressScreen, PlanScreen))


# --- the rest: cancel, held changes, CSV import, merges in the journal ------------------------------------


async def test_cancel_before_the_next_batch_sends_nothing_more(demo_workspace: Any) -> None:
    ws = demo_workspace
    user = "fresh-user-cancel@example.com"
    ws.staged.add(Change.map(user, NEW_GLOBAL))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        plan = (await wait_plan_pushed(pilot, app)).plan
        screen = ApplyProgressScreen(plan, acknowledge_warnings=True, start=False)
        app.push_screen(screen)
        await settle(pilot, app)
        screen.cancel_event.set()  # as if `c` was pressed before the first batch went out
        screen.start()
        await settle(pilot, app)
        assert screen.report is not None and screen.report.cancelled
        assert "Cancelled" in text_of(screen.query_one("#apply-title"))
        assert [c.user_id for c in ws.staged] == [user]
        assert mapped_to(ws, user) is None


async def wait_plan_pushed(pilot: Any, app: Any) -> PlanScreen:
    app.push_screen(PlanScreen())
    return await wait_plan(pilot, app)


async def open_confirm(pilot: Any, app: Any) -> ConfirmSubmitScreen:
    """Plan the staged set, acknowledge every warning, press s: the confirm dialog."""
    plan_screen = await wait_plan_pushed(pilot, app)
    for ack in plan_screen.query(".plan-ack"):
        ack.value = True
    await pilot.pause()
    await pilot.press("s")
    await settle(pilot, app)
    confirm = app.screen
    assert isinstance(confirm, ConfirmSubmitScreen), type(confirm).__name__
    return confirm


async def test_a_held_change_is_resolved_from_the_editor(demo_workspace: Any) -> None:
    staged = demo_workspace.staged
    change = staged.add(Change.identify(STORY_USER, "$add", {"logins": 1}))
    staged.mark([change.id], status="unknown", journal_id="20250101-000000-0000", note="outcome unknown: timeout")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        assert "held" in table_text(editor.query_one("#staged-table", DataTable))
        assert "outcome unknown: timeout" in text_of(editor.query_one("#staged-note"))
        await pilot.press("R")
        await settle(pilot, app)
        assert app.focused is not None and app.focused.id == "resolve-cancel"
        await pilot.click("#resolve-resend")
        await settle(pilot, app)
        assert not staged.entry(change.id).held
        assert "staged" in table_text(editor.query_one("#staged-table", DataTable))


async def test_import_csv_all_or_nothing(demo_workspace: Any, tmp_path: Any) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"op,user_id,global_user_id\nmap,{CHAIN[0]},{NEW_GLOBAL}\nunmap,{STORY_USER},\n", "utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("op,user_id,global_user_id\nmap,,x\nfrobnicate,a,b\n", "utf-8")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        editor = await open_staged(app, pilot)
        await pilot.press("i")
        await settle(pilot, app)
        app.screen.query_one("#import-path", Input).value = str(bad)
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(demo_workspace.staged) == 0
        note = text_of(editor.query_one("#staged-import-errors"))
        assert "nothing was staged" in note and "line 2" in note and "line 3" in note
        await pilot.press("i")
        await settle(pilot, app)
        app.screen.query_one("#import-path", Input).value = str(good)
        await pilot.press("enter")
        await settle(pilot, app)
        assert [(c.op, c.user_id) for c in demo_workspace.staged] == [("map", CHAIN[0]), ("unmap", STORY_USER)]
        assert editor.query_one("#staged-table", DataTable).row_count == 2
        assert not editor.query_one("#staged-import-errors").display  # a good import clears the list


async def test_a_merge_cannot_be_undone(demo_workspace: Any) -> None:
    ws = demo_workspace
    a, b = "anon-merge-undo-1", "merge-undo-target-1"
    ws.staged.add(Change.mp_merge(a, b))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        plan = (await wait_plan_pushed(pilot, app)).plan
        screen = ApplyProgressScreen(plan, acknowledge_warnings=True, allow_irreversible=True)
        app.push_screen(screen)
        await settle(pilot, app)
        assert screen.report is not None and screen.report.succeeded == 1
        app.push_screen(JournalScreen())
        await settle(pilot, app)
        journal = app.screen
        assert "cannot be undone" in text_of(journal.query_one("#journal-detail-body"))
        undo = [b for b in journal.active_bindings.values() if b.binding.action == "undo"]
        assert undo and not undo[0].enabled  # shown, greyed out
        journal.action_undo()  # reached anyway: the engine says why, nothing is staged
        await settle(pilot, app)
        assert len(ws.staged) == 0


async def test_a_second_submit_is_refused_while_one_is_in_flight(demo_workspace: Any) -> None:
    from idconsole.changes.apply_lock import ApplyLock

    ws = demo_workspace
    ws.staged.add(Change.map("fresh-user-twice@example.com", NEW_GLOBAL))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        plan_screen = await wait_plan_pushed(pilot, app)
        for ack in plan_screen.query(".plan-ack"):
            ack.value = True
        await pilot.pause()
        lock = ApplyLock(ws.state_dir)  # another apply of this profile (this console or a CLI) is running
        assert lock.acquire()
        try:
            assert "already running" in plan_screen.blocked_reason()
            await pilot.press("s")
            await settle(pilot, app)
            assert app.screen is plan_screen
            # reached anyway: the progress screen refuses to start and sends nothing
            screen = ApplyProgressScreen(plan_screen.plan, acknowledge_warnings=True)
            app.push_screen(screen)
            await settle(pilot, app)
            assert screen.report is None
            assert "not started" in text_of(screen.query_one("#apply-counts"))
        finally:
            lock.release()
        assert mapped_to(ws, "fresh-user-twice@example.com") is None
        assert len(ws.staged) == 1


async def test_a_stale_plan_is_refused_and_nothing_is_sent(demo_workspace: Any) -> None:
    """The staged set changes while the confirm dialog is open: the engine refuses the plan, the console
    says so and goes back to a fresh plan of the set as it is now; nothing is sent."""
    ws = demo_workspace
    ws.staged.add(Change.map("fresh-user-stale@example.com", NEW_GLOBAL))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        plan_screen = await wait_plan_pushed(pilot, app)
        for ack in plan_screen.query(".plan-ack"):
            ack.value = True
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmSubmitScreen)
        ws.staged.add(Change.unmap(CHAIN[1]))  # staged after the plan was built
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        assert app.screen is plan_screen
        assert any(n.title == "Submit refused" and "changed since the plan" in n.message
                   for n in app.notifications)
        summary = text_of(plan_screen.query_one("#plan-summary"))
        assert "Apply refused" in summary and "Nothing was sent." in summary and "2 changes" in summary
        assert summary.count("Nothing was sent") == 1  # said once
        assert {p.change.user_id for p in plan_screen.plan.changes} == {"fresh-user-stale@example.com", CHAIN[1]}
        assert len(ws.staged) == 2
        assert ws.journal.entries() == []
        assert mapped_to(ws, "fresh-user-stale@example.com") is None

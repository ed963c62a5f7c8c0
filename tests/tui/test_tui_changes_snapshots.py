"""Pictures of the staged-changes workflow at 120x40: editor, plan, confirm (normal and irreversible),
submit progress (mid-way, from a fixed Progress), results, journal.

Everything shown is deterministic: fixed change ids, plans built by the engine on the demo sandbox,
a fixed Progress value, a report and a journal written with fixed ids and times. Regenerate after a
deliberate change with `pytest tests/test_tui_changes_snapshots.py --snapshot-update`, then LOOK at the SVGs.
"""

from __future__ import annotations

from typing import Any

from tui_support import TUI_SIZE, make_app

from idconsole.changes import ApplyReport, Change, ChangeResult, Progress
from idconsole.sandbox.demo import CHAIN, MARKUP_IDS, STORY_PHONE_USER, STORY_USER
from idconsole.tui.screens.apply_progress import ApplyProgressScreen
from idconsole.tui.screens.confirm import ConfirmSubmitScreen
from idconsole.tui.screens.journal import JournalScreen
from idconsole.tui.screens.plan import PlanScreen
from idconsole.tui.screens.staged import StagedScreen

HOSTILE = MARKUP_IDS[1]


async def _settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def stage_story(ws: Any, *, merge: bool = False) -> list[Change]:
    """The demo's story fix (unmap hank, map the phone user into hank), a property, a hostile id."""
    changes = [
        Change.unmap(STORY_USER, id="c000000000001"),
        Change.map(STORY_PHONE_USER, STORY_USER, id="c000000000002"),
        Change.identify(STORY_USER, "$set", {"plan": "enterprise"}, id="c000000000003"),
        Change.map(HOSTILE, CHAIN[2], id="c000000000004"),
    ]
    if merge:
        changes.append(Change.mp_merge("$device:anon-7f3e9c1a", "mia.wong@initech.io", id="c000000000005"))
    ws.staged.extend(changes)
    return changes


async def _plan(pilot: Any) -> PlanScreen:
    screen = PlanScreen()
    pilot.app.push_screen(screen)
    await _settle(pilot)
    return screen


def test_staged_editor(snap_compare, demo_workspace):
    stage_story(demo_workspace, merge=True)

    async def open_editor(pilot: Any) -> None:
        pilot.app.push_screen(StagedScreen())
        await _settle(pilot)

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=open_editor)


def test_plan(snap_compare, demo_workspace):
    stage_story(demo_workspace)
    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=_plan)


def test_confirm(snap_compare, demo_workspace):
    stage_story(demo_workspace)

    async def confirm(pilot: Any) -> None:
        screen = await _plan(pilot)
        pilot.app.push_screen(ConfirmSubmitScreen(screen.plan))
        await _settle(pilot)

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=confirm)


def test_confirm_irreversible(snap_compare, demo_workspace):
    demo_workspace.staged.add(Change.mp_merge("$device:anon-7f3e9c1a", "mia.wong@initech.io", id="c000000000005"))

    async def confirm(pilot: Any) -> None:
        screen = await _plan(pilot)
        pilot.app.push_screen(ConfirmSubmitScreen(screen.plan))
        await _settle(pilot)
        field = pilot.app.screen.query_one("#confirm-type-0")
        field.value = "$device:anon-7f3e9c1a mia.wong"  # half typed: Apply still disabled
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=confirm)


def test_apply_progress_midway(snap_compare, demo_workspace):
    stage_story(demo_workspace)

    async def midway(pilot: Any) -> None:
        plan = (await _plan(pilot)).plan
        screen = ApplyProgressScreen(plan, acknowledge_warnings=True, start=False)
        pilot.app.push_screen(screen)
        await _settle(pilot)
        screen.set_running(True)  # as while a submit is under way
        screen.show_progress(Progress("sending", done=2, total=4, requests_done=1, requests_total=2, succeeded=2,
                                      eta_seconds=3.0, message="request 2/2: POST /identify (1 identifications)"))
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=midway)


def test_apply_results(snap_compare, demo_workspace):
    changes = stage_story(demo_workspace)

    async def results(pilot: Any) -> None:
        plan = (await _plan(pilot)).plan
        screen = ApplyProgressScreen(plan, acknowledge_warnings=True, start=False)
        pilot.app.push_screen(screen)
        await _settle(pilot)
        report = ApplyReport(
            journal_id="20250611-093000-ab12",
            profile="demo",
            results=[
                ChangeResult(changes[0], "acked", request=1, verified="confirmed"),
                ChangeResult(changes[1], "acked", request=1, verified="pending",
                             note="the mapping is not visible yet"),
                ChangeResult(changes[2], "rejected", error="400 missing_event: identification is malformed",
                             error_kind="rejected", request=2, verified="failed"),
                ChangeResult(changes[3], "acked", request=1, verified="confirmed"),
            ],
            requests_total=2,
            requests_sent=2,
            verification={"c000000000001": "confirmed", "c000000000002": "pending", "c000000000003": "failed",
                          "c000000000004": "confirmed"},
        )
        screen.show_report(report)
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=results)


def write_journal(ws: Any) -> None:
    """Two applies with fixed ids and times: a map/unmap fix, and a Mixpanel merge."""
    journal = ws.journal
    fix = [Change.unmap(STORY_USER, id="c000000000001"), Change.map(STORY_PHONE_USER, STORY_USER, id="c000000000002"),
           Change.map(HOSTILE, CHAIN[2], id="c000000000004")]
    jid = "20250611-093000-ab12"
    journal.append({"type": "begin", "journal_id": jid, "at": "2025-06-11T09:30:00.000+00:00", "profile": "demo",
                    "region": "us", "changes": [c.to_json() for c in fix],
                    "requests": [{"index": 1, "kind": "usermap", "method": "POST", "endpoint": "/usermap", "size": 3,
                                  "changes": [c.id for c in fix]}],
                    "pre_state": {"mappings": {STORY_USER: STORY_PHONE_USER, STORY_PHONE_USER: None, HOSTILE: None},
                                  "mappings_read": True}})
    journal.append({"type": "intent", "journal_id": jid, "at": "2025-06-11T09:30:01.000+00:00", "request": 1})
    journal.append({"type": "ack", "journal_id": jid, "at": "2025-06-11T09:30:01.500+00:00", "request": 1})
    journal.append({"type": "verify", "journal_id": jid, "at": "2025-06-11T09:30:02.000+00:00",
                    "results": {"c000000000001": "confirmed", "c000000000002": "confirmed",
                                "c000000000004": "pending"}})
    journal.append({"type": "end", "journal_id": jid, "at": "2025-06-11T09:30:02.100+00:00", "summary": {}})
    merge = Change.mp_merge("$device:anon-7f3e9c1a", "mia.wong@initech.io", id="c000000000005")
    jid2 = "20250611-101500-cd34"
    journal.append({"type": "begin", "journal_id": jid2, "at": "2025-06-11T10:15:00.000+00:00", "profile": "demo",
                    "region": "us", "changes": [merge.to_json()],
                    "requests": [{"index": 1, "kind": "mp_merge", "method": "POST", "endpoint": "/import?strict=1",
                                  "size": 1, "changes": [merge.id]}]})
    journal.append({"type": "intent", "journal_id": jid2, "at": "2025-06-11T10:15:00.500+00:00", "request": 1})
    journal.append({"type": "ack", "journal_id": jid2, "at": "2025-06-11T10:15:01.000+00:00", "request": 1})
    journal.append({"type": "end", "journal_id": jid2, "at": "2025-06-11T10:15:01.100+00:00", "summary": {}})


def test_journal(snap_compare, demo_workspace):
    write_journal(demo_workspace)

    async def open_journal(pilot: Any) -> None:
        pilot.app.push_screen(JournalScreen())
        await _settle(pilot)
        await pilot.press("down")  # the older entry: the map/unmap fix, which can be undone
        await pilot.pause()

    assert snap_compare(make_app(demo_workspace), terminal_size=TUI_SIZE, run_before=open_journal)

"""The plan warns about a map (or Mixpanel merge) of users whose only device in common is shared (seen under
more than 3 user ids): the rule in changes/shared_devices, the facts from the api (changes/plan_devices)
within a small share of the user search + activity budget — free after an investigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_support import api_log, fresh_budgets, make_client  # noqa: F401

from idconsole.changes import Change, build_plan
from idconsole.changes.plan_devices import NOT_CHECKED, SHARED_DEVICE
from idconsole.changes.shared_devices import (
    SHARED_DEVICE_MAX_USERS,
    DeviceSightings,
    is_shared,
    only_shared_in_common,
)
from idconsole.identity.activity import fetch_activity, targets_of
from idconsole.identity.compare import compare_users
from idconsole.identity.lookup import look_up
from idconsole.identity.mixpanel_lookup import look_up_mixpanel
from idconsole.sandbox import demo
from idconsole.sandbox.demo_events import KIOSK_DEVICE
from idconsole.workspace import Workspace

A, B = demo.BIG_PARENT_CHILDREN[2], demo.BIG_PARENT_CHILDREN[6]
SPENDING = ("/api/2/useractivity", "/api/2/usersearch")


def workspace(sb: Any, tmp_path: Path) -> Workspace:
    client = make_client(sb)
    return Workspace(client.connection, client, state_dir=tmp_path / "state")


def spent(sb: Any) -> int:
    return sum(len(api_log(sb, path)) for path in SPENDING)


def test_the_rule():
    assert SHARED_DEVICE_MAX_USERS == 3 and not is_shared(3) and is_shared(4)
    seen = DeviceSightings()
    for n in range(5):
        seen.add("kiosk", f"u{n}")
    seen.add("phone", "u0")
    seen.add(None, "u9")            # an event without a device says nothing
    seen.add("kiosk", None)         # nor one without a user id
    assert seen.users_of("kiosk") == ("u0", "u1", "u2", "u3", "u4") and seen.is_shared("kiosk")
    count = {"kiosk": 5, "phone": 1}.get
    assert only_shared_in_common(["kiosk", "own"], ["kiosk"], lambda d: count(d) or 0) == ("kiosk",)
    assert only_shared_in_common(["kiosk", "phone"], ["kiosk", "phone"], lambda d: count(d) or 0) == ()
    assert only_shared_in_common(["own"], ["other"], lambda d: 9) == ()


async def test_a_map_of_two_kiosk_users_warns_and_the_story_fix_does_not(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    ws.staged.extend([Change.map(A, B), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER)])
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    (warning,) = [w for w in plan.warnings if w.code == SHARED_DEVICE]
    assert warning.severity == "warning" and warning.change_ids == (plan.changes[0].change.id,)
    assert KIOSK_DEVICE in warning.message and "seen under 12 user ids" in warning.message
    assert not [w for w in plan.warnings if w.code == NOT_CHECKED]
    assert SHARED_DEVICE in plan.changes[0].warnings and SHARED_DEVICE not in plan.changes[1].warnings


async def test_after_an_investigation_the_check_costs_nothing(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    try:
        found = await look_up(ws.client.amplitude, demo.BIG_PARENT)
        await fetch_activity(ws.client, targets_of(found, all_ids=True), max_events=100)
        ws.staged.add(Change.map(A, B))
        sandbox_clean.clear_requests()
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    assert SHARED_DEVICE in [w.code for w in plan.warnings]
    assert spent(sandbox_clean) == 0


async def test_a_low_budget_is_kept_for_the_person_and_says_not_checked(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    budget = ws.client.budget("usersearch")
    budget.book(budget.limit - 50, open=False)
    ws.staged.add(Change.map(A, B))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    assert SHARED_DEVICE not in [w.code for w in plan.warnings]
    (note,) = [w for w in plan.warnings if w.code == NOT_CHECKED]
    assert note.severity == "info" and "budget is low" in note.message
    assert spent(sandbox_clean) == 0


async def test_a_mixpanel_merge_of_ids_that_only_share_a_shared_device(sandbox_clean: Any, tmp_path: Path):
    tablet = "5f1c9a2e-8d3b-4c6a-9e7f-1a2b3c4d5e6f"
    ids = [f"family-member-{n}@example.com" for n in range(5)]
    events = [{"event": "opened", "properties": {"time": 1717400000 + n, "distinct_id": who, "$device_id": tablet,
                                                "$insert_id": f"tablet-{n}"}} for n, who in enumerate(ids)]
    assert sandbox_clean.http.post("/_sandbox/events", json={"mixpanel": events}).json()["kept"] == 5
    ws = workspace(sandbox_clean, tmp_path)
    try:
        for who in ids:                        # the engineer looked each of them up (the Mixpanel view)
            await look_up_mixpanel(ws.client, who)
        comparison = await compare_users(ws.client, ids[0], ids[1], op="mp_merge")   # the compare view
        assert comparison.shared_only
        sandbox_clean.clear_requests()
        ws.staged.add(Change.mp_merge(ids[0], ids[1]))
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    (warning,) = [w for w in plan.warnings if w.code == SHARED_DEVICE]
    assert "merges" in warning.message and tablet in warning.message and "5 user ids" in warning.message
    assert not api_log(sandbox_clean, "/api/query/stream/query")   # the Query API budget is not the plan's


async def test_a_big_plan_reads_mappings_for_the_check_in_batches_not_per_change(sandbox_clean: Any, tmp_path: Path):
    """400 maps of demo users (who have events): the check stops at its share of the budget, and what it
    reads of the mappings goes in requests of up to 100 ids — not one request per change."""
    users = [u for u in demo.BIG_PARENT_CHILDREN][:50]
    ws = workspace(sandbox_clean, tmp_path)
    ws.staged.extend([Change.map(users[i % 50], users[(i + 1) % 50]) for i in range(400)])
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    mapping_reads = len(api_log(sandbox_clean, "/api/2/usermap"))
    # the plan's own graph reads a few rounds of 100-id requests; the check adds at most a couple
    assert mapping_reads <= 12, mapping_reads
    assert spent(sandbox_clean) <= 10 + 10  # the known-ids check's searches plus this check's share
    assert plan.changes and (SHARED_DEVICE in [w.code for w in plan.warnings]
                             or NOT_CHECKED in [w.code for w in plan.warnings])

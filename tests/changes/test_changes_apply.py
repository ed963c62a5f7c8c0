"""apply(): refusals, sending, progress, cancel, unknown outcomes, verification, journal — in-process sandbox."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from test_changes_plan import make_workspace, seed

from idconsole.changes import (
    ApplyRefused,
    Change,
    build_plan,
    drop_change,
    reconcile,
    resolve_unknown,
)
from idconsole.changes import apply as apply_plan
from idconsole.changes.apply_lock import ApplyLock
from idconsole.sandbox.config import DEMO_CREDENTIALS
from idconsole.workspace import DEMO_BASE_URL


@pytest.fixture
async def ws(tmp_path):
    workspace = make_workspace(tmp_path, limits={"usermap": (100_000, 1.0)})
    yield workspace
    await workspace.aclose()


async def control(ws, method: str, path: str, body=None):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app), base_url=DEMO_BASE_URL) as http:
        reply = await http.request(method, path, json=body)
        reply.raise_for_status()
        return reply.json()


async def state(ws):
    return await control(ws, "GET", "/_sandbox/state")


def props_of(doc, user_id):
    for user in doc["amplitude"]["users"]:
        if user["user_id"] == user_id:
            return user["user_properties"]
    return None


def mapping_of(doc, user_id):
    mappings = doc["amplitude"]["mappings"]
    if isinstance(mappings, dict):
        return mappings.get(user_id)
    return dict(mappings).get(user_id)


async def test_refusals_send_nothing(ws):
    ws.staged.add(Change("map", "user-aaaa", "user-aaaa"))  # self-map from an old file: blocking
    plan = await build_plan(ws)
    with pytest.raises(ApplyRefused, match="self_map"):
        await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=True)

    ws.staged.clear()
    ws.staged.add(Change.map("null", "global-0001"))  # junk: a warning
    ws.staged.add(Change.mp_merge("distinct-a", "distinct-b"))
    plan = await build_plan(ws)
    with pytest.raises(ApplyRefused, match="not acknowledged"):
        await apply_plan(ws, plan, acknowledge_warnings=False, allow_irreversible=True)
    with pytest.raises(ApplyRefused, match="irreversible"):
        await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)

    ws.staged.add(Change.unmap("user-bbbb"))  # the staged set changed since the plan
    with pytest.raises(ApplyRefused, match="changed since the plan"):
        await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=True)

    plan = await build_plan(ws)
    lock = ApplyLock(ws.state_dir)
    assert lock.acquire()
    try:
        with pytest.raises(ApplyRefused, match="in flight"):
            await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=True)
    finally:
        lock.release()

    # writes only: the plan reads each Mixpanel id's cluster through engage, which is a POST
    sent = [r for r in await control(ws, "GET", "/_sandbox/requests")
            if r["method"] == "POST" and r["path"] != "/api/query/engage"]
    assert sent == []
    assert len(ws.staged) == 3
    assert ws.journal.entries() == []


async def test_a_second_apply_while_one_runs_is_refused(ws):
    ws.staged.extend(Change.map(f"user-{i:05d}", "global-0001") for i in range(10))
    plan = await build_plan(ws)
    await control(ws, "POST", "/_sandbox/faults", {"path": "/usermap", "status": None, "delay_ms": 300})
    first = asyncio.create_task(apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False))
    while not ws.journal.entries():
        await asyncio.sleep(0.01)
    with pytest.raises(ApplyRefused, match="in flight"):
        await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
    report = await first
    assert report.succeeded == 10


async def test_apply_sends_journals_verifies_and_empties_the_staged_set(ws):
    await seed(ws, [("user-aaaa", "global-old")], [{"user_id": "user-bbbb", "user_properties": {"logins": 5}}])
    ws.staged.add(Change.map("user-aaaa", "global-new"))
    ws.staged.add(Change.identify("user-bbbb", "$add", {"logins": 2}))
    ws.staged.add(Change.identify("user-bbbb", "$set", {"plan": "pro"}))
    ws.staged.add(Change.mp_identify("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "user-00001"))  # a UUID v4 anon id
    plan = await build_plan(ws)
    seen = []
    report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False, progress=seen.append)

    assert report.exit_code == 0 and report.succeeded == 4 and report.failed == []
    doc = report.to_json()
    assert {"journal_id", "submitted", "succeeded", "failed", "verified"} <= set(doc)
    assert doc["submitted"] == 4
    assert doc["verified"]["changes"][plan.changes[0].change.id] == "confirmed"
    assert doc["verified"]["changes"][plan.changes[1].change.id] == "confirmed"  # 5 + 2 == 7
    assert len(ws.staged) == 0

    now = await state(ws)
    assert mapping_of(now, "user-aaaa") == "global-new"
    assert props_of(now, "user-bbbb") == {"logins": 7, "plan": "pro"}

    phases = [p.phase for p in seen]
    assert phases[0] == "prestate" and phases[-1] == "done" and "verifying" in phases
    dones = [p.done for p in seen]
    assert dones == sorted(dones) and seen[-1].done == seen[-1].total == 4

    types = [r["type"] for r in ws.journal.records()]
    assert types[0] == "begin" and types[-2:] == ["verify", "end"]
    assert types.count("intent") == types.count("ack") == len(plan.requests)
    # every intent comes before its ack
    records = list(ws.journal.records())
    for i, record in enumerate(records):
        if record["type"] == "ack":
            assert any(r["type"] == "intent" and r["request"] == record["request"] for r in records[:i])
    entry = ws.journal.get(report.journal_id)
    assert entry.pre_state["mappings"] == {"user-aaaa": "global-old"}
    assert entry.pre_state["properties"]["user-bbbb"] == {"logins": 5}
    raw = ws.journal.path.read_text()
    for secret in DEMO_CREDENTIALS.values():
        if len(secret) > 3:
            assert secret not in raw


async def test_cancel_is_honoured_between_batches(ws):
    ws.staged.extend(Change.map(f"user-{i:05d}", "global-0001") for i in range(4500))
    plan = await build_plan(ws)
    assert len(plan.requests) == 3
    cancel = asyncio.Event()

    def progress(p):
        if p.phase == "sending" and p.requests_done == 1:
            cancel.set()

    report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False,
                              progress=progress, cancel=cancel)
    assert report.cancelled and report.succeeded == 2000 and report.exit_code == 1
    assert len(report.failed) == 2500 and all(r.status == "not_sent" for r in report.failed)
    assert len(ws.staged) == 2500
    entry = ws.journal.get(report.journal_id)
    assert [r.state for r in entry.requests] == ["acked", "planned", "planned"]
    assert entry.finished and entry.stopped == "cancelled"
    now = await state(ws)
    assert len(now["amplitude"]["mappings"]) == 2000
    # the rest goes through on the next apply
    report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
    assert report.succeeded == 2500 and len(ws.staged) == 0


async def test_an_unknown_outcome_is_held_never_resent_and_needs_a_decision(ws):
    await seed(ws, users=[{"user_id": "user-aaaa", "user_properties": {"n": 1}}])
    await control(ws, "POST", "/_sandbox/faults", {"path": "/identify", "status": 500, "after_apply": True})
    add = ws.staged.add(Change.identify("user-aaaa", "$add", {"n": 1}))
    ws.staged.add(Change.map("user-aaaa", "global-0001"))
    report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
    assert report.exit_code == 1
    (unknown,) = report.unknown
    assert unknown.change.id == add.id and unknown.error_kind == "unknown_outcome"
    assert report.verification[add.id] == "confirmed"  # 1 + 1: the evidence that it took effect
    assert [e.change.id for e in ws.staged.entries] == [add.id] and ws.staged.entries[0].held

    plan = await build_plan(ws)
    assert "held" in [w.code for w in plan.needs_acknowledgement]
    assert plan.to_send == [] and plan.held[0].id == add.id
    with pytest.raises(ApplyRefused, match="nothing to send"):
        await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
    identifies = [r for r in await control(ws, "GET", "/_sandbox/requests") if r["path"] == "/identify"]
    assert len(identifies) == 1
    assert props_of(await state(ws), "user-aaaa")["n"] == 2

    resolve_unknown(ws, add.id, applied=True)
    assert len(ws.staged) == 0
    assert ws.journal.get(report.journal_id).resolutions == {add.id: "applied"}


async def test_a_rejected_batch_keeps_its_changes_staged_with_the_reason(ws):
    await control(ws, "POST", "/_sandbox/faults", {"path": "/usermap", "status": 400,
                                                   "body": "invalid mapping: the reason from the server"})
    ws.staged.add(Change.map("user-aaaa", "global-0001"))
    ws.staged.add(Change.identify("user-aaaa", "$set", {"plan": "pro"}))
    report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
    (failed,) = report.failed
    assert failed.status == "rejected" and "the reason from the server" in failed.error
    assert report.succeeded == 1
    (entry,) = ws.staged.entries
    assert entry.change.op == "map" and "the reason from the server" in entry.note
    usermaps = [r for r in await control(ws, "GET", "/_sandbox/requests") if r["path"] == "/usermap"]
    assert len(usermaps) == 1  # never retried
    plan = await build_plan(ws)
    assert "previous_error" in [w.code for w in plan.warnings]


async def test_reconcile_after_a_crash(ws):
    """The journal as a killed apply leaves it: one request acknowledged (its staged write lost), one
    in flight. Reconcile drops the acknowledged change, keeps the idempotent in-flight one, holds the
    non-idempotent one."""
    done = ws.staged.add(Change.map("user-aaaa", "global-0001"))
    inflight_map = ws.staged.add(Change.map("user-bbbb", "global-0001"))
    inflight_add = ws.staged.add(Change.identify("user-cccc", "$add", {"n": 1}))
    never = ws.staged.add(Change.identify("user-dddd", "$add", {"n": 1}))
    jid = "20250101-000000-dead"
    ws.journal.append({"type": "begin", "journal_id": jid, "profile": "demo", "region": "us",
                       "changes": [c.to_json() for c in (done, inflight_map, inflight_add, never)],
                       "requests": [{"index": 1, "kind": "usermap", "changes": [done.id]},
                                    {"index": 2, "kind": "usermap", "changes": [inflight_map.id]},
                                    {"index": 3, "kind": "identify", "changes": [inflight_add.id]},
                                    {"index": 4, "kind": "identify", "changes": [never.id]}]})
    for record in ({"type": "intent", "request": 1}, {"type": "ack", "request": 1},
                   {"type": "intent", "request": 2}, {"type": "intent", "request": 3}):
        ws.journal.append({"journal_id": jid, **record})
    with ws.journal.path.open("a") as fh:
        fh.write('{"journal_id": "20250101-000000-dead", "type": "ack", "requ')  # torn by the kill
    notes = reconcile(ws)
    assert len(notes) == 2
    entries = {e.change.id: e for e in ws.staged.entries}
    assert done.id not in entries
    assert not entries[inflight_map.id].held
    assert entries[inflight_add.id].held and entries[inflight_add.id].journal_id == jid
    assert not entries[never.id].held
    entry = ws.journal.get(jid)
    assert entry.crashed and entry.change_status(inflight_add.id) in ("in_flight", "unknown")


async def test_dropping_a_held_change_is_a_recorded_decision(ws):
    await control(ws, "POST", "/_sandbox/faults", {"path": "/identify", "status": 502})
    add = ws.staged.add(Change.identify("user-aaaa", "$append", {"tags": "vip"}))
    report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
    assert [r.change.id for r in report.unknown] == [add.id]
    drop_change(ws, 1)
    assert len(ws.staged) == 0
    assert ws.journal.get(report.journal_id).resolutions == {add.id: "dropped"}


async def test_cancel_while_the_rate_limit_holds_the_next_batch(tmp_path):
    ws = make_workspace(tmp_path, limits={"usermap": (1500, 60.0)})
    try:
        ws.staged.extend(Change.map(f"user-{i:05d}", "global-0001") for i in range(3000))
        plan = await build_plan(ws)
        assert [r.size for r in plan.requests] == [2000, 1000] and plan.eta_seconds >= 60
        cancel = asyncio.Event()
        waiting = []

        def progress(p):
            if p.message.startswith("waiting"):
                waiting.append(p.message)
                cancel.set()

        report = await asyncio.wait_for(
            apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False, progress=progress,
                       cancel=cancel),
            timeout=45,  # a guard against hanging for the whole window, not a timing assertion
        )
        assert waiting and report.cancelled
        assert report.succeeded == 2000 and len(ws.staged) == 1000
    finally:
        await ws.aclose()


async def test_under_a_scaled_usermap_limit_the_plan_shows_exactly_the_batches_sent(tmp_path):
    # 3000 per window: batches of 1500 (two fill a window), in the plan and on the wire alike
    ws = make_workspace(tmp_path, limits={"usermap": (3000, 0.5)})
    try:
        ws.staged.extend(Change.map(f"user-{i:05d}", "global-0001") for i in range(5000))
        plan = await build_plan(ws)
        assert ws.client.amplitude.usermap_batch_size() == 1500
        assert plan.batch_sizes("usermap") == [1500, 1500, 1500, 500]
        assert plan.to_json()["summary"]["usermap_batches"] == [1500, 1500, 1500, 500]
        report = await asyncio.wait_for(
            apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False),
            timeout=60,  # a guard against hanging, not a timing assertion
        )
        assert report.exit_code == 0 and report.succeeded == 5000 and report.failed == []
        sent = [r for r in await control(ws, "GET", "/_sandbox/requests") if r["path"] == "/usermap"]
        assert [(r["status"], r["items"]) for r in sent] == [(200, n) for n in plan.batch_sizes("usermap")]
        assert [r.change_ids for r in plan.requests] == [
            tuple(c.id for c in plan.to_send[i:i + 1500]) for i in range(0, 5000, 1500)]
        assert len(ws.staged) == 0
    finally:
        await ws.aclose()

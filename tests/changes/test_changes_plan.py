"""The plan: effects on the identity graph, warnings with severities, exact requests, ETA.

Runs on the in-process sandbox (no demo data) with mappings seeded through its control route.
"""

from __future__ import annotations

import dataclasses
import json
import uuid

import httpx
import pytest

from idconsole.api.client import ApiClient
from idconsole.changes import BLOCKING, INFO, WARNING, Change, StagedSet, build_plan
from idconsole.changes.plan import estimate_usermap_seconds
from idconsole.sandbox import SandboxConfig, create_app
from idconsole.workspace import DEMO_BASE_URL, Workspace, demo_connection


def make_workspace(tmp_path, *, region="us", mixpanel=True, readonly=False, limits=None) -> Workspace:
    config = SandboxConfig(demo_data=False)
    if limits and "usermap" in limits:
        config.usermap_rate = limits["usermap"]  # the server at the same (scaled) rate as the client
    app = create_app(config)
    # a host of its own: the client's rate budgets are shared per host + key within a process
    connection = demo_connection(config, base_url=f"http://sandbox-{uuid.uuid4().hex[:12]}.invalid")
    connection = dataclasses.replace(connection, region=region, mixpanel=connection.mixpanel if mixpanel else None)
    client = ApiClient(connection, transport=httpx.ASGITransport(app=app), limits=limits)
    return Workspace(connection, client, readonly=readonly, state_dir=tmp_path / "state", sandbox_app=app)


async def seed(ws: Workspace, mappings=(), users=()) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app), base_url=DEMO_BASE_URL) as http:
        reply = await http.post("/_sandbox/users", json={"mappings": [list(m) for m in mappings],
                                                         "users": list(users)})
        reply.raise_for_status()


@pytest.fixture
async def ws(tmp_path):
    workspace = make_workspace(tmp_path)
    yield workspace
    await workspace.aclose()


def codes(plan, severity=None):
    return [w.code for w in plan.warnings if severity is None or w.severity == severity]


async def test_effects_before_and_after(ws):
    await seed(ws, [("user-aaaa", "global-old")])
    ws.staged.add(Change.map("user-aaaa", "global-new"))
    ws.staged.add(Change.unmap("user-bbbb"))
    plan = await build_plan(ws)
    first, second = plan.changes
    assert [e.to_json() for e in first.effects] == [{"user_id": "user-aaaa", "before": "global-old",
                                                      "after": "global-new"}]
    assert [e.to_json() for e in second.effects] == [{"user_id": "user-bbbb", "before": None, "after": None}]
    assert plan.users["user-aaaa"] == {"before": "global-old", "after": "global-new"}
    assert "replaces_mapping" in codes(plan, WARNING)
    assert "no_op" in codes(plan, INFO)  # unmapping an unmapped user


async def test_chains_are_warnings(ws):
    await seed(ws, [("user-bbbb", "user-cccc"), ("user-xxxx", "user-aaaa")])
    ws.staged.add(Change.map("user-aaaa", "user-bbbb"))
    plan = await build_plan(ws)
    chains = [w for w in plan.warnings if w.code == "chain"]
    assert len(chains) == 2 and all(w.severity == WARNING for w in chains)
    text = " ".join(w.message for w in chains)
    assert "user-aaaa → user-bbbb → user-cccc" in text
    assert "user-xxxx → user-aaaa → user-bbbb" in text
    assert not plan.blocking


@pytest.mark.parametrize("existing", [
    [("user-bbbb", "user-aaaa")],                                  # A→B while B→A
    [("user-bbbb", "user-cccc"), ("user-cccc", "user-aaaa")],      # A→B→C→A
])
async def test_cycles_are_blocking(ws, existing):
    await seed(ws, existing)
    ws.staged.add(Change.map("user-aaaa", "user-bbbb"))
    plan = await build_plan(ws)
    assert "cycle" in codes(plan, BLOCKING)


async def test_a_cycle_inside_the_staged_set_and_its_fix(ws):
    ws.staged.add(Change.map("user-aaaa", "user-bbbb"))
    ws.staged.add(Change.map("user-bbbb", "user-aaaa"))
    assert "cycle" in codes(await build_plan(ws), BLOCKING)
    ws.staged.clear()
    await seed(ws, [("user-bbbb", "user-aaaa")])
    ws.staged.add(Change.unmap("user-bbbb"))       # unmapping first breaks the would-be cycle
    ws.staged.add(Change.map("user-aaaa", "user-bbbb"))
    plan = await build_plan(ws)
    assert "cycle" not in codes(plan)


async def test_self_map_empty_ids_and_unmap_with_global_are_blocking(ws):
    ws.staged.add(Change("map", "user-aaaa", "user-aaaa"))  # staging refuses it; an old file may hold it
    ws.staged.add(Change.from_json({"op": "unmap", "user_id": "user-bbbb", "global_user_id": "g-000001"}))
    ws.staged.add(Change.from_json({"op": "map", "user_id": "", "global_user_id": "g-000001"}))
    plan = await build_plan(ws)
    blocking = codes(plan, BLOCKING)
    assert "self_map" in blocking
    assert blocking.count("invalid") == 2
    by_code = {w.code: w for w in plan.blocking}
    assert plan.positions()[by_code["self_map"].change_ids[0]] == 1


async def test_junk_ids_cancels_and_duplicates_are_warnings(ws):
    ws.staged.add(Change.map("null", "global-0001"))
    ws.staged.add(Change.map("user-aaaa ", "-1"))
    ws.staged.add(Change.map("user-cccc", "global-0001"))
    ws.staged.add(Change.unmap("user-cccc"))
    ws.staged.add(Change.identify("user-dddd", "$add", {"n": 1}))
    ws.staged.add(Change.identify("user-dddd", "$add", {"n": 1}))
    plan = await build_plan(ws)
    warnings = codes(plan, WARNING)
    assert warnings.count("junk_id") == 3
    assert "cancels" in warnings
    dup = [w for w in plan.warnings if w.code == "duplicate"]
    assert dup and "applied twice" in dup[0].message
    assert not plan.blocking


async def test_requests_are_split_like_the_client_and_eta_follows_the_rate(ws):
    ws.staged.extend(Change.map(f"user-{i:05d}", "global-0001") for i in range(5000))
    ws.staged.extend(Change.identify(f"user-{i:05d}", "$set", {"plan": "pro"}) for i in range(3))
    ws.staged.extend(Change.identify(f"user-{i:05d}", "$add", {"n": 1}) for i in range(12))
    ws.staged.add(Change.mp_identify("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "user-00001"))
    ws.staged.add(Change.mp_merge("distinct-a", "distinct-b"))
    plan = await build_plan(ws)
    usermap = [r for r in plan.requests if r.kind == "usermap"]
    assert [r.size for r in usermap] == [2000, 2000, 1000]
    assert all(r.method == "POST" and r.endpoint.endswith("/usermap") for r in usermap)
    assert all(r.bytes <= 1_000_000 for r in usermap)
    identify = [r for r in plan.requests if r.kind == "identify"]
    assert [(r.size, r.idempotent) for r in identify] == [(3, True), (10, False), (2, False)]
    mixpanel = [r for r in plan.requests if r.vendor == "mixpanel"]
    assert [r.endpoint.rsplit("/", 1)[1] for r in mixpanel] == ["track", "import?strict=1"]
    # 2000 now, 2000 after the first leaves the 30 s window, 1000 after the second does
    assert plan.eta_seconds == 60
    assert plan.to_json()["summary"]["usermap_batches"] == [2000, 2000, 1000]
    # every change is carried by exactly one request
    carried = [cid for r in plan.requests for cid in r.change_ids]
    assert sorted(carried) == sorted(c.id for c in ws.staged)


def test_eta_estimate():
    assert estimate_usermap_seconds([], 1500, 30, 1500) == 0
    assert estimate_usermap_seconds([1500], 1500, 30, 1500) == 0
    assert estimate_usermap_seconds([1000, 1000], 1500, 30, 1500) == 30
    assert estimate_usermap_seconds([100], 1500, 30, 0) == 30
    assert estimate_usermap_seconds([2000, 2000], 5000, 2, 5000) == 0


async def test_irreversible_non_idempotent_and_json_shape(ws):
    ws.staged.add(Change.mp_merge("distinct-a", "distinct-b"))
    ws.staged.add(Change.identify("user-aaaa", "$append", {"tags": "vip"}))
    plan = await build_plan(ws)
    assert {"irreversible", "non_idempotent"} <= set(codes(plan, WARNING))
    doc = json.loads(json.dumps(plan.to_json()))
    assert {"changes", "warnings", "requests", "irreversible"} <= set(doc)
    assert [c["op"] for c in doc["irreversible"]] == ["mp_merge"]
    assert doc["changes"][0]["irreversible"] is True and doc["changes"][1]["idempotent"] is False
    assert all(set(w) >= {"code", "severity", "message", "changes"} for w in doc["warnings"])


async def test_profile_mismatch_is_blocking(ws):
    StagedSet.load(ws.state_dir / "staged.json", "someone-else").add(Change.unmap("user-aaaa"))
    plan = await build_plan(ws)
    assert "profile_mismatch" in codes(plan, BLOCKING)


async def test_vendor_without_credentials_and_readonly_are_blocking(tmp_path):
    ws = make_workspace(tmp_path, mixpanel=False, readonly=True)
    try:
        ws.staged.add(Change.mp_alias("alias-0001", "distinct-01"))
        plan = await build_plan(ws)
        assert {"vendor_not_configured", "readonly"} <= set(codes(plan, BLOCKING))
    finally:
        await ws.aclose()


async def test_eu_identify_is_unverifiable(tmp_path):
    ws = make_workspace(tmp_path, region="eu")
    try:
        ws.staged.add(Change.identify("user-aaaa", "$set", {"plan": "pro"}))
        plan = await build_plan(ws)
        assert "unverifiable" in codes(plan, WARNING)
    finally:
        await ws.aclose()


async def test_mixpanel_cluster_cap_is_blocking(ws):
    ws.staged.extend(Change.mp_merge(f"id-{i:04d}", f"id-{i + 1:04d}") for i in range(500))
    plan = await build_plan(ws)
    assert "cluster_cap" in codes(plan, BLOCKING)


async def test_identify_requests_keep_the_staged_order(ws):
    add = ws.staged.add(Change.identify("user-aaaa", "$add", {"n": 1}))
    first_set = ws.staged.add(Change.identify("user-aaaa", "$set", {"n": 5}))
    second_set = ws.staged.add(Change.identify("user-bbbb", "$set", {"n": 5}))
    plan = await build_plan(ws)
    assert [r.change_ids for r in plan.requests] == [(add.id,), (first_set.id, second_set.id)]
    assert [r.idempotent for r in plan.requests] == [False, True]

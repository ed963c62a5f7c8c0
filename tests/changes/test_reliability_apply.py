"""Reliability of apply against a real `idconsole sandbox serve` subprocess: volume, random faults,
SIGKILL mid-apply and restart, 401 mid-apply, 400 batches. Nothing of idconsole is mocked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_helpers import NO_KEYRING, REPO, json_out, run_cli, sandbox_env

from idconsole.api.client import ApiClient
from idconsole.api.transport import RetryPolicy
from idconsole.changes import Change, Journal, build_plan, reconcile
from idconsole.changes import apply as apply_plan
from idconsole.sandbox import SandboxConfig
from idconsole.workspace import Workspace, demo_connection


def workspace_for(server, tmp_path: Path, *, rate: tuple[int, float] | None = None, attempts: int = 6) -> Workspace:
    connection = demo_connection(SandboxConfig(), base_url=server.base_url, name="reliability")
    client = ApiClient(connection, limits={"usermap": rate} if rate else None, retry=RetryPolicy.fast(attempts))
    return Workspace(connection, client, state_dir=tmp_path / "state")


def mappings_of(server) -> dict[str, str]:
    mappings = server.state()["amplitude"]["mappings"]
    return dict(mappings) if not isinstance(mappings, dict) else mappings


def clicks_of(server, prefix: str) -> dict[str, int]:
    """user -> the `clicks` property of every user whose id starts with `prefix` (absent = 0)."""
    return {
        user["user_id"]: user["user_properties"].get("clicks", 0)
        for user in server.state()["amplitude"]["users"]
        if (user["user_id"] or "").startswith(prefix)
    }


async def test_5000_mappings_land_exactly(start_sandbox, tmp_path):
    server = start_sandbox("--usermap-rate", "5000/2")
    before = mappings_of(server)
    ws = workspace_for(server, tmp_path, rate=(5000, 2.0))
    try:
        wanted = {f"vol-user-{i:05d}": f"vol-global-{i % 97:03d}" for i in range(5000)}
        ws.staged.extend(Change.map(u, g) for u, g in wanted.items())
        plan = await build_plan(ws)
        # a 5000-per-window budget: equal batches of 1666, three to a window (usermap_batch_size)
        assert [r.size for r in plan.requests] == [1666, 1666, 1666, 2]
        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()
        assert report.succeeded == 5000 and report.verified_summary()["confirmed"] == 5000
        after = mappings_of(server)
        assert {u: g for u, g in after.items() if u.startswith("vol-")} == wanted
        assert {u: g for u, g in after.items() if not u.startswith("vol-")} == before
        assert server.state()["counters"]["mappings"] == 5000
        usermaps = [r for r in server.requests() if r["path"] == "/usermap"]
        assert [r["status"] for r in usermaps] == [200, 200, 200, 200]
        assert len(ws.staged) == 0
    finally:
        await ws.aclose()


@pytest.mark.slow
@pytest.mark.parametrize("seed", ["2", "7"])  # seed 2 once exposed a double-applied $add (429 after apply)
async def test_random_faults_every_change_once_and_an_honest_report(start_sandbox, tmp_path, seed):
    server = start_sandbox("--fail-rate", "0.2", "--seed", seed, "--usermap-rate", "2500/2")
    ws = workspace_for(server, tmp_path, rate=(2500, 2.0))
    try:
        maps = {f"flaky-user-{i:05d}": f"flaky-global-{i % 13:02d}" for i in range(4500)}
        ws.staged.extend(Change.map(u, g) for u, g in maps.items())
        adds = [Change.identify(f"flaky-add-{i:04d}", "$add", {"clicks": 1}) for i in range(120)]
        ws.staged.extend(adds)
        ws.staged.extend(Change.identify(f"flaky-set-{i:04d}", "$set", {"plan": "pro"}) for i in range(30))

        acked: set[str] = set()
        unknown: set[str] = set()
        reports = []
        for _ in range(8):  # apply until only held changes (unknown outcomes) remain
            if not [e for e in ws.staged.entries if not e.held]:
                break
            try:
                plan = await build_plan(ws)
            except Exception:  # the plan's own lookups can meet a fault that outlives the retries
                continue
            report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
            reports.append(report)
            acked |= {r.change.id for r in report.results if r.status == "acked"}
            unknown |= {r.change.id for r in report.results if r.status == "unknown"}
            for result in report.failed:  # every failure says why
                assert result.error, result
        assert all(not e.held or e.change.id in unknown for e in ws.staged.entries)
        assert {e.change.id for e in ws.staged.entries} == unknown  # what is left is exactly what is unknown
        assert not acked & unknown

        # every mapping is there (maps are idempotent: retried safely until acknowledged)
        after = mappings_of(server)
        assert {u: after.get(u) for u in maps} == maps
        # every $set took effect
        sets = {u["user_id"]: u["user_properties"] for u in server.state()["amplitude"]["users"]
                if (u["user_id"] or "").startswith("flaky-set-")}
        assert len(sets) == 30 and all(p == {"plan": "pro"} for p in sets.values())
        # $add: never applied twice; applied once for every acknowledged one; the rest only if unknown
        clicks = clicks_of(server, "flaky-add-")
        by_change = {c.id: clicks.get(c.user_id, 0) for c in adds}
        if any(value > 1 for value in by_change.values()):
            _explain_double_apply(server)
        acked_adds = [c for c in adds if c.id in acked]
        assert all(by_change[c.id] == 1 for c in acked_adds)
        assert all(by_change[c.id] == 0 for c in adds if c.id not in acked and c.id not in unknown)
        applied_unknown = sum(by_change[c.id] for c in adds if c.id in unknown)
        assert sum(by_change.values()) == len(acked_adds) + applied_unknown
        # the reports named every unknown outcome as such
        named = {cid for r in reports for cid in r.to_json()["unknown"]}
        assert named == unknown
        # and a held change is never re-sent by a later apply
        if unknown:
            snapshot = clicks_of(server, "flaky-add-")
            ws.staged.add(Change.map("flaky-extra-0001", "flaky-global-00"))
            for _ in range(3):
                report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True,
                                          allow_irreversible=False)
                if report.stopped is None:
                    break
            assert all(r.status == "held" for r in report.results if r.change.id in unknown)
            assert clicks_of(server, "flaky-add-") == snapshot
    finally:
        await ws.aclose()


def _explain_double_apply(server) -> None:
    faults = [r.get("fault") or "" for r in server.requests() if r["path"] == "/identify"]
    raise AssertionError(f"an $add was applied twice; /identify faults: {faults}")


def _journal_records(state_home: Path) -> list[dict]:
    path = state_home / "idconsole" / "env" / "journal.jsonl"
    if not path.exists():
        return []
    return list(Journal(path).records())


@pytest.mark.slow
def test_sigkill_mid_apply_then_restart_completes_without_doubling(start_sandbox, tmp_path):
    server = start_sandbox("--latency-ms", "150")
    env = sandbox_env(server)
    state_home = Path(os.environ["XDG_STATE_HOME"])
    rows = ["op,user_id,global_user_id,key,value"]
    rows += [f"map,kill-user-{i:04d},kill-global-{i % 7}" for i in range(1200)]
    rows += [f"add,kill-add-{i:03d},,clicks,1" for i in range(60)]
    csv = tmp_path / "kill.csv"
    csv.write_text("\n".join(rows) + "\n")
    assert run_cli("stage", "import", str(csv), env=env).returncode == 0

    full = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    full.update(env, PYTHON_KEYRING_BACKEND=NO_KEYRING, PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "idconsole", "apply", "--yes", "--json"], cwd=REPO, env=full,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        # kill once a batch is acknowledged and the next request is in flight
        while time.monotonic() < deadline and proc.poll() is None:
            records = _journal_records(state_home)
            if any(r["type"] == "ack" for r in records) and records[-1]["type"] == "intent":
                break
            time.sleep(0.005)
        assert proc.poll() is None, "apply finished before it could be killed; slow the sandbox down"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    # after the restart: the journal says what the server acknowledged ...
    entry = json_out(run_cli("journal", "show", _journal_records(state_home)[0]["journal_id"], "--json", env=env))
    assert entry["finished"] is False
    acked_ids = {c["id"] for c in entry["changes"] if c["status"] == "acked"}
    inflight_ids = {c["id"] for c in entry["changes"] if c["status"] in ("in_flight", "unknown")}
    assert acked_ids and inflight_ids
    # ... and the staged set holds exactly the rest, the in-flight $adds held
    listing = json_out(run_cli("stage", "list", "--json", env=env))
    staged_ids = {item["id"] for item in listing}
    assert not staged_ids & acked_ids
    assert len(staged_ids) + len(acked_ids) == 1260
    held = {item["id"] for item in listing if item["status"] == "unknown"}
    assert held == {i for i in inflight_ids if i in {x["id"] for x in listing if x["op"] == "identify"}}
    assert all(item["op"] == "identify" for item in listing if item["id"] in held)

    # applying again completes the rest and never re-sends a held $add
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode in (0, 1), result.stderr
    report = json_out(result)
    assert {f["change"]["id"] for f in report["failed"]} == held
    assert all(f["kind"] == "held" for f in report["failed"])
    maps = mappings_of(server)
    assert all(maps.get(f"kill-user-{i:04d}") == f"kill-global-{i % 7}" for i in range(1200))
    clicks = clicks_of(server, "kill-add-")
    assert all(value in (0, 1) for value in clicks.values()), "an $add was applied twice"
    ids_by_user = {item["user_id"]: item["id"] for item in listing if item["op"] == "identify"}
    assert all(clicks.get(user, 0) == 1 for user, cid in ids_by_user.items() if cid not in held)

    # the explicit decision: a held $add the server shows applied is dropped (done); one it does not
    # show is staged again. Then everything is applied exactly once.
    for item in reversed(json_out(run_cli("stage", "list", "--json", env=env))):
        assert item["status"] == "unknown"
        if clicks.get(item["user_id"], 0) == 0:
            assert run_cli("stage", "set", item["user_id"], "clicks=1", "--op", "$add", env=env).returncode == 0
        assert run_cli("stage", "drop", str(item["n"]), env=env).returncode == 0
    if json_out(run_cli("stage", "list", "--json", env=env)):
        assert run_cli("apply", "--yes", env=env).returncode == 0
    assert set(clicks_of(server, "kill-add-").values()) == {1}
    assert len(clicks_of(server, "kill-add-")) == 60


async def test_401_mid_apply_stops_cleanly_and_loses_nothing(start_sandbox, tmp_path):
    server = start_sandbox("--usermap-rate", "5000/2")
    ws = workspace_for(server, tmp_path, rate=(5000, 2.0))
    try:
        changes = [Change.map(f"auth-user-{i:05d}", "auth-global-0") for i in range(5000)]
        ws.staged.extend(changes)
        plan = await build_plan(ws)
        armed = []

        def progress(p):
            # once the first batch is acknowledged, the next /usermap answers 401
            if p.phase == "sending" and p.requests_done == 1 and not armed:
                armed.append(True)
                httpx.post(server.base_url + "/_sandbox/faults", json={
                    "path": "/usermap", "method": "POST", "status": 401, "body": "invalid_api_key"}).raise_for_status()

        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False, progress=progress)
        assert report.stopped == "auth" and report.exit_code == 3
        assert report.succeeded == 1666
        statuses = {r.status for r in report.results[1666:3332]} | {"x"}
        assert statuses == {"rejected", "x"}
        assert {r.status for r in report.results[3332:]} == {"not_sent"}
        # nothing lost: everything not acknowledged is still staged, in order
        assert [c.id for c in ws.staged] == [c.id for c in changes[1666:]]
        entry = ws.journal.get(report.journal_id)
        assert [r.state for r in entry.requests] == ["acked", "rejected", "planned", "planned"]
        assert entry.requests[1].error["kind"] == "auth"
        assert entry.finished and entry.stopped == "auth"
        assert len([u for u in mappings_of(server) if u.startswith("auth-user-")]) == 1666
        # with the credentials fixed (the fault was one-shot) the rest goes through
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0 and report.succeeded == 3334
        assert len([u for u in mappings_of(server) if u.startswith("auth-user-")]) == 5000
    finally:
        await ws.aclose()


async def test_a_400_batch_is_reported_with_the_reason_and_not_retried(start_sandbox, tmp_path):
    server = start_sandbox("--usermap-rate", "5000/2")
    ws = workspace_for(server, tmp_path, rate=(5000, 2.0))
    try:
        server.fault(path="/usermap", method="POST", status=400,
                     body='{"error": "mapping 17 is invalid: the reason the server gave"}')
        ws.staged.extend(Change.map(f"rej-user-{i:05d}", "rej-global-0") for i in range(3000))
        server.clear_requests()
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 1 and report.stopped is None
        assert report.succeeded == 1334
        rejected = [r for r in report.results if r.status == "rejected"]
        assert len(rejected) == 1666
        assert all("the reason the server gave" in r.error for r in rejected)
        usermaps = [(r["status"], r["items"]) for r in server.requests() if r["path"] == "/usermap"]
        assert usermaps == [(400, None), (200, 1334)] or [s for s, _ in usermaps] == [400, 200]
        assert len(ws.staged) == 1666
        assert "the reason the server gave" in ws.staged.entries[0].note
        entry = ws.journal.get(report.journal_id)
        assert [r.state for r in entry.requests] == ["rejected", "acked"]
        assert "the reason the server gave" in json.dumps(entry.requests[0].error)
        assert reconcile(ws) == []  # rejected is final: nothing to reconcile
    finally:
        await ws.aclose()

"""Injected faults over real HTTP: scripted faults, dropped connections, fail-rate determinism, latency."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sandbox_helpers import API_KEY


def post_map(client, user_id, target="fault-g"):
    mapping = json.dumps([{"user_id": user_id, "global_user_id": target}])
    return client.post("/usermap", data={"api_key": API_KEY, "mapping": mapping})


def mapped(sb, user_id):
    return user_id in sb.state()["amplitude"]["mappings"]


def test_scripted_fault_before_handler(sandbox_clean):
    sandbox_clean.fault(path="/usermap", status=503, body="try later", headers={"Retry-After": "1"}, times=2)
    for _ in range(2):
        r = post_map(sandbox_clean.http, "sf-1")
        assert (r.status_code, r.text, r.headers["retry-after"]) == (503, "try later", "1")
        assert not mapped(sandbox_clean, "sf-1")
    assert post_map(sandbox_clean.http, "sf-1").status_code == 200
    assert mapped(sandbox_clean, "sf-1")
    assert [e["fault"] for e in sandbox_clean.requests()] == ["scripted:503:before"] * 2 + [None]


def test_scripted_fault_after_apply_changes_state(sandbox_clean):
    sandbox_clean.fault(path="/usermap", method="POST", status=502, after_apply=True, content_type="text/html",
                        body="<html>bad gateway</html>")  # fmt: skip
    r = post_map(sandbox_clean.http, "sf-after")
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert mapped(sandbox_clean, "sf-after")  # applied, answer lost


def test_fault_matches_method_and_path_only(sandbox_clean):
    sandbox_clean.fault(path="/api/2/usermap", method="POST", status=500)
    r = sandbox_clean.http.get(
        "/api/2/usermap", params={"user_ids": "x"}, auth=(API_KEY, "sandbox-secret-key")
    )
    assert r.status_code == 200
    assert post_map(sandbox_clean.http, "other-path").status_code == 200
    sandbox_clean.clear_faults()
    assert sandbox_clean.http.get("/_sandbox/faults").json()["faults"] == []


@pytest.mark.parametrize("after_apply", [False, True])
def test_dropped_connection_is_seen_by_httpx(sandbox_clean, after_apply):
    # the session server's stderr holds earlier tests' output too: only what this test adds counts
    earlier = len(sandbox_clean.stderr())
    sandbox_clean.fault(path="/usermap", reset=True, after_apply=after_apply)
    with sandbox_clean.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            post_map(client, "drop-1")
        assert mapped(sandbox_clean, "drop-1") is after_apply
        assert post_map(client, "drop-2").status_code == 200  # the client recovers on a new connection
    assert sandbox_clean.requests()[0]["status"] is None
    assert "Exception" not in sandbox_clean.stderr()[earlier:]


def test_delay_only_fault_and_client_timeout(sandbox_clean):
    sandbox_clean.fault(path="/usermap", status=None, delay_ms=400)
    start = time.monotonic()
    assert post_map(sandbox_clean.http, "slow-1").status_code == 200
    assert time.monotonic() - start >= 0.4
    sandbox_clean.fault(path="/usermap", status=None, delay_ms=1500, after_apply=True)
    with sandbox_clean.client() as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/usermap", data={"api_key": API_KEY, "mapping": '{"user_id":"s2","global_user_id":"g"}'},
                        timeout=0.3)  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    [
        {"path": "usermap"},
        {"path": "/x", "times": 0},
        {"path": "/x", "status": 999},
        {"path": "/x", "headers": []},
    ],
)
def test_fault_validation(sandbox, bad):
    r = sandbox.http.post("/_sandbox/faults", json=bad)
    assert r.status_code == 400 and r.json()["ok"] is False


def outcomes(sb, count=40):
    seen = []
    with sb.client() as client:
        for i in range(count):
            try:
                r = post_map(client, f"fr-{i}")
                seen.append(r.status_code)
            except httpx.RemoteProtocolError:
                seen.append("drop")
    return seen


def test_fail_rate_is_deterministic_per_seed(start_sandbox):
    sb = start_sandbox("--fail-rate", "0.5", "--seed", "3", "--no-demo-data")
    first = outcomes(sb)
    log = [e["fault"] for e in sb.requests()]
    applied = set(sb.state()["amplitude"]["mappings"])
    sb.reset()
    assert outcomes(sb) == first
    assert [e["fault"] for e in sb.requests()] == log
    assert {500, 502, 503, 429, "drop", 200} <= set(first)
    # half the failures happen after the handler: applied although the client saw a failure
    after = [i for i, f in enumerate(log) if f and f.endswith(":after")]
    before = [i for i, f in enumerate(log) if f and f.endswith(":before")]
    assert after and before
    assert {f"fr-{i}" for i in after} <= applied and not {f"fr-{i}" for i in before} & applied
    other = start_sandbox("--fail-rate", "0.5", "--seed", "4", "--no-demo-data")
    assert outcomes(other) != first


def test_random_429_has_retry_after(start_sandbox):
    sb = start_sandbox("--fail-rate", "1", "--seed", "1", "--no-demo-data")
    with sb.client() as client:
        for i in range(30):
            try:
                r = post_map(client, f"ra-{i}")
            except httpx.RemoteProtocolError:
                continue
            assert r.status_code in (500, 502, 503, 429)
            if r.status_code == 429:
                assert r.headers["retry-after"] == "1"
    # control routes are never faulted
    assert sb.http.get("/_sandbox/state").status_code == 200


def test_latency_applies_to_api_not_control(start_sandbox):
    sb = start_sandbox("--latency-ms", "300", "--no-demo-data")
    start = time.monotonic()
    assert post_map(sb.http, "lat-1").status_code == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    sb.state()
    assert time.monotonic() - start < 0.3

"""Control routes, reset, request log hygiene, bulk seeding, demo data and the `serve` command line."""

from __future__ import annotations

import json
import re
import time

import pytest
from sandbox_helpers import API_KEY, MP_API_SECRET, SA, SECRET_KEY, TOKEN

from idconsole.sandbox import DEMO_CREDENTIALS, SandboxConfig, create_app, demo
from idconsole.sandbox import serve as serve_module


def test_ready_line_gives_a_real_port(sandbox):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.base_url)
    assert not sandbox.base_url.endswith(":0")


def test_state_document_shape(sandbox_clean):
    state = sandbox_clean.state()
    assert set(state) == {"amplitude", "mixpanel", "events", "counters"}
    amp = state["amplitude"]
    assert 190 <= len(amp["users"]) <= 220
    assert amp["mappings"][demo.STORY_USER] == demo.STORY_PHONE_USER
    assert {"user_id", "amplitude_id", "device_ids", "user_properties", "computed_properties", "cohort_ids",
            "recommendations", "propensities"} <= set(amp["users"][0])  # fmt: skip
    sizes = {c["canonical"]: len(c["ids"]) for c in state["mixpanel"]["clusters"]}
    assert sizes[demo.MP_BIG_CLUSTER] == 498
    assert state["mixpanel"]["aliases"] == {demo.MP_ALIAS[0]: demo.MP_ALIAS[1]}


def test_reset_restores_the_initial_data(sandbox_clean):
    before = sandbox_clean.state()
    mapping = json.dumps({"user_id": "tmp-u", "global_user_id": "tmp-g"})
    sandbox_clean.http.post("/usermap", data={"api_key": API_KEY, "mapping": mapping})
    sandbox_clean.fault(path="/usermap", status=500)
    assert sandbox_clean.state() != before and sandbox_clean.requests()
    sandbox_clean.reset()
    assert sandbox_clean.state() == before
    assert sandbox_clean.requests() == []
    assert sandbox_clean.http.get("/_sandbox/faults").json()["faults"] == []


def test_request_log_never_holds_secrets(sandbox_clean):
    mapping = json.dumps([{"user_id": "log-u", "global_user_id": "log-g"}])
    http = sandbox_clean.http
    http.post("/usermap", data={"api_key": API_KEY, "mapping": mapping})
    http.post("/usermap", params={"api_key": API_KEY, "mapping": mapping})
    http.get("/api/2/usermap", params={"user_ids": "log-u"}, auth=(API_KEY, SECRET_KEY))
    http.get(
        "/v1/userprofile", params={"user_id": "log-u"}, headers={"Authorization": f"Api-Key {SECRET_KEY}"}
    )
    http.post("/identify", data={"api_key": API_KEY, "identification": '{"user_id": "log-u"}'})
    http.post("/track", data={"data": json.dumps({"event": "x", "properties": {"token": TOKEN}})})
    http.post("/import?strict=1&project_id=1", json=[], auth=SA)
    http.get("/api/query/engage", params={"distinct_id": "x"}, auth=(MP_API_SECRET, ""))
    log = sandbox_clean.requests()
    assert len(log) == 8
    text = json.dumps(log)
    for secret in (API_KEY, SECRET_KEY, TOKEN, MP_API_SECRET, SA[1]):
        assert secret not in text
    first = log[0]
    assert first == {"method": "POST", "path": "/usermap", "query": "", "status": 200,
                     "body_bytes": first["body_bytes"], "items": 1, "fault": None}  # fmt: skip
    assert first["body_bytes"] > 50
    assert log[1]["query"].startswith("mapping=")
    assert log[2]["items"] == 1
    sandbox_clean.clear_requests()
    assert sandbox_clean.requests() == []


def test_bulk_seed_ten_thousand_users_into_one(sandbox_clean):
    start = time.monotonic()
    result = sandbox_clean.seed_users(
        mappings=[(f"bulk-{i:05d}", "bulk-parent@example.com") for i in range(10_000)],
        users=[{"user_id": "bulk-parent@example.com", "user_properties": {"plan": "pro"}}],
    )
    assert result["ok"] is True
    r = sandbox_clean.http.get(
        "/api/2/usermap", params={"user_ids": "bulk-parent@example.com"}, auth=(API_KEY, SECRET_KEY)
    )
    mapped_from = r.json()["bulk-parent@example.com"]["mapped_from"]
    assert len(mapped_from) == 10_000 and mapped_from[0]["user_id"] == "bulk-00000"
    assert time.monotonic() - start < 10
    bad = sandbox_clean.http.post("/_sandbox/users", json={"clusters": [{"ids": []}]})
    assert bad.status_code == 400


def test_unknown_route_is_404_and_logged(sandbox_clean):
    assert sandbox_clean.http.get("/nope").status_code == 404
    assert sandbox_clean.http.get("/usermap").status_code == 405
    assert [e["status"] for e in sandbox_clean.requests()] == [404, 405]


def test_custom_credentials_and_data_file(start_sandbox, tmp_path):
    data = {
        "amplitude": {"users": [{"user_id": "file-user", "user_properties": {"plan": "pro"}}],
                      "mappings": [["file-child", "file-user"]]},
        "mixpanel": {"clusters": [{"ids": ["mp-file"], "properties": {"$name": "From file"}}]},
    }  # fmt: skip
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    sb = start_sandbox(
        "--data", str(path), "--api-key", "k-custom", "--secret-key", "s-custom", "--project-id", "42"
    )
    state = sb.state()
    assert [u["user_id"] for u in state["amplitude"]["users"]] == ["file-user", "file-child"]
    mapping = json.dumps({"user_id": "a", "global_user_id": "b"})
    assert sb.http.post("/usermap", data={"api_key": API_KEY, "mapping": mapping}).status_code == 401
    assert sb.http.post("/usermap", data={"api_key": "k-custom", "mapping": mapping}).status_code == 200
    r = sb.http.get("/api/query/engage", params={"distinct_id": "mp-file", "project_id": "42"}, auth=SA)
    assert r.json()["results"][0]["$properties"] == {"$name": "From file"}
    sb.stop()
    assert sb.proc.returncode is not None  # terminated, no stray process


def test_no_demo_data_starts_empty():
    app = create_app(SandboxConfig(demo_data=False))
    assert app.state.sandbox.state.export()["amplitude"]["users"] == []


def test_in_process_state_is_reachable():
    app = create_app()
    assert app.state.sandbox.state.amplitude.get(demo.STORY_USER).amplitude_id == 100000001
    assert DEMO_CREDENTIALS["api_key"] == SandboxConfig().api_key == "sandbox-api-key"
    assert "sandbox-secret-key" not in repr(SandboxConfig())


def test_demo_is_deterministic_and_has_its_notable_ids():
    assert demo.build() == demo.build()
    users = {u["user_id"] for u in demo.build()["amplitude"]["users"]}
    for user_id in (*demo.MARKUP_IDS, *demo.UNICODE_IDS, demo.LONG_ID, *demo.ZERO_WIDTH_IDS, demo.CONTROL_CHAR_ID,
                    *demo.JUNK_IDS, demo.BIDI_ID, *demo.CHAIN, *demo.CYCLE, demo.BIG_PARENT, demo.STORY_USER):  # fmt: skip
        assert user_id in users
    assert "\x1b[" in demo.CONTROL_CHAR_ID and "\u200b" in demo.ZERO_WIDTH_IDS[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--fail-rate", "2"], "probability"),
        (["--usermap-rate", "abc"], "N/SECONDS"),
        (["--usermap-rate", "10/0"], "N/SECONDS"),
        (["--port", "70000"], "port"),
        (["--latency-ms", "-5"], "--latency-ms"),
        (["--bogus"], "unrecognized"),
        (["--data", "/definitely/not/here.json"], "cannot load"),
    ],
)
def test_serve_bad_values_exit_2(capsys, args, fragment):
    assert serve_module.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert fragment in captured.err


def test_serve_help_exits_0(capsys):
    assert serve_module.main(["--help"]) == 0
    assert "--usermap-rate" in capsys.readouterr().out


def test_a_server_that_cannot_start_fails_fast_with_its_stderr():
    from sandbox_helpers import SandboxServer

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="probability"):
        SandboxServer.start("--fail-rate", "9")
    assert time.monotonic() - start < 15

"""Server-side rolling-window rate limits over real HTTP (small windows so the tests stay fast)."""

from __future__ import annotations

import json
import time

import pytest
from sandbox_helpers import API_KEY, SA, SECRET_KEY

from idconsole.sandbox import demo
from idconsole.sandbox.limits import RollingWindow, retry_after_header


@pytest.fixture(scope="module")
def limited():
    from sandbox_helpers import SandboxServer

    server = SandboxServer.start(
        "--usermap-rate",
        "100/2",
        "--usersearch-rate",
        "3/60",
        "--profile-rate",
        "3/60",
        "--engage-rate",
        "2/60",
    )
    yield server
    server.stop()


def post_map(sb, n, prefix):
    mapping = json.dumps([{"user_id": f"{prefix}-{i}", "global_user_id": f"{prefix}-g"} for i in range(n)])
    return sb.http.post("/usermap", data={"api_key": API_KEY, "mapping": mapping})


def test_usermap_rolling_window_counts_mappings(limited):
    limited.reset()
    assert post_map(limited, 60, "w1").status_code == 200
    r = post_map(limited, 50, "w2")
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 2
    assert "w2-0" not in limited.state()["amplitude"]["mappings"]  # throttled whole, nothing applied
    assert post_map(limited, 40, "w3").status_code == 200  # exactly 100 in the window
    r = post_map(limited, 1, "w4")
    assert r.status_code == 429
    time.sleep(int(r.headers["retry-after"]))
    assert post_map(limited, 1, "w4").status_code == 200
    log = [(e["status"], e["items"]) for e in limited.requests()]
    assert log == [(200, 60), (429, 50), (200, 40), (429, 1), (200, 1)]


def test_usermap_window_is_rolling_not_fixed(limited):
    limited.reset()
    assert post_map(limited, 50, "r1").status_code == 200
    time.sleep(1.1)
    assert post_map(limited, 50, "r2").status_code == 200
    time.sleep(1.0)  # the first 50 left the window, the second 50 are still in it
    assert post_map(limited, 50, "r3").status_code == 200
    assert post_map(limited, 1, "r4").status_code == 429


def test_batch_larger_than_the_limit_needs_an_empty_window(limited):
    limited.reset()
    assert post_map(limited, 150, "big").status_code == 200
    assert post_map(limited, 1, "after-big").status_code == 429


def test_usersearch_360_per_hour_analogue(limited):
    limited.reset()
    for _ in range(3):
        r = limited.http.get(
            "/api/2/usersearch", params={"user": demo.STORY_USER}, auth=(API_KEY, SECRET_KEY)
        )
        assert r.status_code == 200
    r = limited.http.get("/api/2/usersearch", params={"user": demo.STORY_USER}, auth=(API_KEY, SECRET_KEY))
    assert r.status_code == 429 and "error" in r.json()
    assert 59 <= int(r.headers["retry-after"]) <= 60
    limited.reset()  # reset clears the windows
    r = limited.http.get("/api/2/usersearch", params={"user": demo.STORY_USER}, auth=(API_KEY, SECRET_KEY))
    assert r.status_code == 200


def test_profile_per_minute_limit(limited):
    limited.reset()
    headers = {"Authorization": f"Api-Key {SECRET_KEY}"}
    for _ in range(3):
        assert (
            limited.http.get(
                "/v1/userprofile", params={"user_id": demo.STORY_USER}, headers=headers
            ).status_code
            == 200
        )
    r = limited.http.get("/v1/userprofile", params={"user_id": demo.STORY_USER}, headers=headers)
    assert r.status_code == 429
    assert r.json()["error"].startswith("Number of requests per minute exceeds system limit.")


def test_engage_limit_when_enabled(limited):
    limited.reset()
    for _ in range(2):
        assert (
            limited.http.get(
                "/api/query/engage", params={"distinct_id": "x", "project_id": "1"}, auth=SA
            ).status_code
            == 200
        )
    r = limited.http.get("/api/query/engage", params={"distinct_id": "x", "project_id": "1"}, auth=SA)
    assert r.status_code == 429 and "retry-after" in r.headers


def test_rolling_window_unit():
    now = [0.0]
    window = RollingWindow(10, 30, clock=lambda: now[0])
    assert window.acquire(6) is None
    now[0] = 10
    assert window.acquire(4) is None
    assert window.acquire(1) == pytest.approx(20)  # the first 6 leave at t=30
    now[0] = 30
    assert window.acquire(5) is None and window.used() == 9
    assert window.acquire(20) == pytest.approx(30)  # over the whole limit: wait for an empty window
    assert retry_after_header(0.01) == "1" and retry_after_header(2.2) == "3"


DEEP = "[" * 10_000 + "]" * 10_000  # parses into a RecursionError with plain json.loads


@pytest.mark.parametrize(("method", "path", "send", "refused"), [
    ("POST", "/usermap", {"data": {"api_key": API_KEY, "mapping": DEEP}}, 400),
    ("POST", "/identify", {"data": {"api_key": API_KEY, "identification": DEEP}}, 400),
    ("POST", "/api/2/usermap", {"content": DEEP, "auth": (API_KEY, SECRET_KEY)}, 400),
    ("POST", "/api/2/userunmap", {"content": DEEP, "auth": (API_KEY, SECRET_KEY)}, 400),
    ("POST", "/identity/create", {"content": DEEP, "auth": SA}, 400),
    ("POST", "/identity/create-alias", {"content": DEEP, "auth": SA}, 400),
    ("POST", "/identity/merge", {"content": DEEP, "auth": SA}, 400),
    ("POST", "/import?project_id=1&strict=1", {"content": DEEP, "auth": SA}, 400),
    ("POST", "/import?project_id=1", {"data": {"data": DEEP, "verbose": "1"}, "auth": SA}, 400),
    ("POST", "/api/query/engage?project_id=1", {"data": {"distinct_ids": DEEP}, "auth": SA}, 400),
    ("POST", "/2/httpapi", {"content": DEEP, "headers": {"content-type": "application/json"}}, 400),
    ("POST", "/batch", {"content": DEEP, "headers": {"content-type": "application/json"}}, 400),
    # /track, /engage and /groups answer every refusal with HTTP 200 and status 0 (their contract)
    ("POST", "/track", {"data": {"data": DEEP, "verbose": "1"}}, 200),
    ("POST", "/engage", {"data": {"data": DEEP, "verbose": "1"}}, 200),
    ("POST", "/groups", {"data": {"data": DEEP, "verbose": "1"}}, 200),
    ("POST", "/_sandbox/faults", {"content": DEEP}, 400),
    ("POST", "/_sandbox/users", {"content": DEEP}, 400),
    ("POST", "/_sandbox/entitlements", {"content": DEEP}, 400),
])  # fmt: skip
def test_a_10000_deep_body_is_refused_not_a_500(sandbox_clean, method, path, send, refused):
    r = sandbox_clean.http.request(method, path, **send)
    assert r.status_code == refused, r.text
    if refused == 200:
        assert r.json()["status"] == 0
    assert sandbox_clean.http.get("/_sandbox/health").status_code == 200


def test_json_nested_beyond_100_levels_is_refused_as_a_sandbox_limit(sandbox_clean):
    from idconsole.sandbox.web import MAX_JSON_DEPTH

    value: object = "leaf"
    for _ in range(MAX_JSON_DEPTH):
        value = [value]
    event = {"event": "Deep", "properties": {"distinct_id": "deep-1", "token": "sandbox-token", "v": value}}
    r = sandbox_clean.http.post("/track", data={"data": json.dumps(event), "verbose": "1"})
    assert r.json()["status"] == 0  # 102 levels with the event and its properties
    event["properties"]["v"] = value[0][0][0]  # type: ignore[index]
    r = sandbox_clean.http.post("/track", data={"data": json.dumps(event), "verbose": "1"})
    assert r.json() == {"status": 1, "error": None}
    assert sandbox_clean.http.get("/_sandbox/state").status_code == 200

"""Amplitude user mapping over real HTTP: POST /usermap and GET /api/2/usermap."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from sandbox_helpers import API_KEY, SECRET_KEY

from idconsole.sandbox import demo


def post_map(sb, mapping, *, api_key=API_KEY, raw=None) -> httpx.Response:
    data = {"mapping": raw if raw is not None else json.dumps(mapping)}
    if api_key is not None:
        data["api_key"] = api_key
    return sb.http.post("/usermap", data=data)


def get_map(sb, *ids: str, auth=(API_KEY, SECRET_KEY)) -> httpx.Response:
    return sb.http.get("/api/2/usermap", params=[("user_ids", i) for i in ids], auth=auth)


def test_map_creates_users_and_answers_both_directions(sandbox_clean):
    r = post_map(sandbox_clean, [{"user_id": "new-u@example.com", "global_user_id": "new-g@example.com"}])
    assert r.status_code == 200
    assert r.text == "success"
    body = get_map(sandbox_clean, "new-u@example.com", "new-g@example.com", "never-seen").json()
    u, g = sandbox_clean.user("new-u@example.com"), sandbox_clean.user("new-g@example.com")
    assert body["new-u@example.com"] == {
        "mapped_from": [],
        "mapped_to": [{"amplitude_id": g["amplitude_id"], "user_id": "new-g@example.com"}],
    }
    assert body["new-g@example.com"]["mapped_from"] == [
        {"amplitude_id": u["amplitude_id"], "user_id": "new-u@example.com"}
    ]
    assert body["never-seen"] == {"mapped_from": [], "mapped_to": []}
    assert sandbox_clean.user("never-seen") is None  # looking up does not create


def test_single_object_and_query_params_are_accepted(sandbox_clean):
    r = post_map(sandbox_clean, {"user_id": "solo", "global_user_id": "solo-g"})
    assert r.status_code == 200
    # the vendor's curl example sends both fields in the query string
    mapping = json.dumps([{"user_id": "q-u", "global_user_id": "q-g"}])
    r = sandbox_clean.http.post("/usermap", params={"api_key": API_KEY, "mapping": mapping})
    assert r.status_code == 200
    assert sandbox_clean.state()["amplitude"]["mappings"]["q-u"] == "q-g"


def test_remap_replaces_and_unmap_removes(sandbox_clean):
    post_map(sandbox_clean, [{"user_id": "r-u", "global_user_id": "r-g1"}])
    post_map(sandbox_clean, [{"user_id": "r-u", "global_user_id": "r-g2"}])
    body = get_map(sandbox_clean, "r-u", "r-g1", "r-g2").json()
    assert [m["user_id"] for m in body["r-u"]["mapped_to"]] == ["r-g2"]
    assert body["r-g1"]["mapped_from"] == []
    assert [m["user_id"] for m in body["r-g2"]["mapped_from"]] == ["r-u"]
    assert post_map(sandbox_clean, [{"user_id": "r-u", "unmap": True}]).status_code == 200
    assert get_map(sandbox_clean, "r-u").json()["r-u"] == {"mapped_from": [], "mapped_to": []}
    # unmapping an unmapped (or unknown) user is accepted and changes nothing
    before = sandbox_clean.state()["amplitude"]
    assert post_map(sandbox_clean, [{"user_id": "ghost-never-seen", "unmap": True}]).status_code == 200
    assert sandbox_clean.state()["amplitude"]["users"] == before["users"]


def test_amplitude_ids_are_stable_and_deterministic(sandbox_clean):
    first = sandbox_clean.state()["amplitude"]
    assert first["users"][0] == {**first["users"][0], "user_id": demo.STORY_USER, "amplitude_id": 100000001}
    post_map(sandbox_clean, [{"user_id": "det-a", "global_user_id": "det-b"}])
    ids = {u["user_id"]: u["amplitude_id"] for u in sandbox_clean.state()["amplitude"]["users"]}
    assert ids["det-b"] == ids["det-a"] + 1 == first["next_amplitude_id"] + 1
    sandbox_clean.reset()
    post_map(sandbox_clean, [{"user_id": "det-a", "global_user_id": "det-b"}])
    again = {u["user_id"]: u["amplitude_id"] for u in sandbox_clean.state()["amplitude"]["users"]}
    assert again == ids


def test_demo_chain_cycle_and_big_parent(sandbox_clean):
    a, b, c = demo.CHAIN
    x, y = demo.CYCLE
    body = get_map(sandbox_clean, a, b, c, x, y, demo.BIG_PARENT, demo.STORY_USER).json()
    assert body[a]["mapped_to"][0]["user_id"] == b and body[b]["mapped_to"][0]["user_id"] == c
    assert body[x]["mapped_to"][0]["user_id"] == y and body[y]["mapped_to"][0]["user_id"] == x
    assert [m["user_id"] for m in body[demo.BIG_PARENT]["mapped_from"]] == list(demo.BIG_PARENT_CHILDREN)
    assert len(body[demo.BIG_PARENT]["mapped_from"]) == 60
    assert body[demo.STORY_USER]["mapped_to"][0]["user_id"] == demo.STORY_PHONE_USER


def test_hostile_ids_round_trip(sandbox_clean):
    ids = [
        *demo.MARKUP_IDS,
        *demo.UNICODE_IDS,
        demo.LONG_ID,
        *demo.ZERO_WIDTH_IDS,
        demo.CONTROL_CHAR_ID,
        demo.BIDI_ID,
    ]
    body = get_map(sandbox_clean, *ids).json()
    assert list(body) == ids
    assert body[demo.MARKUP_IDS[0]]["mapped_to"][0]["user_id"] == demo.MARKUP_IDS[1]
    assert len(demo.LONG_ID) == 300


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "missing mapping"),
        ("{not json", "not valid JSON"),
        ("[]", "empty"),
        ('[{"user_id": "a", "global_user_id": "b"}, 7]', "mapping[1] is not an object"),
        ('[{"global_user_id": "b"}]', "mapping[0]: user_id"),
        ('[{"user_id": "", "global_user_id": "b"}]', "mapping[0]: user_id"),
        ('[{"user_id": 5, "global_user_id": "b"}]', "mapping[0]: user_id"),
        ('[{"user_id": "a"}]', "mapping[0]: global_user_id"),
        ('[{"user_id": "a", "global_user_id": "b", "unmap": true}]', "not allowed with unmap"),
        ('[{"user_id": "a", "unmap": "yes"}]', "unmap must be"),
        ('[{"user_id": "a", "global_user_id": "\\ud800"}]', "not valid JSON"),
    ],
)
def test_bad_mappings_are_400_with_reason(sandbox, raw, reason):
    data = {"api_key": API_KEY}
    if raw is not None:
        data["mapping"] = raw
    r = sandbox.http.post("/usermap", data=data)
    assert r.status_code == 400
    assert reason in r.text


def test_bad_batch_is_rejected_whole(sandbox_clean):
    r = post_map(sandbox_clean, [{"user_id": "atom-1", "global_user_id": "atom-g"}, {"user_id": "atom-2"}])
    assert r.status_code == 400 and "mapping[1]" in r.text
    assert sandbox_clean.user("atom-1") is None
    assert "atom-1" not in sandbox_clean.state()["amplitude"]["mappings"]


@pytest.mark.parametrize("api_key", [None, "", "wrong-key"])
def test_usermap_bad_key_is_401(sandbox, api_key):
    r = post_map(sandbox, [{"user_id": "k", "global_user_id": "g"}], api_key=api_key)
    assert r.status_code == 401
    assert r.text == "Invalid API key"


def test_2000_mappings_pass_2001_do_not(sandbox_clean):
    batch = [{"user_id": f"bulk-{i}", "global_user_id": "bulk-parent"} for i in range(2001)]
    r = post_map(sandbox_clean, batch)
    assert r.status_code == 400 and "2001" in r.text
    assert post_map(sandbox_clean, batch[:2000]).status_code == 200
    assert len(get_map(sandbox_clean, "bulk-parent").json()["bulk-parent"]["mapped_from"]) == 2000


def _body_of_size(size: int) -> bytes:
    """An urlencoded /usermap body of exactly `size` bytes: 1000 mappings with long ids, then padding."""
    mapping = [{"user_id": f"sz{i:04d}" + "x" * 400, "global_user_id": "big-g"} for i in range(1000)]
    body = urlencode({"api_key": API_KEY, "mapping": json.dumps(mapping)})
    assert len(body) < size - 3
    return (body + "&z=" + "0" * (size - len(body) - 3)).encode()


@pytest.mark.parametrize(("size", "status"), [(1024 * 1024, 200), (1024 * 1024 + 1, 413)])
def test_one_megabyte_limit(sandbox_clean, size, status):
    body = _body_of_size(size)
    assert len(body) == size
    r = sandbox_clean.http.post(
        "/usermap", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == status, r.text[:200]


def test_get_usermap_auth(sandbox):
    r = get_map(sandbox, "x", auth=None)
    assert r.status_code == 401 and "Missing credentials" in r.text
    r = get_map(sandbox, "x", auth=(API_KEY, "wrong"))
    assert r.status_code == 401 and r.text == "Invalid credentials"
    r = get_map(sandbox, "x", auth=(SECRET_KEY, API_KEY))
    assert r.status_code == 401


def test_get_usermap_id_count_limits(sandbox_clean):
    assert get_map(sandbox_clean).status_code == 400
    ok = get_map(sandbox_clean, *[f"id-{i}" for i in range(100)])
    assert ok.status_code == 200 and len(ok.json()) == 100
    r = get_map(sandbox_clean, *[f"id-{i}" for i in range(101)])
    assert r.status_code == 400 and "101" in r.text


def test_get_usermap_accepts_form_body(sandbox_clean):
    # the vendor's python example sends the ids as a form body on GET
    r = sandbox_clean.http.request(
        "GET",
        "/api/2/usermap",
        content=f"user_ids={demo.CHAIN[0]}&user_ids={demo.CHAIN[1]}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(API_KEY, SECRET_KEY),
    )
    assert r.status_code == 200
    assert set(r.json()) == {demo.CHAIN[0], demo.CHAIN[1]}


def allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize(("path", "methods"), [
    ("/api/2/usermap", {"GET", "HEAD", "POST", "OPTIONS"}),  # GET (wire) and POST (seed) on one path
    ("/usermap", {"POST", "OPTIONS"}),
    ("/track", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/2/httpapi", {"POST", "OPTIONS"}),
    ("/api/query/engage", {"GET", "HEAD", "POST", "OPTIONS"}),
])  # fmt: skip
def test_options_and_405_list_every_method_of_the_path(sandbox, path, methods):
    r = sandbox.http.options(path)
    assert r.status_code == 204 and allowed(r) == methods
    r = sandbox.http.request("PATCH", path)
    assert r.status_code == 405 and allowed(r) == methods
    assert sandbox.http.request("PATCH", "/no/such/path").status_code == 404


@pytest.fixture(scope="module")
def no_entitlement():
    from sandbox_helpers import SandboxServer

    server = SandboxServer.start("--no-usermap-entitlement")
    yield server
    server.stop()


NO_USERMAP = "Forbidden: this project does not have User Mapping; it needs the Portfolio add-on"


def test_a_project_without_the_entitlement_answers_403_after_the_key(no_entitlement):
    no_entitlement.reset()
    mapping = [{"user_id": "ent-u", "global_user_id": "ent-g"}]
    r = post_map(no_entitlement, mapping)
    assert r.status_code == 403 and r.text.startswith(NO_USERMAP)
    assert post_map(no_entitlement, mapping, api_key="wrong").status_code == 401  # bad key: still 401
    r = get_map(no_entitlement, demo.CHAIN[0])
    assert r.status_code == 403 and r.text.startswith(NO_USERMAP)
    assert get_map(no_entitlement, demo.CHAIN[0], auth=(API_KEY, "wrong")).status_code == 401
    for seed in ("/api/2/usermap", "/api/2/userunmap"):
        r = no_entitlement.http.post(seed, json={"mapping": mapping}, auth=(API_KEY, SECRET_KEY))
        assert r.status_code == 403 and r.json()["success"] is False and r.json()["code"] == 403
        assert r.json()["error"].startswith(NO_USERMAP)
    assert "ent-u" not in no_entitlement.state()["amplitude"]["mappings"]
    # everything else still works
    r = no_entitlement.http.get("/api/2/usersearch", params={"user": demo.STORY_USER}, auth=(API_KEY, SECRET_KEY))
    assert r.status_code == 200


def test_the_entitlement_switches_at_run_time(sandbox_clean):
    assert sandbox_clean.http.get("/_sandbox/entitlements").json() == {"ok": True, "usermap": True}
    try:
        assert sandbox_clean.http.post("/_sandbox/entitlements", json={"usermap": False}).json()["usermap"] is False
        assert post_map(sandbox_clean, [{"user_id": "sw-u", "global_user_id": "sw-g"}]).status_code == 403
        sandbox_clean.reset()  # it is config: a reset keeps it
        assert get_map(sandbox_clean, "sw-u").status_code == 403
        assert sandbox_clean.http.post("/_sandbox/entitlements", json={"usermap": "no"}).status_code == 400
    finally:
        sandbox_clean.http.post("/_sandbox/entitlements", json={"usermap": True})
    assert post_map(sandbox_clean, [{"user_id": "sw-u", "global_user_id": "sw-g"}]).status_code == 200

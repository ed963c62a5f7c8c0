"""Mixpanel identity over real HTTP: /track, /import, /api/query/engage."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from sandbox_helpers import MP_API_SECRET, SA, TOKEN

from idconsole.sandbox import demo

IMPORT = "/import?strict=1&project_id=1"


def track(sb, events, *, verbose=True, encode=False):
    data = json.dumps(events)
    if encode:
        data = base64.b64encode(data.encode()).decode()
    form = {"data": data}
    if verbose:
        form["verbose"] = "1"
    return sb.http.post("/track", data=form)


def identify_event(identified, anon, token=TOKEN):
    return {
        "event": "$identify",
        "properties": {"$identified_id": identified, "$anon_id": anon, "token": token},
    }


def alias_event(alias, distinct_id, token=TOKEN):
    return {
        "event": "$create_alias",
        "properties": {"distinct_id": distinct_id, "alias": alias, "token": token},
    }


def merge_event(a, b, token=TOKEN):
    return {"event": "$merge", "properties": {"$distinct_ids": [a, b], "token": token}}


def cluster(sb, distinct_id):
    for c in sb.state()["mixpanel"]["clusters"]:
        if distinct_id in c["ids"]:
            return c
    return None


def engage(sb, distinct_id, auth=SA, project_id="1"):
    params = {"distinct_id": distinct_id}
    if project_id is not None:
        params["project_id"] = project_id
    return sb.http.get("/api/query/engage", params=params, auth=auth)


def test_identify_fixes_the_story_phone(sandbox_clean):
    r = track(sandbox_clean, identify_event(demo.STORY_USER, demo.STORY_MP_PHONE_ANON))
    assert (r.status_code, r.json()) == (200, {"status": 1, "error": None})
    c = cluster(sandbox_clean, demo.STORY_MP_PHONE_ANON)
    assert c["canonical"] == demo.STORY_USER and demo.STORY_MP_WEB_ANON in c["ids"]
    # the same pair again is a harmless no-op
    assert (
        track(sandbox_clean, identify_event(demo.STORY_USER, demo.STORY_MP_PHONE_ANON)).json()["status"] == 1
    )


def test_identify_refuses_an_anon_already_merged(sandbox_clean):
    r = track(sandbox_clean, identify_event("someone-else@example.com", demo.STORY_MP_WEB_ANON))
    assert r.status_code == 200  # the nasty part: failure with HTTP 200
    assert r.json()["status"] == 0 and "already" in r.json()["error"]
    assert cluster(sandbox_clean, "someone-else@example.com") is None


def test_track_plain_answers_and_base64(sandbox_clean):
    r = track(sandbox_clean, identify_event("plain-user", "plain-anon"), verbose=False)
    assert (r.status_code, r.text) == (200, "1")
    r = track(sandbox_clean, identify_event("plain-user", "plain-anon", token="wrong"), verbose=False)
    assert (r.status_code, r.text) == (200, "0")
    r = track(sandbox_clean, [identify_event("b64-user", "b64-anon")], encode=True)
    assert r.json() == {"status": 1, "error": None}
    assert cluster(sandbox_clean, "b64-anon")["canonical"] == "b64-user"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "missing"),
        ("not json at all!", "not a JSON"),
        ("[]", "missing"),
        (json.dumps({"event": "x"}), "properties"),
        (json.dumps(identify_event("a", "b", token="other-token")), "token"),
        (
            json.dumps({"event": "$identify", "properties": {"$identified_id": "a", "token": TOKEN}}),
            "$anon_id",
        ),
    ],
)
def test_track_failures_are_status_0_with_http_200(sandbox, data, fragment):
    form = {"verbose": "1"}
    if data is not None:
        form["data"] = data
    r = sandbox.http.post("/track", data=form)
    assert r.status_code == 200
    assert r.json()["status"] == 0 and fragment in r.json()["error"]


def test_alias_maps_to_exactly_one_distinct_id(sandbox_clean):
    assert track(sandbox_clean, alias_event("al-1", "al-target")).json()["status"] == 1
    assert cluster(sandbox_clean, "al-1")["canonical"] == "al-target"
    assert track(sandbox_clean, alias_event("al-1", "al-target")).json()["status"] == 1
    r = track(sandbox_clean, alias_event("al-1", "al-other"))
    assert r.json()["status"] == 0 and "already points to" in r.json()["error"]
    r = track(sandbox_clean, alias_event(demo.MP_ALIAS[0], "someone-new"))
    assert r.json()["status"] == 0


def test_cluster_cap_500_on_track(sandbox_clean):
    big = demo.MP_BIG_CLUSTER
    assert len(cluster(sandbox_clean, big)["ids"]) == 498
    assert track(sandbox_clean, identify_event(big, "cap-anon-1")).json()["status"] == 1
    assert track(sandbox_clean, identify_event(big, "cap-anon-2")).json()["status"] == 1
    assert len(cluster(sandbox_clean, big)["ids"]) == 500
    r = track(sandbox_clean, identify_event(big, "cap-anon-3"))
    assert r.status_code == 200 and r.json()["status"] == 0 and "500" in r.json()["error"]
    assert len(cluster(sandbox_clean, big)["ids"]) == 500


def test_ordinary_events_are_counted(sandbox_clean):
    events = [{"event": "Page Viewed", "properties": {"distinct_id": "counted-1", "token": TOKEN}}] * 3
    assert track(sandbox_clean, events).json()["status"] == 1
    assert cluster(sandbox_clean, "counted-1")["events"] == 3
    assert sandbox_clean.state()["counters"]["events_tracked"] == 3


def test_merge_via_json_body(sandbox_clean):
    r = sandbox_clean.http.post(IMPORT, json=[merge_event("mj-a", "mj-b")], auth=SA)
    assert (r.status_code, r.json()) == (200, {"code": 200, "num_records_imported": 1, "status": "OK"})
    assert cluster(sandbox_clean, "mj-a")["ids"] == ["mj-a", "mj-b"]


def test_merge_via_form_data_verbose_and_api_secret(sandbox_clean):
    form = {"data": json.dumps([merge_event(demo.STORY_USER, demo.STORY_MP_PHONE_ANON)]), "verbose": "1"}
    r = sandbox_clean.http.post("/import?strict=1", data=form, auth=(MP_API_SECRET, ""))
    assert r.status_code == 200 and r.json()["num_records_imported"] == 1
    assert cluster(sandbox_clean, demo.STORY_MP_PHONE_ANON)["canonical"] == demo.STORY_USER


def test_import_ndjson_and_gzip(sandbox_clean):
    body = "\n".join(json.dumps(e) for e in (merge_event("nd-a", "nd-b"), merge_event("nd-c", "nd-d")))
    r = sandbox_clean.http.post(
        IMPORT, content=gzip.compress(body.encode()), auth=SA,
        headers={"content-type": "application/x-ndjson", "content-encoding": "gzip"},
    )  # fmt: skip
    assert r.json()["num_records_imported"] == 2


def test_merge_over_500_is_a_failed_record(sandbox_clean):
    sandbox_clean.seed_users(clusters=[{"ids": [f"side-{i}" for i in range(3)]}])
    r = sandbox_clean.http.post(IMPORT, json=[merge_event(demo.MP_BIG_CLUSTER, "side-0")], auth=SA)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 400 and body["status"] == "Bad Request" and body["num_records_imported"] == 0
    assert body["failed_records"][0]["index"] == 0
    assert body["failed_records"][0]["field"] == "properties.$distinct_ids"
    assert "500" in body["failed_records"][0]["message"]


def test_strict_import_is_all_or_nothing(sandbox_clean):
    events = [
        merge_event("st-a", "st-b"),
        {"event": "$merge", "properties": {"$distinct_ids": ["x"], "token": TOKEN}},
    ]
    r = sandbox_clean.http.post(IMPORT, json=events, auth=SA)
    assert r.status_code == 400
    assert [f["index"] for f in r.json()["failed_records"]] == [1]
    assert cluster(sandbox_clean, "st-a") is None
    # without strict the good record goes in and the bad one is skipped
    r = sandbox_clean.http.post("/import?project_id=1", json=events, auth=SA)
    assert r.status_code == 200 and r.json()["num_records_imported"] == 1
    assert cluster(sandbox_clean, "st-a")["ids"] == ["st-a", "st-b"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (merge_event("a", "b", token="nope"), "properties.token"),
        ({"event": "Signup", "properties": {"distinct_id": "a", "token": TOKEN}}, "properties.time"),
        ({"event": "", "properties": {"token": TOKEN}}, "event"),
        ("just a string", "event"),
    ],
)
def test_import_validation_fields(sandbox, event, field):
    r = sandbox.http.post(IMPORT, json=[event], auth=SA)
    assert r.status_code == 400 and r.json()["failed_records"][0]["field"] == field


def test_import_auth(sandbox):
    body = [merge_event("au-a", "au-b")]
    cases = [
        (None, "/import?strict=1&project_id=1", 401),
        (("sandbox-sa", "wrong"), "/import?strict=1&project_id=1", 401),
        (SA, "/import?strict=1", 400),
        (SA, "/import?strict=1&project_id=999", 401),
        ((MP_API_SECRET, "not-empty"), "/import?strict=1", 401),
    ]
    for auth, url, status in cases:
        r = sandbox.http.post(url, json=body, auth=auth)
        assert r.status_code == status, (auth, url)
        assert r.json()["status"] == 0
    r = sandbox.http.post("/import?strict=1&project_id=1", json=body, auth=("x", "y"))
    assert r.json() == {"error": "Invalid credentials", "status": 0}


def test_import_limits(sandbox_clean):
    events = [merge_event(f"lim-{i}", f"lim-{i}-b") for i in range(2001)]
    r = sandbox_clean.http.post(IMPORT, json=events, auth=SA)
    assert r.status_code == 400 and "2001" in r.json()["error"]
    assert sandbox_clean.http.post(IMPORT, json=events[:2000], auth=SA).json()["num_records_imported"] == 2000
    big = json.dumps([merge_event("x" * (10 * 1024 * 1024), "y")])
    r = sandbox_clean.http.post(IMPORT, content=big, headers={"content-type": "application/json"}, auth=SA)
    assert r.status_code == 413


def test_engage_answers_the_canonical_id(sandbox_clean):
    r = engage(sandbox_clean, demo.STORY_MP_WEB_ANON)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok" and body["total"] == 1 and body["page"] == 0
    assert body["results"][0]["$distinct_id"] == demo.STORY_USER
    assert body["results"][0]["$properties"]["$name"] == "Hank Scorpio"
    assert isinstance(body["session_id"], str)
    unknown = engage(sandbox_clean, "$device:never-seen").json()
    assert unknown["results"] == [] and unknown["total"] == 0


def test_engage_post_form_and_hostile_profile(sandbox_clean):
    r = sandbox_clean.http.post(
        "/api/query/engage?project_id=1", data={"distinct_id": demo.CONTROL_CHAR_ID}, auth=SA
    )
    result = r.json()["results"][0]
    assert result["$distinct_id"] == demo.MP_HOSTILE_ID
    assert result["$properties"]["bio"] == "\x1b[2J\x1b[H"


def test_engage_auth(sandbox):
    assert engage(sandbox, "x", auth=None).status_code == 401
    assert engage(sandbox, "x", project_id=None).status_code == 400
    assert engage(sandbox, "x", auth=(MP_API_SECRET, ""), project_id=None).status_code == 200

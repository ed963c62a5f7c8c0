"""Mixpanel identity over real HTTP: /track, /import, /api/query/engage."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

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


def anon(n: int) -> str:
    """A UUID v4 device id, as `$identify`'s `$anon_id` must be."""
    return str(uuid.UUID(int=n, version=4))


def test_track_plain_answers_and_base64(sandbox_clean):
    r = track(sandbox_clean, identify_event("plain-user", anon(1)), verbose=False)
    assert (r.status_code, r.text) == (200, "1")
    r = track(sandbox_clean, identify_event("plain-user", anon(1), token="wrong"), verbose=False)
    assert (r.status_code, r.text) == (200, "0")
    r = track(sandbox_clean, [identify_event("b64-user", anon(2))], encode=True)
    assert r.json() == {"status": 1, "error": None}
    assert cluster(sandbox_clean, anon(2))["canonical"] == "b64-user"


@pytest.mark.parametrize("bad", ["plain-anon", "anon-1234", "3f6c2a9e-5b1d-1c7e-9a0f-2d8b6e1c4a77",
                                 "3f6c2a9e-5b1d-4c7e-7a0f-2d8b6e1c4a77", "3f6c2a9e5b1d4c7e9a0f2d8b6e1c4a77",
                                 "$device:not-a-uuid", " 3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a77"])
def test_identify_refuses_an_anon_id_that_is_not_a_uuid4(sandbox_clean, bad):
    r = track(sandbox_clean, identify_event("uuid-user", bad))
    assert r.status_code == 200 and r.json()["status"] == 0 and "UUID v4" in r.json()["error"]
    assert cluster(sandbox_clean, "uuid-user") is None and cluster(sandbox_clean, bad) is None
    r = sandbox_clean.http.post(IMPORT, json=[identify_event("uuid-user", bad)], auth=SA)
    assert r.status_code == 400 and r.json()["failed_records"][0]["field"] == "properties.$anon_id"
    r = sandbox_clean.http.post("/identity/create", auth=SA,
                                json={"$identified_id": "uuid-user", "$anon_id": bad, "$token": TOKEN})
    assert r.json()["status"] == 0 and "UUID v4" in r.json()["error"]
    assert cluster(sandbox_clean, "uuid-user") is None


def test_identify_takes_uuid4_in_either_case_and_the_sdks_device_prefix(sandbox_clean):
    for i, anon_id in enumerate([anon(7), anon(8).upper(), f"$device:{anon(9)}"]):
        assert track(sandbox_clean, identify_event(f"ok-user-{i}", anon_id)).json()["status"] == 1
        assert cluster(sandbox_clean, anon_id)["canonical"] == f"ok-user-{i}"


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
    assert track(sandbox_clean, identify_event(big, anon(31))).json()["status"] == 1
    assert track(sandbox_clean, identify_event(big, anon(32))).json()["status"] == 1
    assert len(cluster(sandbox_clean, big)["ids"]) == 500
    r = track(sandbox_clean, identify_event(big, anon(33)))
    assert r.status_code == 200 and r.json()["status"] == 0 and "500" in r.json()["error"]
    assert len(cluster(sandbox_clean, big)["ids"]) == 500
    assert cluster(sandbox_clean, anon(33)) is None  # a refused change leaves no trace


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
    # what the official client posts: form field `data` + verbose=1, and it reads `status` and `error`
    form = {"data": json.dumps([merge_event(demo.STORY_USER, demo.STORY_MP_PHONE_ANON)]), "verbose": "1"}
    r = sandbox_clean.http.post("/import?strict=1", data=form, auth=(MP_API_SECRET, ""))
    assert (r.status_code, r.json()) == (200, {"status": 1, "error": None})
    assert cluster(sandbox_clean, demo.STORY_MP_PHONE_ANON)["canonical"] == demo.STORY_USER
    form["data"] = base64.b64encode(json.dumps(merge_event("vb-a", "vb-b")).encode()).decode()
    r = sandbox_clean.http.post("/import", data=form, auth=(MP_API_SECRET, ""))
    assert (r.status_code, r.json()) == (200, {"status": 1, "error": None})
    assert cluster(sandbox_clean, "vb-a")["ids"] == ["vb-a", "vb-b"]


@pytest.mark.parametrize(("form", "auth", "status", "fragment"), [
    ({"data": json.dumps([merge_event("a", "b", token="nope")])}, SA, 400, "1 of 1 records"),
    ({"data": "not json"}, SA, 400, "JSON array"),
    ({"data": json.dumps([merge_event("a", "b")])}, ("sandbox-sa", "wrong"), 401, "Invalid credentials"),
])  # fmt: skip
def test_import_verbose_failures_are_status_0(sandbox_clean, form, auth, status, fragment):
    r = sandbox_clean.http.post("/import?strict=1&project_id=1", data={**form, "verbose": "1"}, auth=auth)
    assert r.status_code == status and r.json()["status"] == 0 and fragment in r.json()["error"]


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


def test_strict_import_imports_the_valid_records_and_lists_the_bad_ones(sandbox_clean):
    events = [
        merge_event("st-a", "st-b"),
        {"event": "$merge", "properties": {"$distinct_ids": ["x"], "token": TOKEN}},
        {"event": "Signup", "properties": {"distinct_id": "st-c", "time": 1700000000, "$insert_id": "ins-1",
                                           "token": TOKEN}},
        {"event": "Signup", "properties": {"distinct_id": "st-d", "$insert_id": "ins-2", "token": TOKEN}},
        {"event": "Signup", "properties": {"distinct_id": "st-e", "time": 1700000000, "token": TOKEN}},
        merge_event(demo.MP_BIG_CLUSTER, demo.MP_HOSTILE_ID),  # 498 + 3 ids: over the 500-id cap
    ]  # fmt: skip
    r = sandbox_clean.http.post(IMPORT, json=events, auth=SA)
    body = r.json()
    assert r.status_code == 400 and body["code"] == 400 and body["num_records_imported"] == 2
    assert body["failed_records"] == [
        {"index": 1, "$insert_id": None, "field": "properties.$distinct_ids",
         "message": "$distinct_ids must be a list of exactly two non-empty ids"},
        {"index": 3, "$insert_id": "ins-2", "field": "properties.time",
         "message": "time is required (seconds or milliseconds since the epoch)"},
        {"index": 4, "$insert_id": None, "field": "properties.$insert_id",
         "message": "$insert_id is required with strict=1"},
        {"index": 5, "$insert_id": None, "field": "properties.$distinct_ids",
         "message": "identity cluster would hold 501 ids; the limit is 500"},
    ]  # fmt: skip
    assert cluster(sandbox_clean, "st-a")["ids"] == ["st-a", "st-b"]  # imported despite the bad ones
    assert cluster(sandbox_clean, "st-c")["events"] == 1
    assert cluster(sandbox_clean, "st-d") is None and cluster(sandbox_clean, "st-e") is None
    assert len(cluster(sandbox_clean, demo.MP_BIG_CLUSTER)["ids"]) == 498
    # without strict the bad records are skipped silently (no $insert_id needed)
    r = sandbox_clean.http.post("/import?project_id=1", json=events[3:5], auth=SA)
    assert (r.status_code, r.json()["num_records_imported"]) == (200, 1)
    assert cluster(sandbox_clean, "st-e")["events"] == 1


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

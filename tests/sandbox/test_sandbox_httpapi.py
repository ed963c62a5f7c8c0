"""Amplitude event ingestion over real HTTP: `POST /2/httpapi` and `POST /batch`, their documented bodies,
refusals and limits (what the official SDK reads; the SDK itself is driven in test_official_clients.py)."""

from __future__ import annotations

import json
import uuid

import pytest
from sandbox_helpers import API_KEY

HTTPAPI = "/2/httpapi"


def event(user_id=None, device_id=None, event_type="Song Played", **extra):
    body = {"event_type": event_type, **extra}
    if user_id is not None:
        body["user_id"] = user_id
    if device_id is not None:
        body["device_id"] = device_id
    return body


def send(sb, events, *, path=HTTPAPI, api_key=API_KEY, **extra):
    return sb.http.post(path, json={"api_key": api_key, "events": events, **extra})


def events_of(sb, user_id):
    return [e for e in sb.state()["events"]["amplitude"] if e["user_id"] == user_id]


@pytest.mark.parametrize("path", [HTTPAPI, "/batch"])
def test_success_body(sandbox_clean, path):
    body = json.dumps({"api_key": API_KEY, "events": [event("ingest-user-1"), event("ingest-user-1")]})
    r = sandbox_clean.http.post(path, content=body, headers={"content-type": "application/json"})
    answer = r.json()
    assert r.status_code == 200 and answer["code"] == 200 and answer["events_ingested"] == 2
    assert answer["payload_size_bytes"] == len(body.encode())
    assert isinstance(answer["server_upload_time"], int) and answer["server_upload_time"] > 1_600_000_000_000
    kept = events_of(sandbox_clean, "ingest-user-1")
    assert len(kept) == 2 and all(e["time"] == answer["server_upload_time"] for e in kept)  # stamped on arrival


@pytest.mark.parametrize(("body", "missing"), [
    ({"events": [event("u-12345")]}, "api_key"),
    ({"api_key": "", "events": [event("u-12345")]}, "api_key"),
    ({"api_key": API_KEY}, "events"),
    ({"api_key": API_KEY, "events": []}, "events"),
    ({"api_key": API_KEY, "events": {"event_type": "x"}}, "events"),
])  # fmt: skip
def test_request_level_missing_field(sandbox, body, missing):
    r = sandbox.http.post(HTTPAPI, json=body)
    assert r.status_code == 400
    assert r.json() == {"code": 400, "error": "Request missing required field", "missing_field": missing}


def test_wrong_key_json_and_content_type(sandbox):
    r = send(sandbox, [event("u-12345")], api_key="not-the-key")
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid API key:")  # what the SDK recognises
    assert "not-the-key" not in r.text
    r = sandbox.http.post(HTTPAPI, content="{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, 400)
    r = sandbox.http.post(HTTPAPI, data={"api_key": API_KEY, "events": "[]"})
    assert r.status_code == 400 and "Content-Type" in r.json()["error"]


def test_event_problems_are_listed_by_index_and_nothing_is_applied(sandbox_clean):
    events = [
        event("fine-user-1"),
        event(),  # neither id
        event("abc"),  # user_id shorter than 5
        event(device_id="00000000-0000-0000-0000-000000000000"),
        event("fine-user-2", event_type=""),
        event("fine-user-3", time="yesterday", user_properties={"$bogus": {"a": 1}}),
        "not an event",
    ]
    r = send(sandbox_clean, events)
    assert r.status_code == 400
    assert r.json() == {
        "code": 400,
        "error": "Invalid field values on some events",
        "events_with_missing_fields": {"user_id": [1], "device_id": [1], "event_type": [4]},
        "events_with_invalid_fields": {"device_id": [3], "time": [5], "user_properties": [5], "event": [6]},
        "events_with_invalid_id_lengths": {"user_id": [2]},
    }
    assert events_of(sandbox_clean, "fine-user-1") == [] and sandbox_clean.user("fine-user-1") is None


def test_short_ids_alone_and_min_id_length(sandbox_clean):
    r = send(sandbox_clean, [event("abc"), event(device_id="dev")])
    assert r.json() == {"code": 400, "error": "Invalid id length for user_id or device_id",
                        "events_with_invalid_id_lengths": {"user_id": [0], "device_id": [1]}}  # fmt: skip
    r = send(sandbox_clean, [event("abc"), event(device_id="dev")], options={"min_id_length": 3})
    assert r.status_code == 200 and len(events_of(sandbox_clean, "abc")) == 1
    r = send(sandbox_clean, [event("abcdef")], options={"min_id_length": 0})
    assert r.status_code == 400 and "min_id_length" in r.json()["error"]


def test_identify_events_apply_the_identify_operations(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "ident-evt-user", "user_properties": {"n": 1, "l": ["a"]}}])
    ops = {"$add": {"n": 2}, "$append": {"l": "b"}, "$set": {"plan": "pro"}}
    r = send(sandbox_clean, [event("ident-evt-user", event_type="$identify", user_properties=ops,
                                   platform="Android", country="Peru")])  # fmt: skip
    assert r.status_code == 200 and r.json()["events_ingested"] == 1
    user = sandbox_clean.user("ident-evt-user")
    assert user["user_properties"] == {"n": 3, "l": ["a", "b"], "plan": "pro"}
    assert user["info"] == {"platform": "Android", "country": "Peru"}
    assert events_of(sandbox_clean, "ident-evt-user") == []  # an identify is not an event of the stream
    # the Identify API's rules: one property in one operation, depth 40
    r = send(sandbox_clean, [event("ident-evt-user", event_type="$identify",
                                   user_properties={"$set": {"a": 1}, "$add": {"a": 1}})])  # fmt: skip
    assert r.json()["events_with_invalid_fields"] == {"user_properties": [0]}


def test_a_resent_insert_id_is_dropped(sandbox_clean):
    insert = str(uuid.uuid4())
    batch = [event("dedup-user-1", insert_id=insert),
             event("dedup-user-1", event_type="$identify", insert_id=insert + "-i", user_properties={"$add": {"n": 1}})]
    for _ in range(2):
        assert send(sandbox_clean, batch).json()["events_ingested"] == 2
    assert len(events_of(sandbox_clean, "dedup-user-1")) == 1
    assert sandbox_clean.user("dedup-user-1")["user_properties"] == {"n": 1}  # the $add applied once


def test_size_limits(sandbox_clean):
    big = [event("size-user-1", event_properties={"blob": "x" * 600_000}) for _ in range(2)]
    r = send(sandbox_clean, big)
    assert r.status_code == 413 and r.json()["code"] == 413
    assert send(sandbox_clean, big, path="/batch").status_code == 200  # the Batch API takes 20 MB
    r = send(sandbox_clean, [event("size-user-2")] * 2001, path="/batch")
    assert r.status_code == 413 and "2001" in r.json()["error"]


def test_throttled_device_is_429_and_nothing_is_applied(sandbox_clean):
    device, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert send(sandbox_clean, [event(device_id=device)] * 900).status_code == 200  # 30/s over 30 s
    r = send(sandbox_clean, [event(device_id=other), event(device_id=device)])
    body = r.json()
    assert r.status_code == 429 and body["code"] == 429 and body["eps_threshold"] == 30
    assert body["throttled_events"] == [1] and list(body["throttled_devices"]) == [device]
    assert body["throttled_users"] == {} and 1 <= int(r.headers["retry-after"]) <= 30
    owners = [u for u in sandbox_clean.state()["amplitude"]["users"] if other in u["device_ids"]]
    assert owners == []  # the device that was not throttled was not applied either
    assert send(sandbox_clean, [event(device_id=other)]).status_code == 200  # its own budget is untouched

"""Amplitude Identify over real HTTP: every user-property operation and every error."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import API_KEY


def identify(sb, identification, *, api_key=API_KEY):
    data = {
        "identification": identification if isinstance(identification, str) else json.dumps(identification)
    }
    if api_key is not None:
        data["api_key"] = api_key
    return sb.http.post("/identify", data=data)


def props_after(sb, *user_properties, start=None):
    """Seed a fresh user with `start`, apply each user_properties in turn, return the final properties."""
    sb.seed_users(users=[{"user_id": "ops-user", "user_properties": start or {}}])
    for up in user_properties:
        r = identify(sb, {"user_id": "ops-user", "user_properties": up})
        assert (r.status_code, r.text) == (200, "success"), r.text
    return sb.user("ops-user")["user_properties"]


@pytest.mark.parametrize(
    ("start", "ops", "expected"),
    [
        ({"a": 1}, [{"plan": "pro"}], {"a": 1, "plan": "pro"}),  # plain = $set
        ({"a": 1}, [{"$set": {"a": 2, "b": [1]}}], {"a": 2, "b": [1]}),
        ({"a": 1}, [{"$setOnce": {"a": 9, "b": 2}}], {"a": 1, "b": 2}),
        ({"n": 5}, [{"$add": {"n": 3, "m": -2}}], {"n": 8, "m": -2}),
        ({"n": "5"}, [{"$add": {"n": 1.5}}], {"n": 6.5}),
        ({"l": ["a"]}, [{"$append": {"l": "b", "new": "x"}}], {"l": ["a", "b"], "new": ["x"]}),
        ({"l": "a"}, [{"$append": {"l": ["b", "c"]}}], {"l": ["a", "b", "c"]}),
        ({"l": ["a"]}, [{"$prepend": {"l": ["y", "z"]}}], {"l": ["y", "z", "a"]}),
        ({"l": ["a", "b"]}, [{"$preInsert": {"l": ["b", "c"]}}], {"l": ["c", "a", "b"]}),
        ({"l": ["a", "b"]}, [{"$postInsert": {"l": ["a", "d"]}}], {"l": ["a", "b", "d"]}),
        ({"l": ["a", "b", "a", "c"]}, [{"$remove": {"l": ["a", "c"]}}], {"l": ["b"]}),
        ({"a": 1, "b": 2}, [{"$unset": {"a": "-"}}], {"b": 2}),
        ({"a": 1, "b": 2}, [{"$clearAll": "-"}], {}),
        ({"a": 1}, [{"$clearAll": "-", "$set": {"fresh": True}}], {"fresh": True}),
        ({"n": 1}, [{"$add": {"n": 1}}, {"$add": {"n": 1}}], {"n": 3}),  # not idempotent
    ],
)
def test_operations(sandbox_clean, start, ops, expected):
    assert props_after(sandbox_clean, *ops, start=start) == expected


def test_nested_and_unicode_values_are_kept(sandbox_clean):
    value = {"address": {"city": "München", "geo": [1.5, 2]}, "name": "[bold]x[/]"}
    assert props_after(sandbox_clean, {"$set": value}) == value


@pytest.mark.parametrize(
    ("identification", "reason"),
    [
        (None, "missing_event"),
        ("{not json", "missing_event"),
        ("[]", "missing_event"),
        ("42", "missing_event"),
        ([{"user_properties": {"a": 1}}], "user_id or device_id"),
        ([{"user_id": 7}], "user_id must be a string"),
        ([{"user_id": "u", "user_properties": {"$set": {"a": 1}, "b": 2}}], "mixes operations"),
        (
            [{"user_id": "u", "user_properties": {"$set": {"a": 1}, "$add": {"a": 2}}}],
            "more than one operation",
        ),
        ([{"user_id": "u", "user_properties": {"$bogus": {"a": 1}}}], "unknown user_properties operation"),
        ([{"user_id": "u", "user_properties": {"$unset": {"a": 1}}}], '"-"'),
        ([{"user_id": "u", "user_properties": {"$clearAll": "x"}}], '"-"'),
        ([{"user_id": "u", "user_properties": {"$add": {"a": "abc"}}}], "needs a number"),
        ([{"user_id": "u", "user_properties": "plan=pro"}], "must be an object"),
    ],
)
def test_bad_identification_is_400(sandbox, identification, reason):
    if identification is None:
        r = sandbox.http.post("/identify", data={"api_key": API_KEY})
    else:
        r = identify(sandbox, identification)
    assert r.status_code == 400
    assert reason in r.text


def test_identification_batch_is_all_or_nothing(sandbox_clean):
    r = identify(
        sandbox_clean, [{"user_id": "batch-ok", "user_properties": {"a": 1}}, {"user_properties": {}}]
    )
    assert r.status_code == 400 and "identification[1]" in r.text
    assert sandbox_clean.user("batch-ok") is None


def nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def test_depth_limit_40(sandbox_clean):
    assert identify(sandbox_clean, {"user_id": "deep", "user_properties": nested(40)}).status_code == 200
    r = identify(sandbox_clean, {"user_id": "deep", "user_properties": nested(41)})
    assert r.status_code == 400 and "deeper than 40" in r.text


@pytest.mark.parametrize("api_key", [None, "wrong"])
def test_identify_bad_key_is_401(sandbox, api_key):
    assert identify(sandbox, {"user_id": "u"}, api_key=api_key).status_code == 401


def test_identify_over_one_megabyte_is_413(sandbox):
    big = {"user_id": "big", "user_properties": {"blob": "x" * (1024 * 1024)}}
    assert identify(sandbox, big).status_code == 413


def test_identify_creates_users_and_attaches_devices(sandbox_clean):
    assert (
        identify(sandbox_clean, {"device_id": "dev-only-1", "user_properties": {"a": 1}}).status_code == 200
    )
    state = sandbox_clean.state()["amplitude"]["users"]
    anon = [u for u in state if "dev-only-1" in u["device_ids"]]
    assert len(anon) == 1 and anon[0]["user_id"] is None and anon[0]["user_properties"] == {"a": 1}
    r = identify(
        sandbox_clean, {"user_id": "ident-new", "device_id": "dev-2", "platform": "iOS", "country": "Peru"}
    )
    assert r.status_code == 200
    user = sandbox_clean.user("ident-new")
    assert user["device_ids"] == ["dev-2"] and user["info"] == {"platform": "iOS", "country": "Peru"}


def test_groups_beyond_limits_are_accepted_and_dropped(sandbox_clean):
    groups = {f"type{t}": [f"g{t}-{n}" for n in range(3)] for t in range(7)}
    assert identify(sandbox_clean, {"user_id": "grouped", "groups": groups}).status_code == 200
    kept = sandbox_clean.user("grouped")["groups"]
    assert len(kept) <= 5 and sum(len(v) for v in kept.values()) == 10


def test_the_key_field_is_also_accepted_as_api_hyphen_key(sandbox_clean):
    # seed 003 spells it `api-key`; the documented `api_key` keeps working, a wrong key under either is 401
    body = {"identification": json.dumps({"user_id": "hyphen-key-user", "user_properties": {"a": 1}})}
    r = sandbox_clean.http.post("/identify", data={"api-key": API_KEY, **body})
    assert (r.status_code, r.text) == (200, "success")
    assert sandbox_clean.user("hyphen-key-user")["user_properties"] == {"a": 1}
    assert sandbox_clean.http.post("/identify", data={"api-key": "wrong", **body}).status_code == 401
    assert sandbox_clean.http.post("/identify", data={"api_key": "wrong", "api-key": API_KEY, **body}).status_code == 401
    # only the Identify API takes the alias
    mapping = json.dumps([{"user_id": "hyphen-u", "global_user_id": "hyphen-g"}])
    assert sandbox_clean.http.post("/usermap", data={"api-key": API_KEY, "mapping": mapping}).status_code == 401

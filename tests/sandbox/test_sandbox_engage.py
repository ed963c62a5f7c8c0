"""Mixpanel profile writes over real HTTP: `POST /engage` and `POST /groups`, every operation and refusal."""

from __future__ import annotations

import base64
import json

import pytest
from sandbox_helpers import SA, TOKEN

from idconsole.sandbox import demo


def update(distinct_id, op, value, token=TOKEN):
    return {"$token": token, "$distinct_id": distinct_id, op: value}


def engage_post(sb, records, *, verbose=True, encode=False, path="/engage"):
    data = json.dumps(records)
    if encode:
        data = base64.b64encode(data.encode()).decode()
    return sb.http.post(path, data={"data": data, **({"verbose": "1"} if verbose else {})})


def profile(sb, distinct_id):
    r = sb.http.get("/api/query/engage", params={"distinct_id": distinct_id, "project_id": "1"}, auth=SA)
    results = r.json()["results"]
    return results[0]["$properties"] if results else None


def props_after(sb, *ops, start=None):
    """A fresh profile with `start`, each (op, value) applied in turn by its own request."""
    who = "engage-ops@example.com"
    if start:
        assert engage_post(sb, update(who, "$set", start)).json() == {"status": 1, "error": None}
    for op, value in ops:
        r = engage_post(sb, update(who, op, value))
        assert r.json() == {"status": 1, "error": None}, r.text
    return profile(sb, who)


@pytest.mark.parametrize(("start", "ops", "expected"), [
    (None, [("$set", {"a": 1, "b": [1]})], {"a": 1, "b": [1]}),
    ({"a": 1}, [("$set", {"a": 2})], {"a": 2}),
    ({"a": 1}, [("$set_once", {"a": 9, "b": 2})], {"a": 1, "b": 2}),
    ({"n": 5}, [("$add", {"n": 3, "m": -2.5})], {"n": 8, "m": -2.5}),
    ({"n": 1}, [("$add", {"n": 1}), ("$add", {"n": 1})], {"n": 3}),  # not idempotent
    ({"n": "five"}, [("$add", {"n": 1})], {"n": "five"}),  # a non-number is left alone
    ({"l": ["a"]}, [("$append", {"l": "b", "new": ["x"]})], {"l": ["a", "b"], "new": [["x"]]}),
    ({"l": "a"}, [("$append", {"l": "b"})], {"l": ["a", "b"]}),
    ({"l": ["a", "b"]}, [("$union", {"l": ["b", "c", "c"], "m": ["z"]})], {"l": ["a", "b", "c"], "m": ["z"]}),
    ({"l": ["a", "b", "a"]}, [("$remove", {"l": "a", "missing": "x"})], {"l": ["b"]}),
    ({"a": 1, "b": 2}, [("$unset", ["a", "never-there"])], {"b": 2}),
])  # fmt: skip
def test_operations(sandbox_clean, start, ops, expected):
    assert props_after(sandbox_clean, *ops, start=start) == expected


def test_delete_removes_the_profile_not_the_identity(sandbox_clean):
    r = engage_post(sandbox_clean, update(demo.STORY_MP_WEB_ANON, "$delete", ""))
    assert r.json()["status"] == 1
    assert profile(sandbox_clean, demo.STORY_USER) is None
    listed = sandbox_clean.http.get("/api/query/engage", params={"project_id": "1"}, auth=SA).json()
    assert demo.STORY_USER not in [p["$distinct_id"] for p in listed["results"]]
    cluster = next(c for c in sandbox_clean.state()["mixpanel"]["clusters"] if demo.STORY_USER in c["ids"])
    assert demo.STORY_MP_WEB_ANON in cluster["ids"]  # the identity cluster stays
    assert engage_post(sandbox_clean, update("never-seen-id", "$delete", "")).json()["status"] == 1


def test_body_shapes(sandbox_clean):
    r = engage_post(sandbox_clean, [update("shape-1", "$set", {"a": 1})], encode=True)
    assert r.json() == {"status": 1, "error": None}
    r = engage_post(sandbox_clean, update("shape-2", "$set", {"a": 2}), verbose=False)
    assert (r.status_code, r.text) == (200, "1")
    r = sandbox_clean.http.post("/engage", json=[update("shape-3", "$set", {"a": 3})])
    assert r.text == "1"
    r = sandbox_clean.http.get("/engage", params={"data": json.dumps(update("shape-4", "$set", {"a": 4})),
                                                  "verbose": "1"})  # fmt: skip
    assert r.json()["status"] == 1
    assert [profile(sandbox_clean, f"shape-{i}") for i in range(1, 5)] == [{"a": i} for i in range(1, 5)]


@pytest.mark.parametrize(("record", "fragment"), [
    (update("x", "$set", {"a": 1}, token="other"), "$token"),
    ({"$token": TOKEN, "$set": {"a": 1}}, "$distinct_id"),
    ({"$token": TOKEN, "$distinct_id": 7, "$set": {"a": 1}}, "$distinct_id"),
    ({"$token": TOKEN, "$distinct_id": "x"}, "exactly one operation"),
    ({"$token": TOKEN, "$distinct_id": "x", "$set": {"a": 1}, "$unset": ["b"]}, "exactly one operation, not 2"),
    ({"$token": TOKEN, "$distinct_id": "x", "$bogus": {"a": 1}}, "unknown profile operation"),
    (update("x", "$add", {"n": "3"}), "needs a number"),
    (update("x", "$add", {"n": True}), "needs a number"),
    (update("x", "$union", {"l": "a"}), "needs a list"),
    (update("x", "$unset", {"a": 1}), "list of property names"),
    (update("x", "$set", ["a"]), "object of properties"),
    ("just text", "must be an object"),
])  # fmt: skip
def test_refusals_are_status_0_with_http_200(sandbox_clean, record, fragment):
    r = engage_post(sandbox_clean, [record])
    assert r.status_code == 200 and r.json()["status"] == 0 and fragment in r.json()["error"], r.text
    assert engage_post(sandbox_clean, [record], verbose=False).text == "0"
    assert profile(sandbox_clean, "x") is None


def test_a_batch_with_one_bad_update_applies_nothing(sandbox_clean):
    r = engage_post(sandbox_clean, [update("batch-1", "$set", {"a": 1}), update("batch-2", "$add", {"n": "x"})])
    assert r.json()["status"] == 0 and r.json()["error"].startswith("update 1:")
    assert profile(sandbox_clean, "batch-1") is None


@pytest.mark.parametrize("data", [None, "", "not json", "[]", "42"])
def test_missing_or_unparseable_data(sandbox, data):
    form = {"verbose": "1", **({"data": data} if data is not None else {})}
    r = sandbox.http.post("/engage", data=form)
    assert r.status_code == 200 and r.json()["status"] == 0 and "data" in r.json()["error"]


def test_limits(sandbox_clean):
    records = [update(f"lim-{i}", "$set", {"a": 1}) for i in range(2001)]
    r = engage_post(sandbox_clean, records)
    assert r.json()["status"] == 0 and "2001" in r.json()["error"]
    assert engage_post(sandbox_clean, records[:2000]).json()["status"] == 1
    big = json.dumps(update("big", "$set", {"blob": "x" * (10 * 1024 * 1024)}))
    assert sandbox_clean.http.post("/engage", data={"data": big}).status_code == 413


def test_group_profiles(sandbox_clean):
    def group(op, value, gid="Globex"):
        return {"$token": TOKEN, "$group_key": "company", "$group_id": gid, op: value}

    assert engage_post(sandbox_clean, [group("$set", {"tier": "gold", "x": 1}), group("$union", {"r": ["us"]}),
                                       group("$unset", ["x"])], path="/groups").json()["status"] == 1  # fmt: skip
    assert sandbox_clean.state()["mixpanel"]["groups"] == [
        {"group_key": "company", "group_id": "Globex", "properties": {"tier": "gold", "r": ["us"]}}]
    r = engage_post(sandbox_clean, [group("$add", {"n": 1})], path="/groups")
    assert r.json()["status"] == 0 and "unknown profile operation" in r.json()["error"]
    r = engage_post(sandbox_clean, [{"$token": TOKEN, "$group_key": "company", "$set": {}}], path="/groups")
    assert r.json()["status"] == 0 and "$group_id" in r.json()["error"]
    assert engage_post(sandbox_clean, [group("$delete", "")], path="/groups").json()["status"] == 1
    assert sandbox_clean.state()["mixpanel"]["groups"] == []


def test_group_profiles_and_group_properties_survive_the_world_round_trip():
    # what the demo's world file keeps (state.world()) must load back whole
    from idconsole.sandbox.state import SandboxState

    state = SandboxState()
    state.mixpanel.group("company", "Globex").update({"tier": "gold"})
    state.amplitude.group("org", "Globex").update({"seats": 10})
    again = SandboxState()
    again.load(json.loads(json.dumps(state.world())))
    assert again.mixpanel.groups == {("company", "Globex"): {"tier": "gold"}}
    assert again.amplitude.group_properties == {"org": {"Globex": {"seats": 10}}}


def test_a_profile_update_sent_by_get_is_kept_in_the_world_file(start_sandbox, tmp_path):
    world = tmp_path / "sandbox.json"
    first = start_sandbox("--state", str(world))
    r = first.http.get("/engage", params={"data": json.dumps(update("by-get@example.com", "$set", {"a": 1})),
                                          "verbose": "1"})  # fmt: skip
    assert r.json() == {"status": 1, "error": None}
    second = start_sandbox("--state", str(world))  # another process on the same world
    assert profile(second, "by-get@example.com") == {"a": 1}

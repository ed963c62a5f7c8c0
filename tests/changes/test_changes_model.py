"""The Change model, id checks and KEY=VALUE parsing."""

from __future__ import annotations

import json

import pytest

from idconsole.api.errors import BadInput
from idconsole.changes import Change, junk_id_reasons, normalize_operation, parse_assignments
from idconsole.changes.validate import change_problems


def test_every_kind_round_trips_through_json_with_its_id():
    changes = [
        Change.map("user-0001", "global-0001"),
        Change.unmap("user-0002"),
        Change.identify("user-0003", "$set", {"plan": "pro", "tags": ["a", "b"]}),
        Change.identify("user-0003", "add", {"logins": 2}),
        Change.identify("user-0003", "$unset", {"old": "x"}),
        Change.identify("user-0003", "$clearAll"),
        Change.mp_identify("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "user@example.com"),
        Change.mp_alias("alias-0001", "distinct-01"),
        Change.mp_merge("distinct-a", "distinct-b"),
    ]
    for change in changes:
        data = json.loads(json.dumps(change.to_json()))
        back = Change.from_json(data)
        assert back == change
        assert back.id == change.id
    assert len({c.id for c in changes}) == len(changes)


def test_vendor_irreversible_and_idempotent():
    assert Change.map("user-0001", "g-00001").vendor == "amplitude"
    assert Change.mp_merge("aaaaa", "bbbbb").vendor == "mixpanel"
    assert Change.mp_merge("aaaaa", "bbbbb").irreversible
    assert not Change.mp_identify("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "bbbbb").irreversible
    assert Change.map("user-0001", "g-00001").idempotent
    assert Change.unmap("user-0001").idempotent
    assert Change.identify("user-0001", "$set", {"a": 1}).idempotent
    assert Change.identify("user-0001", "$setOnce", {"a": 1}).idempotent
    assert Change.identify("user-0001", "$unset", {"a": "-"}).idempotent
    for op in ("$add", "$append", "$prepend", "$preInsert", "$postInsert", "$remove"):
        value = 1 if op == "$add" else "x"
        assert not Change.identify("user-0001", op, {"a": value}).idempotent, op
    for change in (Change.mp_identify("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "bbbbb"), Change.mp_alias("aaaaa", "bbbbb"),
                   Change.mp_merge("aaaaa", "bbbbb")):
        assert not change.idempotent


def test_wire_shapes():
    assert Change.map("u-00001", "g-00001").to_mapping().to_wire() == {"user_id": "u-00001", "global_user_id": "g-00001"}
    assert Change.unmap("u-00001").to_mapping().to_wire() == {"user_id": "u-00001", "unmap": True}
    assert Change.identify("u-00001", "$clearAll").to_identification() == {
        "user_id": "u-00001", "user_properties": {"$clearAll": "-"}}
    assert Change.identify("u-00001", "unset", {"k": "whatever"}).to_identification() == {
        "user_id": "u-00001", "user_properties": {"$unset": {"k": "-"}}}


def test_description_keeps_ids_raw():
    hostile = "[b]evil[/b]\u202e"
    assert hostile in Change.map(hostile, "global-0001").description()
    # an old staged file may hold an id staging now refuses: it still loads, described raw
    control = "[b]evil[/b]\x1b[31m"
    assert control in Change.from_json({"op": "map", "user_id": control, "global_user_id": "g-1"}).description()
    assert "\n" not in Change.identify("u-00001", "$set", {"k": "v"}).description()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Change.map("", "g-00001"),
        lambda: Change.map("   ", "g-00001"),
        lambda: Change.map("u-00001", ""),
        lambda: Change.unmap(""),
        lambda: Change.identify("u-00001", "$bogus", {"a": 1}),
        lambda: Change.identify("u-00001", "$add", {"a": "many"}),
        lambda: Change.identify("u-00001", "$add", {"a": True}),
        lambda: Change.identify("u-00001", "$set", {}),
        lambda: Change.identify("u-00001", "$set", {"$evil": 1}),
        lambda: Change.mp_merge("same-id", "same-id"),
        lambda: Change.mp_identify("anon-1", ""),
    ],
)
def test_invalid_changes_raise_bad_input(build):
    with pytest.raises(BadInput):
        build()


def test_from_json_keeps_semantic_problems_for_the_plan():
    # a hand-edited file: structure ok, meaning wrong — it loads, and the problems are listed
    change = Change.from_json({"id": "c1", "op": "unmap", "user_id": "user-0001", "global_user_id": "g"})
    assert any("must not carry a global" in p for p in change_problems(change))
    with pytest.raises(BadInput):
        Change.from_json({"op": "teleport", "user_id": "x"})
    with pytest.raises(BadInput):
        Change.from_json(["not", "an", "object"])


def test_normalize_operation():
    assert normalize_operation("set") == "$set"
    assert normalize_operation("$setOnce") == "$setOnce"
    assert normalize_operation("set-once") == "$setOnce"
    assert normalize_operation("CLEARALL") == "$clearAll"
    with pytest.raises(BadInput):
        normalize_operation("$explode")


def test_parse_assignments():
    assert parse_assignments(["plan=pro", "age=30"], "$set") == {"plan": "pro", "age": "30"}
    assert parse_assignments(["age:=30", "tags:=[\"a\"]", "eq=a=b"], "$set") == {
        "age": 30, "tags": ["a"], "eq": "a=b"}
    assert parse_assignments(["logins=2", "credit:=-1.5"], "$add") == {"logins": 2, "credit": -1.5}
    assert parse_assignments(["old_key"], "$unset") == {"old_key": "-"}
    assert parse_assignments(["-"], "$clearAll") == {}
    for bad, op in ((["noequals"], "$set"), (["=v"], "$set"), (["n=lots"], "$add"), (["k:={bad"], "$set"),
                    (["a=1", "a=2"], "$set"), (["$x=1"], "$set"), ([], "$set"), (["k=v"], "$clearAll"),
                    # not JSON, and no vendor takes them: refused where they are staged
                    (["k:=NaN"], "$set"), (["k:=-Infinity"], "$set"), (["k:=[1, NaN]"], "$set"),
                    (["n=nan"], "$add"), (["n=inf"], "$add"), (["n:=Infinity"], "$add")):
        with pytest.raises(BadInput):
            parse_assignments(bad, op)


def test_junk_ids():
    for junk in ("null", "undefined", "0", "-1", "abc", " user-0001", "user-0001 ", "NULL"):
        assert junk_id_reasons(junk), junk
    assert junk_id_reasons("") == ["is empty"]
    for good in ("user-0001", "hank@globex.net", "4f1c2b7e-9d7a-4d3e-8f1a-2b3c4d5e6f70", "12345"):
        assert junk_id_reasons(good) == [], good

"""The staged set: per profile, durable, editable, safe next to another process."""

from __future__ import annotations

import json

import pytest

from idconsole.api.errors import BadInput
from idconsole.changes import Change, ProfileMismatch, StagedChangedElsewhere, StagedSet


def test_survives_a_restart(tmp_path):
    path = tmp_path / "acme" / "staged.json"
    staged = StagedSet.load(path, "acme")
    assert len(staged) == 0
    a = staged.add(Change.map("user-0001", "global-0001"))
    b = staged.add(Change.identify("user-0001", "$add", {"logins": 1}))
    again = StagedSet.load(path, "acme")
    assert [c.id for c in again] == [a.id, b.id]
    assert again.changes == [a, b]
    doc = json.loads(path.read_text())
    assert doc["profile"] == "acme" and doc["format"] == "idconsole.staged"
    # atomic writes leave no temp files behind
    assert sorted(p.name for p in path.parent.iterdir()) == ["staged.json"]


def test_the_file_is_compact_json_and_keeps_unicode(tmp_path):
    path = tmp_path / "acme" / "staged.json"
    staged = StagedSet.load(path, "acme")
    a = staged.add(Change.map("usér-0001", "glöbal-0001"))
    raw = path.read_text(encoding="utf-8")
    assert "\n" not in raw and ", " not in raw and '": ' not in raw   # one line, no padding
    assert "usér-0001" in raw                                         # not \u-escaped
    assert json.loads(raw)["changes"][0]["id"] == a.id
    assert StagedSet.load(path, "acme").changes == [a]


def test_edit_move_drop_clear(tmp_path):
    staged = StagedSet.load(tmp_path / "staged.json", "p")
    a, b, c = (staged.add(Change.map(f"user-000{i}", "global-0001")) for i in range(3))
    staged.move(3, 1)
    assert [x.id for x in staged] == [c.id, a.id, b.id]
    new = staged.replace(2, Change.unmap("user-0009"))
    assert staged.get(2) == new and staged.position(a.id) is None
    dropped = staged.drop(b.id)
    assert dropped == b
    assert [x.id for x in staged] == [c.id, new.id]
    assert staged.clear() == 2
    assert len(StagedSet.load(tmp_path / "staged.json", "p")) == 0


def test_bad_references_lose_nothing(tmp_path):
    staged = StagedSet.load(tmp_path / "staged.json", "p")
    staged.add(Change.map("user-0001", "global-0001"))
    for bad in (0, 2, -1, "no-such-id"):
        with pytest.raises(BadInput):
            staged.drop(bad)
    with pytest.raises(BadInput):
        staged.move(1, 5)
    assert len(StagedSet.load(tmp_path / "staged.json", "p")) == 1


def test_fingerprint_follows_content_and_order(tmp_path):
    staged = StagedSet.load(tmp_path / "staged.json", "p")
    staged.add(Change.map("user-0001", "global-0001"))
    staged.add(Change.map("user-0002", "global-0001"))
    first = staged.fingerprint
    staged.move(2, 1)
    assert staged.fingerprint != first
    staged.move(2, 1)
    assert staged.fingerprint == first


def test_another_profile_is_refused_until_cleared(tmp_path):
    path = tmp_path / "staged.json"
    StagedSet.load(path, "acme").add(Change.map("user-0001", "global-0001"))
    other = StagedSet.load(path, "globex")
    assert other.mismatch and other.profile == "acme" and len(other) == 1
    with pytest.raises(ProfileMismatch):
        other.add(Change.unmap("user-0002"))
    with pytest.raises(ProfileMismatch):
        other.drop(1)
    other.clear()
    assert not other.mismatch
    other.add(Change.unmap("user-0002"))
    assert json.loads(path.read_text())["profile"] == "globex"


def test_a_broken_file_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "staged.json"
    path.write_text("{not json")
    with pytest.raises(BadInput, match="not valid JSON"):
        StagedSet.load(path, "p")
    assert path.read_text() == "{not json"
    path.write_text(json.dumps({"format": "idconsole.staged", "version": 1, "profile": "p",
                                "changes": [{"op": "teleport"}]}))
    with pytest.raises(BadInput, match="change 1 is malformed"):
        StagedSet.load(path, "p")


def test_edits_from_another_process_are_not_clobbered(tmp_path):
    path = tmp_path / "staged.json"
    mine = StagedSet.load(path, "p")
    mine.add(Change.map("user-0001", "global-0001"))
    theirs = StagedSet.load(path, "p")
    theirs.add(Change.map("user-0002", "global-0001"))
    # adding merges with their edit
    mine.add(Change.map("user-0003", "global-0001"))
    assert [c.user_id for c in StagedSet.load(path, "p")] == ["user-0001", "user-0002", "user-0003"]
    with pytest.raises(StagedChangedElsewhere):
        theirs.drop(1)  # theirs is stale now too
    theirs.drop(1)
    # a positional edit on a stale view is refused (and the view reloaded): never drop the wrong one
    with pytest.raises(StagedChangedElsewhere):
        mine.drop(1)
    assert [c.user_id for c in mine] == ["user-0002", "user-0003"]
    mine.drop(1)
    assert [c.user_id for c in StagedSet.load(path, "p")] == ["user-0003"]


def test_listeners_and_json_listing(tmp_path):
    staged = StagedSet.load(tmp_path / "staged.json", "p")
    seen = []
    unsubscribe = staged.subscribe(lambda s: seen.append(len(s)))
    staged.add(Change.map("user-0001", "global-0001"))
    unsubscribe()
    staged.add(Change.unmap("user-0002"))
    assert seen == [1]
    listing = staged.to_json()
    assert [item["n"] for item in listing] == [1, 2]
    assert listing[0]["op"] == "map" and listing[0]["global_user_id"] == "global-0001"
    assert listing[1]["status"] == "staged" and "description" in listing[1]


def test_resolve_a_held_change(tmp_path):
    staged = StagedSet.load(tmp_path / "staged.json", "p")
    a = staged.add(Change.identify("user-0001", "$add", {"n": 1}))
    b = staged.add(Change.identify("user-0002", "$add", {"n": 1}))
    with pytest.raises(BadInput):
        staged.resolve(1, applied=True)  # not held
    staged.mark([a.id, b.id], status="unknown", journal_id="j1", note="lost answer")
    assert all(e.held for e in StagedSet.load(tmp_path / "staged.json", "p").entries)
    staged.resolve(a.id, applied=True)
    staged.resolve(b.id, applied=False)
    entries = StagedSet.load(tmp_path / "staged.json", "p").entries
    assert [e.change.id for e in entries] == [b.id] and not entries[0].held

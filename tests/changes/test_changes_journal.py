"""The journal (grouping, torn lines, lookup) and undo (the inverse of what was acknowledged)."""

from __future__ import annotations

import json

import pytest
from test_changes_apply import mapping_of, props_of, seed, state
from test_changes_plan import make_workspace

from idconsole.api.errors import BadInput
from idconsole.changes import Change, Journal, build_plan, undo
from idconsole.changes import apply as apply_plan


def write_entry(journal: Journal, jid: str, changes: list[Change], *, acked: list[int], pre_state: dict,
                unknown: list[int] = (), end: bool = True) -> None:
    journal.append({"type": "begin", "journal_id": jid, "profile": "p", "region": "us",
                    "changes": [c.to_json() for c in changes],
                    "requests": [{"index": i, "kind": c.op, "changes": [c.id]} for i, c in enumerate(changes, 1)],
                    "pre_state": pre_state})
    for i in range(1, len(changes) + 1):
        journal.append({"type": "intent", "journal_id": jid, "request": i})
        if i in acked:
            journal.append({"type": "ack", "journal_id": jid, "request": i})
        elif i in unknown:
            journal.append({"type": "fail", "journal_id": jid, "request": i, "outcome": "unknown",
                            "error": {"kind": "unknown_outcome", "message": "lost"}})
        else:
            journal.append({"type": "fail", "journal_id": jid, "request": i, "outcome": "rejected",
                            "error": {"kind": "rejected", "message": "400 bad"}})
    if end:
        journal.append({"type": "end", "journal_id": jid, "summary": {}})


def test_entries_are_grouped_newest_first_and_survive_a_torn_line(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    assert journal.entries() == []
    a = Change.map("user-aaaa", "global-0001")
    write_entry(journal, "20250101-000000-aaaa", [a], acked=[1], pre_state={"mappings": {"user-aaaa": None}})
    write_entry(journal, "20250102-000000-bbbb", [a], acked=[], pre_state={}, end=False)
    with journal.path.open("a") as fh:
        fh.write('{"type": "ack", "journal_id": "2025')
    entries = journal.entries()
    assert [e.journal_id for e in entries] == ["20250102-000000-bbbb", "20250101-000000-aaaa"]
    assert entries[1].finished and entries[1].change_status(a.id) == "acked"
    assert entries[0].crashed and entries[0].change_status(a.id) == "rejected"
    assert journal.get("20250101") is entries[1] or journal.get("20250101").journal_id == "20250101-000000-aaaa"
    assert journal.get("2025") is None  # ambiguous
    with pytest.raises(BadInput, match="matches 2"):
        journal.require("2025")
    with pytest.raises(BadInput, match="No journal entry"):
        journal.require("nope")
    doc = entries[1].to_json()
    assert doc["changes"][0]["status"] == "acked" and doc["requests"][0]["state"] == "acked"


def test_journal_redacts_secret_values(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"type": "fail", "journal_id": "j", "error": {"message": "key sk-SECRET-123 rejected"}},
                   redact=["sk-SECRET-123"])
    assert "sk-SECRET-123" not in journal.path.read_text()


def test_journal_runs_the_clients_redactor_on_the_written_line(tmp_path):
    # a secret with quotes and backslashes is JSON-escaped in the line: a plain value search misses it
    from idconsole.api.redact import Redactor

    secret = 'sk-"quoted"\\back+/=&%-123'
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"type": "fail", "journal_id": "j", "error": {"message": f"key {secret} rejected"}},
                   redact=Redactor([secret]))
    text = journal.path.read_text()
    assert "rejected" in text
    for form in (secret, json.dumps(secret)[1:-1], "quoted"):
        assert form not in text


def test_undo_rules(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    changes = [
        Change.map("user-aaaa", "global-new"),          # was global-old → map back
        Change.map("user-bbbb", "global-new"),          # was unmapped → unmap
        Change.unmap("user-cccc"),                      # was global-c → map back
        Change.unmap("user-dddd"),                      # was not mapped → nothing
        Change.identify("user-eeee", "$set", {"plan": "pro", "fresh": 1}),  # plan was free, fresh absent
        Change.identify("user-eeee", "$add", {"logins": 3}),               # → $add -3
        Change.identify("user-ffff", "$set", {"plan": "pro"}),             # profile unreadable → note
        Change.identify("user-ffff", "$append", {"tags": "vip"}),          # unreadable → approximate $remove
        Change.mp_merge("distinct-a", "distinct-b"),    # cannot be undone
        Change.mp_alias("alias-0001", "distinct-01"),   # cannot be undone
        Change.map("user-gggg", "global-new"),          # rejected: nothing to undo
        Change.identify("user-hhhh", "$add", {"n": 1}),  # unknown outcome: noted, not guessed
    ]
    pre = {"mappings": {"user-aaaa": "global-old", "user-bbbb": None, "user-cccc": "global-c", "user-dddd": None,
                        "user-gggg": None},
           "properties": {"user-eeee": {"plan": "free", "logins": 4}},
           "properties_unreadable": {"user-ffff": "the User Profile API is not offered in EU"}}
    write_entry(journal, "j1", changes, acked=list(range(1, 11)), unknown=[12], pre_state=pre)
    inverse, notes = undo(journal.require("j1"))
    described = [c.description() for c in inverse]
    assert "map user-aaaa → global-old" in described
    assert "unmap user-bbbb" in described
    assert "map user-cccc → global-c" in described
    assert not any("user-dddd" in d or "user-gggg" in d for d in described)
    eeee = {(c.operation, tuple(sorted(c.properties.items()))) for c in inverse if c.user_id == "user-eeee"}
    assert eeee == {("$set", (("plan", "free"),)), ("$unset", (("fresh", "-"),)), ("$add", (("logins", -3),))}
    ffff = [c for c in inverse if c.user_id == "user-ffff"]
    assert [(c.operation, dict(c.properties)) for c in ffff] == [("$remove", {"tags": "vip"})]
    text = "\n".join(notes)
    assert "cannot undo identify user-ffff: $set" in text and "EU" in text
    assert "approximate" in text
    assert "Mixpanel merges are irreversible" in text
    assert "alias" in text and "cannot be undone" in text
    assert "user-hhhh" in text and "unknown" in text
    assert "user-dddd" in text


def test_undo_of_nothing_acknowledged(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    write_entry(journal, "j1", [Change.map("user-aaaa", "global-0001")], acked=[], pre_state={})
    inverse, notes = undo(journal.require("j1"))
    assert inverse == [] and "nothing" in notes[-1]


async def test_apply_then_undo_restores_the_previous_state(tmp_path):
    ws = make_workspace(tmp_path)
    try:
        await seed(ws, [("user-aaaa", "global-old")],
                   [{"user_id": "user-bbbb", "user_properties": {"plan": "free", "logins": 4}}])
        before = await state(ws)
        ws.staged.add(Change.map("user-aaaa", "global-new"))
        ws.staged.add(Change.map("user-cccc", "global-new"))
        ws.staged.add(Change.identify("user-bbbb", "$set", {"plan": "pro", "extra": "x"}))
        ws.staged.add(Change.identify("user-bbbb", "$add", {"logins": 2}))
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0
        after = await state(ws)
        assert props_of(after, "user-bbbb") == {"plan": "pro", "logins": 6, "extra": "x"}

        changes, notes = undo(ws.journal.require(report.journal_id))
        assert notes == []
        ws.staged.extend(changes)
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0
        restored = await state(ws)
        assert mapping_of(restored, "user-aaaa") == mapping_of(before, "user-aaaa") == "global-old"
        assert mapping_of(restored, "user-cccc") is None
        assert props_of(restored, "user-bbbb") == {"plan": "free", "logins": 4}
    finally:
        await ws.aclose()

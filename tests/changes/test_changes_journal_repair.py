"""The journal file itself: a torn tail is moved aside before the next append (never joined to it), a
write that fails leaves nothing half-written, and a journal path that is not a regular file reads as
empty instead of hanging."""

from __future__ import annotations

import errno
import json

import pytest

from idconsole.changes import Journal

TORN = b'{"journal_id":"20240101-000000-dead","type":"ack","requ'


def test_a_torn_tail_is_moved_aside_and_the_next_record_stays_whole(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"journal_id":"20240101-000000-beef","type":"end","at":"x"}\n' + TORN)
    journal = Journal(path)
    journal.append({"journal_id": "20240102-000000-cafe", "type": "begin", "changes": [], "requests": []})
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["type"] for r in records] == ["end", "torn", "begin"]
    aside = tmp_path / records[1]["saved_as"]
    assert aside.read_bytes() == TORN and records[1]["bytes"] == len(TORN)
    assert len(journal.repairs) == 1 and aside.name in journal.repairs[0]
    # the repair is told once; the next append finds a whole tail
    journal.append({"journal_id": "20240102-000000-cafe", "type": "end"})
    assert len(journal.repairs) == 1 and len(list(tmp_path.glob("journal.jsonl.torn-*"))) == 1
    entry = journal.get("20240102-000000-cafe")
    assert entry is not None and entry.finished and entry.repairs[0]["saved_as"] == aside.name


def test_an_unreadable_last_line_is_moved_aside_too(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"journal_id":"a","type":"end"}\n{"journal_id": "b", "ty\x00pe\n')
    Journal(path).append({"journal_id": "c", "type": "begin"})
    assert [json.loads(line)["type"] for line in path.read_bytes().splitlines()] == ["end", "torn", "begin"]


def test_a_journal_of_one_torn_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(TORN)
    Journal(path).append({"journal_id": "c", "type": "begin"})
    assert [json.loads(line)["type"] for line in path.read_bytes().splitlines()] == ["torn", "begin"]


def test_a_failed_write_raises_naming_the_journal_and_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.symlink_to("/dev/full")
    journal = Journal(path)
    with pytest.raises(OSError) as failed:
        journal.append({"journal_id": "c", "type": "begin"})
    assert failed.value.errno == errno.ENOSPC and str(path) in str(failed.value.filename)
    assert list(journal.records()) == []  # /dev/full is endless zeros: never read as a journal


def test_a_begin_record_lost_does_not_hide_the_ack(tmp_path):
    path = tmp_path / "journal.jsonl"
    lines = [
        {"journal_id": "j1", "type": "begin", "changes": [], "requests": []},
        {"journal_id": "j1", "type": "intent", "request": 1, "kind": "identify", "changes": ["c1", "c2"]},
        {"journal_id": "j1", "type": "ack", "request": 1, "kind": "identify", "changes": ["c1", "c2"]},
        {"journal_id": "j1", "type": "intent", "request": 2, "kind": "identify", "changes": ["c3"]},
    ]
    raw = [json.dumps(r).encode() for r in lines]
    path.write_bytes(b"garbage" + raw[0][7:] + b"\n" + b"\n".join(raw[1:]) + b"\n")
    latest = Journal(path).latest_status()
    assert {cid: status for cid, (status, _) in latest.items()} == {"c1": "acked", "c2": "acked",
                                                                    "c3": "in_flight"}

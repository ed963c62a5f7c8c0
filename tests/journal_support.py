"""A journal entry written by hand, for the tests of the journal (engine and console)."""

from __future__ import annotations

from idconsole.changes import Change, Journal


def write_entry(journal: Journal, jid: str, changes: list[Change], pre: dict, *, acked: list[int] | None = None,
                **begin: object) -> None:
    """An entry with one request per change, acknowledged (all, or those numbered in `acked`)."""
    journal.append({"type": "begin", "journal_id": jid, "profile": "p", "region": "us",
                    "changes": [c.to_json() for c in changes],
                    "requests": [{"index": i, "kind": c.op, "changes": [c.id]} for i, c in enumerate(changes, 1)],
                    "pre_state": pre, **begin})
    for i in range(1, len(changes) + 1):
        journal.append({"type": "intent", "journal_id": jid, "request": i})
        if acked is None or i in acked:
            journal.append({"type": "ack", "journal_id": jid, "request": i})
        else:
            journal.append({"type": "fail", "journal_id": jid, "request": i, "outcome": "rejected",
                            "error": {"kind": "rejected", "message": "400"}})
    journal.append({"type": "end", "journal_id": jid, "summary": {}})


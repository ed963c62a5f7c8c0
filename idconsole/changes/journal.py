"""The journal: `<state_dir>/<profile>/journal.jsonl`, one JSON record per line, appended and fsync'd
one record at a time, so a crash or a kill loses at most the record being written (a torn last line
is skipped when reading, and moved aside to `journal.jsonl.torn-<time>` before the next append, so it is
never joined to the next record). A write that fails (full disk, read-only) leaves nothing half-written
and raises: apply stops before it sends anything more. It never holds a secret: only ids, properties, URLs without credentials,
and error messages (which the client builds without secrets; known secret values are also redacted).

Every apply writes, under one `journal_id` (`20250101-120000-ab12`, sortable, UTC):

```
{"type": "begin",  "journal_id", "at", "profile", "region", "host", "operator", "ticket"|null, "note"|null,
                   "changes": [Change.to_json()...],
                   "requests": [{"index", "kind", "method", "endpoint", "size", "changes": [ids]}],
                   "pre_state": {"mappings": {user: global|null}, "mappings_read": bool,
                                 "properties": {user: {key: value}}, "properties_unreadable": {user: reason}},
                   "confirmed": {"acknowledged_warnings": [codes], "allow_irreversible": bool}}
{"type": "intent", "journal_id", "at", "request": i, "kind", "changes": [ids]}     BEFORE sending request i
{"type": "ack",    "journal_id", "at", "request": i, "kind", "changes": [ids]}  right after the server said OK
{"type": "fail",   "journal_id", "at", "request": i, "kind", "changes": [ids],
                   "outcome": "rejected"|"unknown"|"not_applied", "error": {"kind", "message", "status"}}
{"type": "verify", "journal_id", "at", "results": {change_id: "confirmed"|"pending"|"failed"|"unverifiable"},
                   "notes": {change_id: text}}
{"type": "end",    "journal_id", "at", "summary": {...}, "stopped": null|"cancelled"|"auth"|"unavailable"}
{"type": "resolve","journal_id", "at", "change": change_id, "decision": "applied"|"resend"|"dropped"} (later)
{"type": "torn",   "journal_id", "at", "bytes": n, "saved_as": "journal.jsonl.torn-..."}   a repaired tail
```

`intent`, `ack` and `fail` name their changes themselves, so an acknowledgement is recognised even
when the `begin` record next to it was damaged.

`operator`, `ticket` and `note` (`journal_meta`) say who applied the set and why; lines written before
they existed have none (read as None, shown as "—").

An `intent` with neither `ack` nor `fail` after it means the process died while that request was in
flight: its changes' outcome is unknown (`JournalEntry.change_status` says `unknown`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes._fs import append_line, cut_at, torn_tail
from idconsole.changes.journal_entry import (
    ACKED,
    IN_FLIGHT,
    NOT_APPLIED,
    NOT_SENT,
    REJECTED,
    UNKNOWN,
    JournalEntry,
    JournalRequest,
    new_journal_id,
    now,
)
from idconsole.config.atomic import atomic_write

__all__ = ["ACKED", "IN_FLIGHT", "NOT_APPLIED", "NOT_SENT", "REJECTED", "UNKNOWN", "Journal", "JournalEntry",
           "JournalRequest", "new_journal_id", "now"]


class Journal:
    """`Journal(path)`: append records, read them back grouped per apply."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        #: one sentence per torn tail this object repaired (apply reports them)
        self.repairs: list[str] = []

    # --- writing ---------------------------------------------------------------------------------

    def append(
        self, record: dict[str, Any], *, redact: Callable[[str], str] | Iterable[str] = (),
    ) -> None:
        """Write one record and fsync it; OSError (naming the journal) when it could not be written
        whole — then nothing of it is left in the file. A torn last line is first moved aside
        (`repair_tail`), never joined to this record. `redact` (defence in depth: nothing we write
        should contain a secret): the client's redactor, run on the JSON line as written, so a secret
        JSON-escaped in it is found too; or plain secret values."""
        if "at" not in record:
            record = {**record, "at": now()}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        if callable(redact):
            line = redact(line)
        else:
            for value in redact:
                if value and len(value) >= 4 and value in line:
                    line = line.replace(value, "***")
        self.repair_tail(journal_id=record.get("journal_id"))
        append_line(self.path, line.encode("utf-8"))

    def repair_tail(self, *, journal_id: Any = None) -> str | None:
        """If the last line is torn (a kill or a full disk cut it short), move it to
        `journal.jsonl.torn-<UTC time>` beside the journal, cut it off, and note that in the journal
        (`{"type": "torn", "bytes", "saved_as"}`, under `journal_id` when given). Returns the note's
        sentence (also kept in `self.repairs`), None when the tail was whole."""
        found = torn_tail(self.path, is_complete=_parses)
        if found is None:
            return None
        offset, fragment = found
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = self.path.with_name(f"{self.path.name}.torn-{stamp}")
        atomic_write(aside, fragment)
        cut_at(self.path, offset)
        sentence = (f"The journal's last line was torn ({len(fragment)} bytes, cut short by a kill or a full disk); "
                    f"it was moved to {aside.name} and is not read.")
        self.repairs.append(sentence)
        note = {"type": "torn", "journal_id": journal_id if isinstance(journal_id, str) else new_journal_id(),
                "at": now(), "bytes": len(fragment), "saved_as": aside.name}
        append_line(self.path, json.dumps(note, separators=(",", ":")).encode("utf-8"))
        return sentence

    # --- reading ---------------------------------------------------------------------------------

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable record in file order (a torn or foreign line is skipped; a journal path
        that is not a regular file reads as empty)."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return
            for raw in fh:
                try:
                    record = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    continue
                if isinstance(record, dict) and isinstance(record.get("journal_id"), str):
                    yield record

    def entries(self) -> list[JournalEntry]:
        """One entry per apply, newest first."""
        by_id: dict[str, JournalEntry] = {}
        order: list[str] = []
        for record in self.records():
            jid = record["journal_id"]
            entry = by_id.get(jid)
            if entry is None:
                entry = by_id[jid] = JournalEntry(jid)
                order.append(jid)
            entry._apply_record(record)
        return [by_id[j] for j in reversed(order)]

    def get(self, journal_id: str) -> JournalEntry | None:
        """The entry with this id (or the only one whose id starts with it); None if there is none."""
        entries = self.entries()
        for entry in entries:
            if entry.journal_id == journal_id:
                return entry
        matches = [e for e in entries if journal_id and e.journal_id.startswith(journal_id)]
        return matches[0] if len(matches) == 1 else None

    def require(self, journal_id: str) -> JournalEntry:
        """Like get(), but BadInput with a clear reason when there is no such entry."""
        entry = self.get(journal_id)
        if entry is not None:
            return entry
        entries = self.entries()
        matches = [e for e in entries if journal_id and e.journal_id.startswith(journal_id)]
        if len(matches) > 1:
            raise BadInput(f"{journal_id!r} matches {len(matches)} journal entries.", hint="Give more of the id.")
        raise BadInput(f"No journal entry {journal_id!r}.", hint="List them with `idconsole journal`.")

    def latest_status(self) -> dict[str, tuple[str, JournalEntry]]:
        """change id -> (its status in the newest entry that sent it, that entry). Used to reconcile
        the staged set after a crash."""
        result: dict[str, tuple[str, JournalEntry]] = {}
        for entry in reversed(self.entries()):  # oldest first, newer overwrite
            for change_id in entry.change_ids():
                status = entry.change_status(change_id)
                if status != NOT_SENT:
                    result[change_id] = (status, entry)
                if change_id in entry.resolutions:
                    result[change_id] = ("resolved_" + entry.resolutions[change_id], entry)
        return result


def _parses(line: bytes) -> bool:
    try:
        json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return True

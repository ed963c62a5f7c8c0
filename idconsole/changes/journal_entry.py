"""One apply as the journal tells it: `JournalEntry` (its changes, requests and their states, the
pre-state, verification, decisions taken later) built record by record, and the change statuses.

Records are self-describing so that one damaged record cannot hide an acknowledgement: `intent`,
`ack` and `fail` carry the journal id, the request index and the change ids they concern, so an
entry whose `begin` record was lost still knows which changes the server acknowledged.
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes.journal_meta import MISSING
from idconsole.changes.model import Change

# change statuses in an entry
ACKED = "acked"  # the server acknowledged its request
REJECTED = "rejected"  # the server refused its request (400, 401...): not applied
UNKNOWN = "unknown"  # the request may have reached the server; no answer
NOT_APPLIED = "not_applied"  # the request failed before reaching the server (or was idempotent and can be re-sent)
NOT_SENT = "not_sent"  # never sent (cancelled, stopped before it)
IN_FLIGHT = "in_flight"  # intent written, no outcome: only while the apply runs; after a crash = unknown


def new_journal_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + _secrets.token_hex(2)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class JournalRequest:
    index: int
    kind: str
    method: str
    endpoint: str
    change_ids: tuple[str, ...]
    size: int
    #: `planned` (no intent yet), `in_flight`, `acked`, `rejected`, `unknown`, `not_applied`
    state: str = "planned"
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "kind": self.kind, "method": self.method, "endpoint": self.endpoint,
            "size": self.size, "changes": list(self.change_ids), "state": self.state, "error": self.error,
        }


@dataclass
class JournalEntry:
    """Every record of one apply, put together."""

    journal_id: str
    at: str = ""
    profile: str = ""
    region: str = ""
    host: str = ""
    changes: list[Change] = field(default_factory=list)
    requests: list[JournalRequest] = field(default_factory=list)
    pre_state: dict[str, Any] = field(default_factory=dict)
    confirmed: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, str] = field(default_factory=dict)
    verification_notes: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None
    finished: bool = False
    ended_at: str | None = None
    #: change id -> "applied" | "resend" | "dropped" (decisions about unknown outcomes taken later)
    resolutions: dict[str, str] = field(default_factory=dict)
    #: torn journal tails repaired by this apply: {"bytes", "saved_as", "at"}
    repairs: list[dict[str, Any]] = field(default_factory=list)
    #: who applied it, under which ticket, and why (None in journal lines older than these fields)
    operator: str | None = None
    ticket: str | None = None
    note: str | None = None

    # --- per change ------------------------------------------------------------------------------

    def request_of(self, change_id: str) -> JournalRequest | None:
        index = self.__dict__.get("_by_change")
        if index is None or index[0] is not self.requests or index[1] != len(self.requests):
            by_change: dict[str, JournalRequest] = {}
            for request in self.requests:
                for cid in request.change_ids:
                    by_change.setdefault(cid, request)
            index = (self.requests, len(self.requests), by_change)
            self.__dict__["_by_change"] = index
        return index[2].get(change_id)

    def change_status(self, change_id: str) -> str:
        """`acked`, `rejected`, `unknown`, `not_applied`, `not_sent`, or `in_flight`: an intent without
        an outcome in an entry that never ended — the apply is still running, or it was killed while
        that request was in flight (treat it as unknown unless you hold the apply lock)."""
        request = self.request_of(change_id)
        if request is None or request.state == "planned":
            return NOT_SENT
        if request.state == IN_FLIGHT and self.finished:
            return UNKNOWN
        return request.state

    def change_ids(self) -> list[str]:
        """Every change this apply planned or sent — also those only its intent/ack/fail records name
        (when its begin record was damaged)."""
        ids = [c.id for c in self.changes]
        known = set(ids)
        for request in self.requests:
            ids.extend(cid for cid in request.change_ids if cid not in known)
            known.update(request.change_ids)
        return ids

    def change(self, change_id: str) -> Change | None:
        for change in self.changes:
            if change.id == change_id:
                return change
        return None

    def changes_with(self, status: str) -> list[Change]:
        return [c for c in self.changes if self.change_status(c.id) == status]

    @property
    def acked(self) -> list[Change]:
        return self.changes_with(ACKED)

    @property
    def unknown(self) -> list[Change]:
        return [c for c in self.changes if self.change_status(c.id) in (UNKNOWN, IN_FLIGHT)]

    @property
    def crashed(self) -> bool:
        """The apply never wrote its `end` record (killed, crashed, or still running)."""
        return not self.finished

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            status = self.change_status(change.id)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def headline(self) -> str:
        counts = self.counts()
        parts = [f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in (ACKED, REJECTED, UNKNOWN, NOT_APPLIED, NOT_SENT)
                 if counts.get(s)]
        state = "" if self.finished else " (did not finish: interrupted)"
        if self.stopped:
            state += f" (stopped: {self.stopped})"
        return f"{self.journal_id}  {self.at}  {self.profile}/{self.region}  {len(self.changes)} change(s): " \
               f"{', '.join(parts) or 'nothing sent'}{state}  by {self.operator or MISSING}  " \
               f"ticket {self.ticket or MISSING}"

    def to_json(self) -> dict[str, Any]:
        return {
            "journal_id": self.journal_id,
            "at": self.at,
            "ended_at": self.ended_at,
            "profile": self.profile,
            "region": self.region,
            "host": self.host,
            "operator": self.operator,
            "ticket": self.ticket,
            "note": self.note,
            "finished": self.finished,
            "stopped": self.stopped,
            "changes": [
                {**c.to_json(), "description": c.description(), "status": self.change_status(c.id),
                 "verified": self.verification.get(c.id), "resolution": self.resolutions.get(c.id)}
                for c in self.changes
            ],
            "requests": [r.to_json() for r in self.requests],
            "pre_state": self.pre_state,
            "confirmed": self.confirmed,
            "verification": self.verification,
            "verification_notes": self.verification_notes,
            "summary": self.summary,
            "counts": self.counts(),
            "resolutions": self.resolutions,
            "repairs": self.repairs,
        }

    # --- building from records -------------------------------------------------------------------

    def _apply_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "begin":
            self.at = str(record.get("at", ""))
            self.profile = str(record.get("profile", ""))
            self.region = str(record.get("region", ""))
            self.host = str(record.get("host", ""))
            self.changes = []
            for item in record.get("changes", ()):
                try:
                    self.changes.append(Change.from_json(item))
                except BadInput:
                    continue
            self.requests = [
                JournalRequest(
                    index=int(r.get("index", i)),
                    kind=str(r.get("kind", "")),
                    method=str(r.get("method", "")),
                    endpoint=str(r.get("endpoint", "")),
                    change_ids=tuple(r.get("changes", ())),
                    size=int(r.get("size", len(r.get("changes", ())))),
                )
                for i, r in enumerate(record.get("requests", ()), 1)
            ]
            self.pre_state = record.get("pre_state") or {}
            self.confirmed = record.get("confirmed") or {}
            self.operator, self.ticket, self.note = (_text_or_none(record.get(k)) for k in ("operator", "ticket", "note"))
            return
        request = self._request(record.get("request"))
        if request is None and kind in ("intent", "ack", "fail"):
            request = self._request_from(record)  # its begin record was damaged: the record says enough
        if kind == "intent" and request is not None:
            request.state = IN_FLIGHT
        elif kind == "ack" and request is not None:
            request.state = ACKED
            request.error = None
        elif kind == "fail" and request is not None:
            outcome = record.get("outcome")
            request.state = outcome if outcome in (REJECTED, UNKNOWN, NOT_APPLIED) else UNKNOWN
            request.error = record.get("error") if isinstance(record.get("error"), dict) else None
        elif kind == "verify":
            results = record.get("results")
            if isinstance(results, dict):
                self.verification.update({str(k): str(v) for k, v in results.items()})
            notes = record.get("notes")
            if isinstance(notes, dict):
                self.verification_notes.update({str(k): str(v) for k, v in notes.items()})
        elif kind == "end":
            self.finished = True
            self.ended_at = record.get("at")
            self.summary = record.get("summary") or {}
            self.stopped = record.get("stopped")
        elif kind == "torn":
            self.repairs.append({"bytes": record.get("bytes"), "saved_as": record.get("saved_as"),
                                 "at": record.get("at")})
        elif kind == "resolve":
            change_id, decision = record.get("change"), record.get("decision")
            if isinstance(change_id, str) and decision in ("applied", "resend", "dropped"):
                self.resolutions[change_id] = decision

    def _request_from(self, record: dict[str, Any]) -> JournalRequest | None:
        index, ids = record.get("request"), record.get("changes")
        if not isinstance(index, int) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return None
        request = JournalRequest(index, str(record.get("kind", "")), "", "", tuple(ids), len(ids))
        self.requests.append(request)
        return request

    def _request(self, index: Any) -> JournalRequest | None:
        for request in self.requests:
            if request.index == index:
                return request
        return None


def _text_or_none(value: Any) -> str | None:
    """A recorded operator/ticket/note; anything but non-empty text (an older line, a hand edit) is None."""
    return value if isinstance(value, str) and value else None

"""What an apply did, change by change, as the results and journal screens show it: one `ResultRow` per
change, read from an `ApplyReport` (`report_view`) or a journal entry (`journal_entry_view`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idconsole.tui.staging.describe import describe_change

if TYPE_CHECKING:
    from idconsole.changes import ApplyReport, JournalEntry

#: a change's status in a journal entry / report -> the word shown
OUTCOME_WORDS = {
    "acked": "sent",
    "rejected": "rejected",
    "unknown": "unknown",
    "in_flight": "sending",
    "not_applied": "not applied",
    "not_sent": "not sent",
}


@dataclass(frozen=True)
class ResultRow:
    op: str
    subject: str
    detail: str
    outcome: str
    verification: str = ""
    error: str = ""
    irreversible: bool = False


@dataclass(frozen=True)
class JournalEntryView:
    id: str
    when: str
    outcome: str
    summary: str
    rows: tuple[ResultRow, ...]
    failed: bool
    partial: bool
    irreversible: bool
    undoable: bool
    undo_note: str = ""


@dataclass(frozen=True)
class ReportView:
    journal_id: str
    submitted: int
    succeeded: int
    failed: int
    not_sent: int
    cancelled: bool
    stopped: str
    stop_message: str
    verification: dict[str, int]
    rows: tuple[ResultRow, ...]


def _when(stamp: str) -> str:
    """`2025-01-01T12:00:00.123+00:00` -> `2025-01-01 12:00:00`."""
    return stamp.replace("T", " ")[:19] if stamp else ""


def _error_text(error: dict[str, Any] | None) -> str:
    if not isinstance(error, dict):
        return ""
    message = str(error.get("message") or error.get("kind") or "")
    status = error.get("status")
    return f"{status} {message}".strip() if status else message


def _verification(verified: str, note: str) -> str:
    return f"{verified}: {note}" if note and verified and verified != "confirmed" else verified


def result_rows(entry: JournalEntry) -> list[ResultRow]:
    rows = []
    for change in entry.changes:
        desc = describe_change(change)
        status = entry.change_status(change.id)
        request = entry.request_of(change.id)
        error = _error_text(request.error) if request is not None and status != "acked" else ""
        verification = _verification(entry.verification.get(change.id, ""),
                                     entry.verification_notes.get(change.id, ""))
        resolution = entry.resolutions.get(change.id)
        outcome = OUTCOME_WORDS.get(status, status)
        if resolution:
            outcome += f" (resolved: {resolution})"
        rows.append(ResultRow(desc.op, desc.subject, desc.detail, outcome, verification, error, desc.irreversible))
    return rows


def journal_entry_view(entry: JournalEntry) -> JournalEntryView:
    counts = entry.counts()
    acked = counts.get("acked", 0)
    bad = counts.get("rejected", 0) + counts.get("unknown", 0) + counts.get("not_applied", 0)
    parts = [f"{n} {OUTCOME_WORDS.get(s, s)}" for s, n in counts.items() if n]
    outcome = ", ".join(parts) or "nothing sent"
    if not entry.finished:
        outcome += " (interrupted)"
    elif entry.stopped:
        outcome += f" (stopped: {entry.stopped})"
    descriptions = [c.description() for c in entry.changes[:3]]
    summary = "; ".join(descriptions) + (f"; … {len(entry.changes) - 3} more" if len(entry.changes) > 3 else "")
    irreversible = any(c.irreversible for c in entry.changes)
    reversible_acked = [c for c in entry.acked if not c.irreversible]
    undo_note = ""
    if irreversible and not reversible_acked:
        undo_note = "Nothing here can be undone: a Mixpanel merge is permanent."
    elif not entry.acked:
        undo_note = "Nothing was acknowledged by the server, so there is nothing to undo."
    return JournalEntryView(
        id=entry.journal_id,
        when=_when(entry.at),
        outcome=outcome,
        summary=summary,
        rows=tuple(result_rows(entry)),
        failed=bool(bad) and not acked,
        partial=bool(bad) and bool(acked) or not entry.finished or bool(entry.stopped),
        irreversible=irreversible,
        undoable=bool(reversible_acked),
        undo_note=undo_note,
    )


def report_view(report: ApplyReport) -> ReportView:
    rows = []
    for result in report.results:
        desc = describe_change(result.change)
        outcome = "held" if result.status == "held" else OUTCOME_WORDS.get(result.status,
                                                                           result.status.replace("_", " "))
        verification = _verification(result.verified or "", result.note or "")
        error = (result.error or "") if result.status != "acked" else ""
        rows.append(ResultRow(desc.op, desc.subject, desc.detail, outcome, verification, error, desc.irreversible))
    summary = report.verified_summary()
    return ReportView(
        journal_id=report.journal_id,
        submitted=report.submitted,
        succeeded=report.succeeded,
        failed=sum(1 for r in report.results if r.status in ("rejected", "unknown")),
        not_sent=sum(1 for r in report.results if r.status in ("not_sent", "held", "not_applied")),
        cancelled=report.cancelled,
        stopped=report.stopped or "",
        stop_message=report.stop_message or "",
        verification={k: summary.get(k, 0) for k in ("confirmed", "pending", "failed", "unverifiable")},
        rows=tuple(rows),
    )

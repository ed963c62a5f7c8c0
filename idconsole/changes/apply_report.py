"""What an apply did, change by change: `ChangeResult`, the `ApplyReport` (the shape of
`idconsole apply --json` and its exit code), and `ApplyRefused` (apply would not start; nothing sent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes.journal import ACKED, NOT_SENT, REJECTED, UNKNOWN
from idconsole.changes.model import Change

HELD = "held"
#: `ApplyReport.stopped` when a journal or staged-set write failed (full disk, read-only): exit 2
LOCAL_IO = "local_io"

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


class ApplyRefused(BadInput):
    """Apply would not start; `reasons` lists every reason. Nothing was sent."""

    kind = "refused"

    def __init__(self, reasons: list[str], *, hint: str = "") -> None:
        text = (reasons[0] if len(reasons) == 1 else "; ".join(reasons)).rstrip(".")
        # every refusal says it once: nothing was sent (the faces add nothing to it)
        super().__init__(f"Apply refused: {text}.", hint=" ".join(filter(None, ["Nothing was sent.", hint])))
        self.reasons = reasons


@dataclass
class ChangeResult:
    change: Change
    #: `acked`, `rejected`, `unknown`, `not_applied`, `not_sent`, `held`
    status: str
    error: str | None = None
    error_kind: str | None = None
    request: int | None = None
    #: `confirmed`, `pending`, `failed`, `unverifiable` (None: not verified)
    verified: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == ACKED

    def to_json(self) -> dict[str, Any]:
        return {
            "change": {**self.change.to_json(), "description": self.change.description()},
            "status": self.status,
            "error": self.error,
            "kind": self.error_kind,
            "request": self.request,
            "verified": self.verified,
            "note": self.note,
        }


@dataclass
class ApplyReport:
    journal_id: str
    profile: str
    results: list[ChangeResult]
    requests_total: int = 0
    requests_sent: int = 0
    #: why sending stopped early: None, "cancelled", "auth", "unavailable", "throttled", "local_io" (a
    #: journal or staged-set write failed), "error"
    stopped: str | None = None
    stop_message: str | None = None
    verification: dict[str, str] = field(default_factory=dict)
    #: sentences worth showing besides the results (a torn journal tail that was repaired...)
    notes: list[str] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return self.stopped == "cancelled"

    @property
    def submitted(self) -> int:
        """Changes whose request reached (or may have reached) the server."""
        return sum(1 for r in self.results if r.status in (ACKED, REJECTED, UNKNOWN))

    @property
    def succeeded(self) -> int:
        return sum(1 for r in self.results if r.status == ACKED)

    @property
    def failed(self) -> list[ChangeResult]:
        """Everything that was not acknowledged, with why (rejected, unknown, not sent, held...)."""
        return [r for r in self.results if r.status != ACKED]

    @property
    def unknown(self) -> list[ChangeResult]:
        return [r for r in self.results if r.status == UNKNOWN]

    @property
    def exit_code(self) -> int:
        if self.stopped == "auth":
            return EXIT_AUTH
        if self.stopped in ("unavailable", "throttled"):
            return EXIT_UNREACHABLE
        if self.stopped == LOCAL_IO:
            return EXIT_REFUSED
        return EXIT_FAILED if self.failed else EXIT_OK

    def verified_summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for status in self.verification.values():
            counts[status] = counts.get(status, 0) + 1
        return {
            "confirmed": counts.get("confirmed", 0),
            "pending": counts.get("pending", 0),
            "failed": counts.get("failed", 0),
            "unverifiable": counts.get("unverifiable", 0),
            "changes": dict(self.verification),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "journal_id": self.journal_id,
            "profile": self.profile,
            "submitted": self.submitted,
            "succeeded": self.succeeded,
            "failed": [
                {"change": {**r.change.to_json(), "description": r.change.description()},
                 "error": r.error or r.status, "kind": r.status, "error_kind": r.error_kind,
                 "request": r.request}
                for r in self.failed
            ],
            "verified": self.verified_summary(),
            "unknown": [r.change.id for r in self.unknown],
            "not_sent": [r.change.id for r in self.results if r.status in (NOT_SENT, HELD)],
            "requests": {"total": self.requests_total, "sent": self.requests_sent},
            "stopped": self.stopped,
            "stop_message": self.stop_message,
            "cancelled": self.cancelled,
            "notes": list(self.notes),
            "exit_code": self.exit_code,
        }

"""Apply: send a confirmed plan through the shared client, one request at a time, journaling each.

`await apply(workspace, plan, acknowledge_warnings=..., allow_irreversible=..., progress=..., cancel=...)`

Refuses (ApplyRefused, a BadInput: exit 2) — before sending anything — for the reasons in
`apply_guard.refusals`, or when another apply of this profile is in flight (`apply_lock`).

Then, per request in plan order (usermap batches, identify batches, Mixpanel events):
1. journal `intent` (fsync) — and, for a non-idempotent request, the staged changes are marked
   `unknown` first, so even a kill right now cannot lead to a blind re-send;
2. send it (the client's usermap budget paces map batches; its transport retries what is safe);
3. journal `ack` (fsync), then drop its changes from the staged set — or journal `fail` with the
   outcome: `rejected` (400/401/...: not applied, the server's reason kept on the staged change),
   `unknown` (non-idempotent, may have been applied: held, never re-sent until someone decides),
   `not_applied` (never reached the server, or idempotent and safe to send again: stays staged).
A 401/403 stops the apply (exit 3); a service unreachable or throttled after every retry stops it
(exit 4); a journal or staged-set write that fails (full disk, read-only, a short write) stops it
before anything more is sent (exit 2; if the begin record cannot be written, apply raises the
LocalStorageError and nothing was sent); `cancel` is honoured between requests. Whatever was not sent stays staged. Then every
affected user is re-read and each change marked confirmed / pending / failed / unverifiable.
Crash recovery (what a kill at any step leaves, and how the next run reads it) is `changes/recovery.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import IdConsoleError
from idconsole.api.redact import Redactor
from idconsole.changes.apply_guard import refusals
from idconsole.changes.apply_lock import ApplyLock
from idconsole.changes.apply_report import HELD, LOCAL_IO, ApplyRefused, ApplyReport, ChangeResult
from idconsole.changes.apply_send import classify, send_request
from idconsole.changes.journal import ACKED, NOT_APPLIED, NOT_SENT, REJECTED, UNKNOWN, new_journal_id
from idconsole.changes.journal_meta import ApplyMeta, apply_meta
from idconsole.changes.plan_estimate import estimate_usermap_seconds
from idconsole.changes.plan_types import Plan, PlannedRequest
from idconsole.changes.prestate import read_pre_state
from idconsole.changes.progress import DONE, PRESTATE, SENDING, VERIFYING, Progress
from idconsole.changes.recovery import reconcile_unlocked
from idconsole.changes.staged import STAGED
from idconsole.changes.staged import UNKNOWN as STAGED_UNKNOWN
from idconsole.changes.verify import verify_changes
from idconsole.config.errors import local_io_error

if TYPE_CHECKING:
    from idconsole.workspace import Workspace


async def apply(
    workspace: Workspace,
    plan: Plan,
    *,
    acknowledge_warnings: bool,
    allow_irreversible: bool,
    progress: Callable[[Progress], None] | None = None,
    cancel: asyncio.Event | None = None,
    operator: str | None = None,
    ticket: str | None = None,
    note: str | None = None,
) -> ApplyReport:
    """Send the plan's requests (see the module docstring). Raises ApplyRefused before sending
    anything; AuthError/Unavailable if the pre-state cannot be read (nothing sent either). Once sending
    starts, failures are reported in the ApplyReport (with `stopped`), never raised.

    `operator` (default: the settings' operator, else the OS user), `ticket` and `note` are recorded in
    the begin record; a ticket or note `journal_meta` refuses raises BadInput before anything is sent."""
    meta = apply_meta(operator, ticket, note)
    lock = ApplyLock(workspace.state_dir)
    if not lock.acquire():
        raise ApplyRefused(["another apply of this profile is in flight"],
                           hint="Wait for it to finish; its progress is in the journal.")
    try:
        workspace.staged.refresh(strict=True)  # the file as it is now, never a stale copy in memory
        reconcile_unlocked(workspace.staged, workspace.journal)
        reasons = refusals(workspace, plan, acknowledge_warnings=acknowledge_warnings,
                           allow_irreversible=allow_irreversible)
        if reasons:
            raise ApplyRefused(reasons)
        run = _Run(workspace, plan, progress, cancel, meta)
        return await run.go(acknowledge_warnings, allow_irreversible)
    finally:
        lock.release()


class _Run:
    def __init__(self, ws: Workspace, plan: Plan, progress: Callable[[Progress], None] | None,
                 cancel: asyncio.Event | None, meta: ApplyMeta) -> None:
        self.ws = ws
        self.meta = meta
        self.plan = plan
        self.progress_cb = progress
        self.cancel = cancel
        self.journal = ws.journal
        self.staged = ws.staged
        self.jid = new_journal_id()
        self.changes = {p.change.id: p.change for p in plan.changes}
        self.results: dict[str, ChangeResult] = {}
        for p in plan.changes:
            status = HELD if p.status == "held" else NOT_SENT
            note = "outcome unknown from an earlier apply: held until someone decides" if status == HELD else None
            self.results[p.change.id] = ChangeResult(p.change, status, error=note, request=p.request)
        self.requests = plan.requests
        self.total_changes = sum(r.size if r.kind == "usermap" else len(r.change_ids) for r in self.requests)
        self.done_changes = 0
        self.requests_done = 0
        self.stopped: str | None = None
        self.stop_message: str | None = None
        #: sentences for the report (a torn journal tail that was repaired...)
        self.notes: list[str] = []
        # the client's own redactor: every form a secret takes (raw, JSON-escaped, URL-encoded, Basic)
        self.redact = Redactor.for_connection(ws.connection)

    # -- plumbing --

    def record(self, record: dict[str, Any]) -> None:
        self.journal.append({"journal_id": self.jid, **record}, redact=self.redact)

    def record_first(self, record: dict[str, Any]) -> None:
        """The begin record: if the journal cannot be written, apply raises — nothing was sent."""
        try:
            self.record(record)
        except OSError as exc:
            raise local_io_error(exc, where=str(self.journal.path)) from exc
        self.notes.extend(self.journal.repairs)

    def local(self, write: Callable[[], object]) -> bool:
        """Run one local write (journal or staged set). When it fails the apply stops here — nothing
        more is sent — and False says so; the report names the file and the cause (exit 2)."""
        try:
            write()
        except OSError as exc:
            if self.stopped != LOCAL_IO:  # the first failure is the one that explains
                error = local_io_error(exc, where=str(self.journal.path))
                self.stopped, self.stop_message = LOCAL_IO, error.sentence("nothing more was sent")
            return False
        return True

    def report_progress(self, phase: str, message: str = "") -> None:
        if self.progress_cb is None:
            return
        remaining = [r.size for r in self.requests[self.requests_done:] if r.kind == "usermap"]
        eta = None
        if phase == SENDING:
            budget = self.plan.usermap_budget
            try:
                for b in self.ws.client.budgets():
                    if b.family == "usermap":
                        budget = (b.limit, b.window_s, b.remaining)
            except Exception:  # noqa: S110 - progress must never break an apply
                pass
            eta = estimate_usermap_seconds(remaining, *budget)
        succeeded = sum(1 for r in self.results.values() if r.status == ACKED)
        failed = sum(1 for r in self.results.values() if r.status in (REJECTED, UNKNOWN, NOT_APPLIED))
        try:
            self.progress_cb(Progress(phase, self.done_changes, self.total_changes, self.requests_done,
                                      len(self.requests), succeeded, failed, eta, message))
        except Exception:  # noqa: S110 - a broken progress view must not break an apply
            pass

    # -- the run --

    async def go(self, acknowledged: bool, allow_irreversible: bool) -> ApplyReport:
        self.report_progress(PRESTATE, "reading the current state (for the journal and undo)")
        pre_state = await read_pre_state(self.ws, self.plan.to_send)
        conn = self.ws.connection
        self.record_first({
            "type": "begin",
            "profile": conn.name,
            "region": conn.region,
            "host": getattr(getattr(self.ws.client, "hosts", None), "usermap", "") or "",
            **self.meta.to_json(),
            "changes": [c.to_json() for c in self.plan.to_send],
            "requests": [
                {"index": r.index, "kind": r.kind, "method": r.method, "endpoint": r.endpoint, "size": r.size,
                 "changes": list(r.change_ids)}
                for r in self.requests
            ],
            "pre_state": pre_state,
            "plan": {"fingerprint": self.plan.fingerprint, "created_at": self.plan.created_at},
            "confirmed": {
                "acknowledged_warnings": sorted({w.code for w in self.plan.needs_acknowledgement}) if acknowledged else [],
                "allow_irreversible": allow_irreversible,
            },
        })
        interrupted: BaseException | None = None
        try:
            for request in self.requests:
                if self.cancel is not None and self.cancel.is_set():
                    self.stopped = "cancelled"
                    self.stop_message = f"cancelled before request {request.index}/{len(self.requests)}"
                    break
                if not await self.wait_for_budget(request):
                    self.stopped = "cancelled"
                    self.stop_message = f"cancelled before request {request.index}/{len(self.requests)}"
                    break
                self.report_progress(SENDING, "sending " + request.describe(len(self.requests)))
                going_on = await self.send(request)
                outcome = self.results[request.change_ids[0]].status if request.change_ids else ACKED
                self.report_progress(SENDING, f"request {request.index}/{len(self.requests)}: "
                                              f"{outcome.replace('_', ' ')}")
                if not going_on:
                    break
        except BaseException as exc:  # CancelledError, KeyboardInterrupt, a bug: record, then re-raise
            interrupted = exc
            self.stopped = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
            self.stop_message = f"interrupted: {type(exc).__name__}"
        if self.stopped:
            for result in self.results.values():
                if result.status == NOT_SENT and result.error is None:
                    result.error = self.stop_message or self.stopped  # the status already says "not sent"
        if interrupted is None:
            await self.verify(pre_state)
        self.finish()
        if interrupted is not None:
            raise interrupted
        return self.report()

    async def wait_for_budget(self, request: PlannedRequest) -> bool:
        """Wait here (not inside the client) while the usermap rate limit holds the next batch back, so
        a cancel during a long wait takes effect at once. False when cancelled while waiting."""
        if request.kind != "usermap" or self.cancel is None:
            return True
        try:
            budget = self.ws.client.budget("usermap")
        except (AttributeError, KeyError):
            return True
        while True:
            wait = budget.plan(request.size) - time.monotonic()
            if wait <= 0.05:
                return True
            self.report_progress(SENDING, f"waiting {wait:.0f} s for the usermap rate limit before request "
                                          f"{request.index}/{len(self.requests)}")
            try:
                await asyncio.wait_for(self.cancel.wait(), timeout=min(wait, 1.0))
            except asyncio.TimeoutError:
                continue
            return False

    async def send(self, request: PlannedRequest) -> bool:
        """Send one request; False when the whole apply must stop."""
        ids = list(request.change_ids)
        changes = [self.changes[c] for c in ids]
        if not request.idempotent and not self.local(lambda: self.staged.mark(
                ids, status=STAGED_UNKNOWN, journal_id=self.jid,
                note=f"being sent by apply {self.jid}; if you see this after a crash the outcome is unknown")):
            return False  # before the intent: even a kill between the two cannot lead to a blind re-send
        if not self.local(lambda: self.record({"type": "intent", "request": request.index, "kind": request.kind,
                                               "changes": ids})):
            if not request.idempotent:  # it was never sent: back to staged (best effort)
                self.local(lambda: self.staged.mark(ids, status=STAGED, journal_id=self.jid,
                                                    note="the journal could not be written"))
            return False
        error: BaseException | None = None
        try:
            await send_request(self.ws, request, changes)
        except asyncio.CancelledError:
            self._fail(request, ids, UNKNOWN if not request.idempotent else NOT_APPLIED,
                       "cancelled while the request was in flight", "cancelled")
            raise
        except Exception as exc:  # classified below
            error = exc
        self.requests_done += 1
        self.done_changes += len(ids)
        if error is None:
            for cid in ids:
                self.results[cid].status = ACKED
                self.results[cid].error = None
            # the ack names its changes, so it is recognised even if a neighbouring record is damaged
            acked = self.local(lambda: self.record({"type": "ack", "request": request.index, "kind": request.kind,
                                                    "changes": ids}))
            # acknowledged: out of the staged set even when the journal could not say so
            return self.local(lambda: self.staged.remove_ids(ids)) and acked
        outcome, stop = classify(error, request.idempotent)
        message = str(error) if isinstance(error, IdConsoleError) else f"{type(error).__name__}: {error}"
        kind = getattr(error, "kind", type(error).__name__)
        if not self._fail(request, ids, outcome, message, kind, status=getattr(error, "status", None)):
            return False
        if stop:
            self.stopped, self.stop_message = stop, message
            return False
        return True

    def _fail(self, request: PlannedRequest, ids: list[str], outcome: str, message: str, kind: str,
              status: int | None = None) -> bool:
        """Record a failed request; False when a local write failed (the apply stops)."""
        for cid in ids:
            self.results[cid].status = outcome
            self.results[cid].error = message
            self.results[cid].error_kind = kind
        ok = self.local(lambda: self.record({"type": "fail", "request": request.index, "kind": request.kind,
                                             "changes": ids, "outcome": outcome,
                                             "error": {"kind": kind, "message": message, "status": status}}))
        if outcome == UNKNOWN and not request.idempotent:
            note, state = f"outcome unknown: {message}", STAGED_UNKNOWN
        else:
            note, state = f"{outcome.replace('_', ' ')}: {message}", STAGED
        return self.local(lambda: self.staged.mark(ids, status=state, journal_id=self.jid, note=note)) and ok

    async def verify(self, pre_state: dict[str, Any]) -> None:
        checked = [r.change for r in self.results.values() if r.status in (ACKED, UNKNOWN)]
        if not checked:
            return
        self.report_progress(VERIFYING, f"re-reading {len(checked)} change(s)")
        acked = {cid for cid, r in self.results.items() if r.status == ACKED}
        try:
            results, notes = await verify_changes(self.ws, checked, pre_state, acked_ids=acked)
        except IdConsoleError as exc:
            results = {c.id: "unverifiable" for c in checked}
            notes = {c.id: f"could not re-read: {exc}" for c in checked}
        for cid, status in results.items():
            self.results[cid].verified = status
            if cid in notes:
                self.results[cid].note = notes[cid]
        for r in self.results.values():
            if r.status == REJECTED and r.verified is None:
                r.verified = "failed"
        self.local(lambda: self.record({"type": "verify", "results": results, "notes": notes}))

    def finish(self) -> None:
        report = self.report()
        self.local(lambda: self.record({
            "type": "end",
            "stopped": self.stopped,
            "summary": {
                "submitted": report.submitted,
                "succeeded": report.succeeded,
                "failed": len(report.failed),
                "unknown": len(report.unknown),
                "requests_sent": self.requests_done,
                "requests_total": len(self.requests),
                "stop_message": self.stop_message,
            },
        }))
        self.report_progress(DONE, f"{report.succeeded} of {len(self.results)} change(s) acknowledged")

    def report(self) -> ApplyReport:
        verification = {cid: r.verified for cid, r in self.results.items() if r.verified is not None}
        return ApplyReport(
            journal_id=self.jid,
            profile=self.ws.connection.name,
            results=list(self.results.values()),
            requests_total=len(self.requests),
            requests_sent=self.requests_done,
            stopped=self.stopped,
            stop_message=self.stop_message,
            verification=verification,
            notes=list(self.notes),
        )

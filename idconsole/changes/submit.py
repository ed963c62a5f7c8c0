"""Apply: send a confirmed plan through the shared client, one request at a time, journaling each.

`await apply(workspace, plan, acknowledge_warnings=..., allow_irreversible=..., progress=..., cancel=...)`

Refuses (ApplyRefused, a BadInput: exit 2) — before sending anything — when the plan has blocking
problems, its warnings are not acknowledged, it has irreversible changes that are not allowed, the
staged set changed since the plan was built, the plan was built for another profile, the workspace is
read-only, or another apply of this profile is in flight (an in-process guard plus an exclusive lock
file `<state_dir>/apply.lock`, so a TUI and a CLI cannot apply at once).

Then, per request in plan order (usermap batches, identify batches, Mixpanel events):
1. journal `intent` (fsync) — and, for a non-idempotent request, the staged changes are marked
   `unknown` first, so even a kill right now cannot lead to a blind re-send;
2. send it (the client's usermap budget paces map batches; its transport retries what is safe);
3. journal `ack` (fsync), then drop its changes from the staged set — or journal `fail` with the
   outcome: `rejected` (400/401/...: not applied, the server's reason kept on the staged change),
   `unknown` (non-idempotent, may have been applied: held, never re-sent until someone decides),
   `not_applied` (never reached the server, or idempotent and safe to send again: stays staged).
A 401/403 stops the apply (exit 3); a service unreachable or throttled after every retry stops it
(exit 4); `cancel` is honoured between requests. Whatever was not sent stays staged. Then every
affected user is re-read and each change marked confirmed / pending / failed / unverifiable.

Crash recovery: `reconcile(workspace)` (run by build_plan and apply) reads the journal: a staged change
whose request the journal shows acknowledged is dropped (the kill came between the ack and the staged
write); one whose request has an intent and no outcome (the kill came mid-request) stays staged if it
is idempotent (re-sending a map is harmless) and is held as `unknown` if it is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import (
    AuthError,
    BadInput,
    IdConsoleError,
    NotFound,
    NotOffered,
    ServerRejected,
    Throttled,
    Unavailable,
    UnknownOutcome,
)
from idconsole.changes import model
from idconsole.changes._fs import LockFile
from idconsole.changes.journal import (
    ACKED,
    IN_FLIGHT,
    NOT_APPLIED,
    NOT_SENT,
    REJECTED,
    UNKNOWN,
    Journal,
    new_journal_id,
)
from idconsole.changes.model import Change
from idconsole.changes.plan import Plan, PlannedRequest, estimate_usermap_seconds
from idconsole.changes.progress import DONE, PRESTATE, SENDING, VERIFYING, Progress
from idconsole.changes.staged import STAGED
from idconsole.changes.staged import UNKNOWN as STAGED_UNKNOWN

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

HELD = "held"
#: how many Amplitude profiles apply reads for the pre-state (undo) and for verification
MAX_PROFILE_READS = 200
MAX_MIXPANEL_VERIFY = 20
READ_CONCURRENCY = 8

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


class ApplyRefused(BadInput):
    """Apply would not start; `reasons` lists every reason. Nothing was sent."""

    kind = "refused"

    def __init__(self, reasons: list[str], *, hint: str = "") -> None:
        text = reasons[0] if len(reasons) == 1 else "; ".join(reasons)
        super().__init__(f"Apply refused: {text}", hint=hint)
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
    #: why sending stopped early: None, "cancelled", "auth", "unavailable", "throttled", "error"
    stopped: str | None = None
    stop_message: str | None = None
    verification: dict[str, str] = field(default_factory=dict)

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
            "exit_code": self.exit_code,
        }


# --- the apply lock ------------------------------------------------------------------------------

_IN_PROCESS: set[Path] = set()


class ApplyLock:
    """One apply per profile state dir, across tasks of this process and across processes."""

    def __init__(self, state_dir: Path) -> None:
        self.key = Path(state_dir).resolve()
        self.file = LockFile(self.key / "apply.lock")

    def acquire(self) -> bool:
        if self.key in _IN_PROCESS:
            return False
        if not self.file.acquire():
            return False
        _IN_PROCESS.add(self.key)
        return True

    def release(self) -> None:
        if self.file.held:
            self.file.release()
            _IN_PROCESS.discard(self.key)

    def __enter__(self) -> ApplyLock:
        if not self.acquire():
            raise ApplyRefused(["another apply of this profile is in flight"],
                               hint="Wait for it to finish (its progress is in the journal).")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def apply_in_flight(workspace: Workspace) -> bool:
    lock = ApplyLock(workspace.state_dir)
    if lock.acquire():
        lock.release()
        return False
    return True


# --- crash recovery ------------------------------------------------------------------------------


def reconcile(workspace: Workspace, *, locked: bool = False) -> list[str]:
    """Bring the staged set in line with the journal after a crash or kill (see module docstring).
    Does nothing while an apply is in flight. Returns one note per change it touched."""
    lock = ApplyLock(workspace.state_dir)
    if not locked and not lock.acquire():
        return []
    try:
        return _reconcile(workspace.staged, workspace.journal)
    finally:
        if not locked:
            lock.release()


def _reconcile(staged: Any, journal: Journal) -> list[str]:
    if not staged or staged.mismatch or not journal.path.exists():
        return []
    latest = journal.latest_status()
    done: list[str] = []
    notes: list[str] = []
    held: dict[str, str] = {}
    for entry in staged.entries:
        cid = entry.change.id
        found = latest.get(cid)
        if found is None:
            continue
        status, jentry = found
        if status in (ACKED, "resolved_applied"):
            done.append(cid)
            notes.append(f"{entry.change.description()}: acknowledged in {jentry.journal_id}; dropped from staged")
        elif status in (UNKNOWN, IN_FLIGHT) and entry.status != STAGED_UNKNOWN:
            if entry.change.idempotent:
                continue  # safe to send again
            held[cid] = jentry.journal_id
            notes.append(f"{entry.change.description()}: outcome unknown ({jentry.journal_id}); held")
    if done:
        staged.remove_ids(done)
    for cid, jid in held.items():
        staged.mark([cid], status=STAGED_UNKNOWN, journal_id=jid,
                    note="sent when the console stopped; the outcome is unknown")
    return notes


def resolve_unknown(workspace: Workspace, ref: int | str, *, applied: bool) -> Change:
    """The explicit decision about a held change: `applied=True` (you checked: it took effect) drops it;
    `applied=False` (it did not) re-stages it for the next apply. Recorded in the journal."""
    entry = workspace.staged.entry(ref)
    change = workspace.staged.resolve(ref, applied=applied)
    workspace.journal.append({
        "type": "resolve",
        "journal_id": entry.journal_id or new_journal_id(),
        "change": change.id,
        "decision": "applied" if applied else "resend",
    })
    return change


def drop_change(workspace: Workspace, ref: int | str) -> Change:
    """Drop a staged change. Dropping a held one (outcome unknown) is a decision too ("do not send
    it"): it is recorded in the journal as `dropped` next to the apply that left it in doubt."""
    entry = workspace.staged.entry(ref)
    change = workspace.staged.drop(ref)
    if entry.held:
        workspace.journal.append({
            "type": "resolve",
            "journal_id": entry.journal_id or new_journal_id(),
            "change": change.id,
            "decision": "dropped",
        })
    return change


# --- apply ---------------------------------------------------------------------------------------


def refusals(workspace: Workspace, plan: Plan, *, acknowledge_warnings: bool, allow_irreversible: bool) -> list[str]:
    """Why apply would refuse this plan now (empty: it would go ahead)."""
    reasons: list[str] = []
    staged = workspace.staged
    if workspace.readonly:
        reasons.append("the console is read-only")
    if plan.profile != workspace.connection.name:
        reasons.append(f"the plan was built for profile {plan.profile!r}, not {workspace.connection.name!r}")
    if staged.mismatch:
        reasons.append(f"the staged changes belong to profile {staged.profile!r}")
    if plan.fingerprint != staged.fingerprint:
        reasons.append("the staged changes changed since the plan was built; look at the new plan")
    for w in plan.blocking:
        reasons.append(f"[{w.code}] {w.message}")
    if plan.needs_acknowledgement and not acknowledge_warnings:
        reasons.append(f"{len(plan.needs_acknowledgement)} warning(s) are not acknowledged")
    if plan.irreversible and not allow_irreversible:
        reasons.append(f"{len(plan.irreversible)} irreversible change(s) (Mixpanel merge) are not allowed")
    if not plan.to_send:
        reasons.append("there is nothing to send" + (" (every staged change is held)" if plan.held else ""))
    return reasons


async def apply(
    workspace: Workspace,
    plan: Plan,
    *,
    acknowledge_warnings: bool,
    allow_irreversible: bool,
    progress: Callable[[Progress], None] | None = None,
    cancel: asyncio.Event | None = None,
) -> ApplyReport:
    """Send the plan's requests (see the module docstring). Raises ApplyRefused before sending
    anything; AuthError/Unavailable if the pre-state cannot be read (nothing sent either). Once sending
    starts, failures are reported in the ApplyReport (with `stopped`), never raised."""
    lock = ApplyLock(workspace.state_dir)
    if not lock.acquire():
        raise ApplyRefused(["another apply of this profile is in flight"],
                           hint="Wait for it to finish; its progress is in the journal.")
    try:
        _reconcile(workspace.staged, workspace.journal)
        reasons = refusals(workspace, plan, acknowledge_warnings=acknowledge_warnings,
                           allow_irreversible=allow_irreversible)
        if reasons:
            raise ApplyRefused(reasons, hint="Nothing was sent.")
        run = _Run(workspace, plan, progress, cancel)
        return await run.go(acknowledge_warnings, allow_irreversible)
    finally:
        lock.release()


class _Run:
    def __init__(self, ws: Workspace, plan: Plan, progress: Callable[[Progress], None] | None,
                 cancel: asyncio.Event | None) -> None:
        self.ws = ws
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
        self.secrets = _secret_values(ws)

    # -- plumbing --

    def record(self, record: dict[str, Any]) -> None:
        self.journal.append({"journal_id": self.jid, **record}, redact=self.secrets)

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
        self.record({
            "type": "begin",
            "profile": conn.name,
            "region": conn.region,
            "host": getattr(getattr(self.ws.client, "hosts", None), "usermap", "") or "",
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
                    result.error = f"not sent: {self.stop_message or self.stopped}"
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
        if not request.idempotent:
            # before the intent: even a kill between the two cannot lead to a blind re-send
            self.staged.mark(ids, status=STAGED_UNKNOWN, journal_id=self.jid,
                             note=f"being sent by apply {self.jid}; if you see this after a crash the outcome is unknown")
        self.record({"type": "intent", "request": request.index, "kind": request.kind, "changes": ids})
        error: BaseException | None = None
        try:
            await self._call(request, changes)
        except asyncio.CancelledError:
            self._fail(request, ids, UNKNOWN if not request.idempotent else NOT_APPLIED,
                       "cancelled while the request was in flight", "cancelled")
            raise
        except Exception as exc:  # classified below
            error = exc
        self.requests_done += 1
        self.done_changes += len(ids)
        if error is None:
            self.record({"type": "ack", "request": request.index})
            self.staged.remove_ids(ids)
            for cid in ids:
                self.results[cid].status = ACKED
                self.results[cid].error = None
            return True
        outcome, stop = classify(error, request.idempotent)
        message = str(error) if isinstance(error, IdConsoleError) else f"{type(error).__name__}: {error}"
        kind = getattr(error, "kind", type(error).__name__)
        self._fail(request, ids, outcome, message, kind, status=getattr(error, "status", None))
        if stop:
            self.stopped, self.stop_message = stop, message
            return False
        return True

    def _fail(self, request: PlannedRequest, ids: list[str], outcome: str, message: str, kind: str,
              status: int | None = None) -> None:
        self.record({"type": "fail", "request": request.index, "outcome": outcome,
                     "error": {"kind": kind, "message": message, "status": status}})
        if outcome == UNKNOWN and not request.idempotent:
            self.staged.mark(ids, status=STAGED_UNKNOWN, journal_id=self.jid,
                             note=f"outcome unknown: {message}")
        else:
            self.staged.mark(ids, status=STAGED, journal_id=self.jid, note=f"{outcome.replace('_', ' ')}: {message}")
        for cid in ids:
            self.results[cid].status = outcome
            self.results[cid].error = message
            self.results[cid].error_kind = kind

    async def _call(self, request: PlannedRequest, changes: list[Change]) -> None:
        client = self.ws.client
        if request.kind == "usermap":
            await client.amplitude.map_batch([c.to_mapping() for c in changes])
        elif request.kind == "identify":
            await client.amplitude.identify([c.to_identification() for c in changes])
        elif request.kind == model.MP_IDENTIFY:
            (c,) = changes
            await client.mixpanel.create_identity(c.target_id or "", c.user_id)
        elif request.kind == model.MP_ALIAS:
            (c,) = changes
            await client.mixpanel.create_alias(c.user_id, c.target_id or "")
        elif request.kind == model.MP_MERGE:
            (c,) = changes
            await client.mixpanel.merge(c.user_id, c.target_id or "")
        else:  # pragma: no cover - plans only make the kinds above
            raise BadInput(f"unknown request kind {request.kind!r}")

    async def verify(self, pre_state: dict[str, Any]) -> None:
        from idconsole.changes.verify import verify_changes

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
        self.record({"type": "verify", "results": results, "notes": notes})

    def finish(self) -> None:
        report = self.report()
        self.record({
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
        })
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
        )


def classify(error: BaseException, idempotent: bool) -> tuple[str, str | None]:
    """(outcome, stop) for an exception raised while sending one request.
    outcome: rejected | unknown | not_applied; stop: None or why the whole apply stops."""
    if isinstance(error, AuthError):
        return REJECTED, "auth"
    if isinstance(error, UnknownOutcome):
        return UNKNOWN, None
    if isinstance(error, Throttled):
        return NOT_APPLIED, "throttled"
    if isinstance(error, Unavailable):
        # the transport raises Unavailable for a non-idempotent call only when it never left this machine
        return NOT_APPLIED, "unavailable"
    if isinstance(error, ServerRejected):
        status = error.status or 0
        if 200 <= status < 300:  # the server said OK in a shape we could not read
            return (NOT_APPLIED if idempotent else UNKNOWN), None
        return REJECTED, None
    if isinstance(error, BadInput):
        return REJECTED, None
    return (NOT_APPLIED if idempotent else UNKNOWN), "error"


def _secret_values(ws: Workspace) -> list[str]:
    conn = ws.connection
    values: list[str] = []
    for creds in (conn.amplitude, conn.mixpanel):
        if creds is None:
            continue
        for name in ("api_key", "secret_key", "token", "api_secret", "sa_secret"):
            secret = getattr(creds, name, None)
            if secret is not None and hasattr(secret, "reveal"):
                values.append(secret.reveal())
    return [v for v in values if v]


# --- pre-state -----------------------------------------------------------------------------------


async def read_pre_state(ws: Workspace, changes: list[Change]) -> dict[str, Any]:
    """What undo needs: each mapped/unmapped user's current global id, and the current user
    properties of identify targets where the Profile API can read them. AuthError / Unavailable on the
    mappings propagate (apply then sends nothing); profile failures are noted per user."""
    users = sorted({c.user_id for c in changes if c.op in (model.MAP, model.UNMAP)})
    mappings: dict[str, str | None] = {}
    if users:
        found = await ws.client.amplitude.get_mappings(users)
        for uid in users:
            um = found.get(uid)
            mappings[uid] = um.global_user_id if um is not None else None
    properties: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    targets = list(dict.fromkeys(c.user_id for c in changes if c.op == model.IDENTIFY))
    if targets:
        props, unreadable = await read_properties(ws, targets)
        properties.update(props)
    return {
        "mappings": mappings,
        "mappings_read": bool(users),
        "properties": properties,
        "properties_unreadable": unreadable,
    }


async def read_properties(ws: Workspace, users: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """user -> user_properties (a user Amplitude has not seen reads as {}), and user -> why unreadable."""
    props: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    if ws.connection.amplitude is None:
        return props, {u: "no Amplitude credentials" for u in users}
    if ws.connection.region == "eu":
        return props, {u: "the User Profile API is not offered in EU" for u in users}
    for u in users[MAX_PROFILE_READS:]:
        unreadable[u] = f"not read (only the first {MAX_PROFILE_READS} profiles are read)"
    sem = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(user: str) -> None:
        async with sem:
            try:
                profile = await ws.client.amplitude.profile(user, cohort_ids=False)
            except NotFound:
                props[user] = {}
            except NotOffered as exc:
                unreadable[user] = str(exc)
            except (AuthError, Unavailable, Throttled, ServerRejected, BadInput) as exc:
                unreadable[user] = f"{exc.kind}: {exc}"
            else:
                props[user] = dict(profile.user_properties)

    await asyncio.gather(*(one(u) for u in users[:MAX_PROFILE_READS]))
    return props, unreadable

"""Crash recovery and decisions about changes in doubt.

`reconcile(workspace)` (run by build_plan and apply) brings the staged set in line with the journal:
a staged change whose request the journal shows acknowledged is dropped (the kill came between the ack
and the staged write); one whose request has an intent and no outcome (the kill came mid-request)
stays staged if it is idempotent (re-sending a map is harmless) and is held as `unknown` if it is not.
`resolve_unknown` and `drop_change` record the operator's decision about a held change in the journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idconsole.changes.apply_lock import ApplyLock
from idconsole.changes.journal import ACKED, IN_FLIGHT, UNKNOWN, Journal, new_journal_id
from idconsole.changes.model import Change
from idconsole.changes.staged import UNKNOWN as STAGED_UNKNOWN

if TYPE_CHECKING:
    from idconsole.workspace import Workspace


def reconcile(workspace: Workspace, *, locked: bool = False) -> list[str]:
    """Bring the staged set in line with the journal after a crash or kill (see module docstring).
    Does nothing while an apply is in flight. Returns one note per change it touched."""
    lock = ApplyLock(workspace.state_dir)
    try:
        if not locked and not lock.acquire():
            return []
    except OSError:  # a read-only state dir: nothing could be written back anyway (apply says why)
        return []
    try:
        return reconcile_unlocked(workspace.staged, workspace.journal)
    finally:
        if not locked:
            lock.release()


def reconcile_unlocked(staged: Any, journal: Journal) -> list[str]:
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

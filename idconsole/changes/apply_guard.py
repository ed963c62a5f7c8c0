"""Why apply would refuse a plan now — checked before anything is sent: read-only, another profile,
a staged set changed since the plan (its file's revision or content differs from the plan's; apply
re-reads the file first), blocking problems, unacknowledged warnings, irreversible changes
not allowed, nothing to send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idconsole.changes.plan_types import Plan

if TYPE_CHECKING:
    from idconsole.workspace import Workspace


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
    if plan.revision != staged.revision or plan.fingerprint != staged.fingerprint:
        reasons.append("the staged changes changed since the plan was made (by another idconsole, a script "
                       "or an edit here); plan again")
    for w in plan.blocking:
        reasons.append(f"[{w.code}] {w.message}")
    if plan.needs_acknowledgement and not acknowledge_warnings:
        reasons.append(f"{len(plan.needs_acknowledgement)} warning(s) are not acknowledged")
    if plan.irreversible and not allow_irreversible:
        reasons.append(f"{len(plan.irreversible)} irreversible change(s) (Mixpanel merge) are not allowed")
    if not plan.to_send:
        reasons.append("there is nothing to send" + (" (every staged change is held)" if plan.held else ""))
    return reasons

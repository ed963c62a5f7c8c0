"""The plan's checks that need no identity graph: profile and read-only guards, vendors without
credentials, junk ids, identify objects the client would refuse, EU limits, the property rate, the
non-idempotent and irreversible changes, Simplified ID Merge, the Mixpanel cluster cap, held changes."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from idconsole.api.errors import BadInput
from idconsole.api.identify_rules import validate_identification
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.plan_context import PlanContext
from idconsole.changes.plan_types import BLOCKING, INFO, WARNING
from idconsole.changes.validate import junk_id_reasons

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

MIXPANEL_CLUSTER_CAP = 500
PROPERTY_UPDATES_PER_HOUR = 1800


def check_static(ws: Workspace, ctx: PlanContext) -> None:
    """Every check that does not need the identity graph (see the severities in changes/plan.py)."""
    conn = ws.connection
    staged = ws.staged
    if staged.mismatch:
        ctx.warn("profile_mismatch", BLOCKING,
                  f"these staged changes belong to profile {staged.profile!r}, not {staged.expected_profile!r}",
                  [e.change for e in ctx.entries])
    if ws.readonly and ctx.entries:
        ctx.warn("readonly", BLOCKING, "the console is read-only: nothing can be applied", [])
    sendable = ctx.valid_sendable
    for vendor, creds in ((model.AMPLITUDE, conn.amplitude), (model.MIXPANEL, conn.mixpanel)):
        missing = [c for c in sendable if c.vendor == vendor]
        if missing and creds is None:
            ctx.warn("vendor_not_configured", BLOCKING,
                      f"{len(missing)} change(s) need {vendor.capitalize()}, which profile {conn.name!r} has no "
                      "credentials for", missing)
    # junk ids
    for change in sendable:
        for value in change.ids:
            reasons = junk_id_reasons(value)
            if reasons and reasons != ["is empty"]:
                ctx.warn("junk_id", WARNING,
                          f"change {ctx.n(change)}: the id {value!r} {' and '.join(reasons)} — it looks like a "
                          "bug's output, not a user", [change])
    # identify: the client's own validation, EU, property rate
    per_user: Counter[str] = Counter()
    identifies = [c for c in sendable if c.op == model.IDENTIFY]
    for change in identifies:
        try:
            validate_identification(change.to_identification())
        except BadInput as exc:
            ctx.warn("identify_rejected", BLOCKING, f"change {ctx.n(change)}: {exc}", [change])
        per_user[change.user_id] += max(1, len(change.properties))
    for user, count in per_user.items():
        if count > PROPERTY_UPDATES_PER_HOUR:
            mine = [c for c in identifies if c.user_id == user]
            ctx.warn("property_rate", WARNING,
                      f"{count} property updates for {user}: Amplitude may drop updates beyond "
                      f"{PROPERTY_UPDATES_PER_HOUR} per user per hour", mine)
    if identifies and conn.region == "eu":
        ctx.warn("unverifiable", WARNING,
                  "the Amplitude User Profile API is not offered in EU: identify changes cannot be verified "
                  "after sending, and undo cannot restore previous property values", identifies)
    # non-idempotent, irreversible
    non_idem = [c for c in sendable if not c.idempotent]
    if non_idem:
        ctx.warn("non_idempotent", WARNING,
                  f"{len(non_idem)} change(s) are not idempotent (sending twice applies twice): if an answer "
                  "is lost the change is held as 'outcome unknown' and never re-sent automatically", non_idem)
    irreversible = [c for c in sendable if c.irreversible]
    if irreversible:
        ctx.warn("irreversible", WARNING,
                  f"{len(irreversible)} Mixpanel merge(s) cannot be undone by anyone; they need their own "
                  "confirmation (--allow-irreversible)", irreversible)
    mixpanel = [c for c in sendable if c.vendor == model.MIXPANEL]
    if mixpanel and conn.mixpanel is not None and conn.mixpanel.merge_mode == "simplified":
        ctx.warn("simplified_merge", WARNING,
                  "this Mixpanel project uses Simplified ID Merge: it ignores $identify, $create_alias and "
                  "$merge events (the server may still answer success)", mixpanel)
    _cluster_cap(ctx, mixpanel)
    # held and previously failed
    for entry in ctx.entries:
        if entry.held:
            where = f" (apply {entry.journal_id})" if entry.journal_id else ""
            ctx.warn("held", WARNING,
                      f"change {ctx.n(entry.change)}: the outcome of sending it{where} is unknown and it is not "
                      "idempotent, so it will NOT be sent. Check the user, then mark it done or re-stage it",
                      [entry.change])
        elif entry.note:
            ctx.warn("previous_error", INFO, f"change {ctx.n(entry.change)} last time: {entry.note}",
                      [entry.change])

def _cluster_cap(ctx: PlanContext, mixpanel: list[Change]) -> None:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for change in mixpanel:
        a, b = find(change.user_id), find(change.target_id or "")
        if a != b:
            parent[a] = b
    sizes = Counter(find(x) for x in list(parent))
    for root, size in sizes.items():
        if size > MIXPANEL_CLUSTER_CAP:
            members = [c for c in mixpanel if find(c.user_id) == root]
            ctx.warn("cluster_cap", BLOCKING,
                      f"these Mixpanel changes would put {size} ids in one cluster; Mixpanel caps a cluster at "
                      f"{MIXPANEL_CLUSTER_CAP}", members)

"""Build the plan: what the staged changes will do and exactly what will be sent — before anything is.

`await build_plan(workspace)` reads the CURRENT Amplitude mappings of every id involved (batched
through `get_mappings`, following chains a few hops), replays the staged changes in order on that
graph, and returns a `Plan`: each change with its effect (every affected user's global id before and
after; for an identify or a Mixpanel event, each property's current value or each id's current
cluster, `plan_current`), the warnings, the exact requests (endpoint, method, batch sizes — split with the client's own
`split_usermap_batches` at the client's own `AmplitudeApi.usermap_batch_size()`) and how long the
usermap rate limit makes it take.

The steps live in their own modules: `plan_types` (the data), `plan_graph` (current mappings and the
replay), `plan_checks` (checks without the graph), `plan_requests` (the wire requests),
`plan_estimate` (the rate-limit wait), `plan_render` (text).

Severities (`PlanWarning.severity`):

- `blocking` — apply refuses while any is present:
  `invalid` (empty id, unmap carrying a global id, map without a global, bad identify operation or
  value, a merge of an id with itself...), `self_map` (A→A), `cycle` (the change would close a mapping
  cycle A→B→…→A: the API accepts it but no user resolves sensibly; unmap first), `profile_mismatch`
  (the staged set was made under another profile), `vendor_not_configured` (a change for a vendor
  this profile has no credentials for), `readonly` (the workspace is read-only), `cluster_cap` (the
  staged Mixpanel changes alone would put more than 500 ids in one cluster), `identify_rejected` (the
  client's own Identify validation refuses the object).
- `warning` — apply needs `acknowledge_warnings=True` (`--yes`):
  `junk_id` (`null`, `undefined`, `0`, `-1`, shorter than 5 characters, leading/trailing whitespace,
  control characters), `chain` (mapping into a user that is itself mapped, or a user others are mapped
  into), `replaces_mapping` (the user is mapped elsewhere now), `cancels` (a later staged change undoes
  this one: map then unmap of the same user, or a second map of it), `duplicate` (the same change twice),
  `non_idempotent` (a lost answer means it is held, never re-sent), `irreversible` (Mixpanel merge; also
  needs `allow_irreversible=True`), `held` (outcome unknown from an earlier apply: not sent until
  someone decides), `unverifiable` (EU: no Profile API, identify cannot be verified nor undone exactly),
  `simplified_merge` (the Mixpanel project ignores identity events), `property_rate` (more than 1800
  property updates for one user: Amplitude may drop some), `unknown_id` (a map into an id Amplitude has
  not seen: a typo? with the closest recent lookup; `Plan.ids` says per id known / unknown / not
  checked, see `known_ids`),
  `shared_device` (the users' only device in common is one seen under many user ids: `plan_devices`).
- `info` — shown, needs nothing: `no_op` (already mapped there / unmapping an unmapped user),
  `previous_error` (the change was rejected last time, with the reason), `devices_not_checked` (the
  shared-device check had no budget or facts for a map).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from idconsole.changes.known_ids import check_known_ids
from idconsole.changes.plan_checks import MIXPANEL_CLUSTER_CAP, PROPERTY_UPDATES_PER_HOUR, check_static
from idconsole.changes.plan_context import PlanContext
from idconsole.changes.plan_current import read_current
from idconsole.changes.plan_devices import check_shared_devices
from idconsole.changes.plan_estimate import DEFAULT_USERMAP_RATE, estimate_usermap_seconds, usermap_budget
from idconsole.changes.plan_graph import CHAIN_LOOKUP_ROUNDS, MappingGraph
from idconsole.changes.plan_render import render_plan, render_plan_lines
from idconsole.changes.plan_requests import IDENTIFY_BATCH, IDENTIFY_BATCH_NON_IDEMPOTENT, plan_requests
from idconsole.changes.plan_types import (
    BLOCKING,
    HELD,
    INFO,
    SEND,
    SEVERITIES,
    WARNING,
    Current,
    Effect,
    Plan,
    PlannedChange,
    PlannedRequest,
    PlanWarning,
)
from idconsole.changes.recovery import reconcile

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

__all__ = [
    "BLOCKING", "CHAIN_LOOKUP_ROUNDS", "DEFAULT_USERMAP_RATE", "HELD", "IDENTIFY_BATCH",
    "IDENTIFY_BATCH_NON_IDEMPOTENT", "INFO", "MIXPANEL_CLUSTER_CAP", "PROPERTY_UPDATES_PER_HOUR", "SEND",
    "SEVERITIES", "WARNING", "Effect", "Plan", "PlanWarning", "PlannedChange", "PlannedRequest", "build_plan",
    "estimate_usermap_seconds", "render_plan", "render_plan_lines",
]  # fmt: skip


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def build_plan(workspace: Workspace) -> Plan:
    """Plan the workspace's staged changes against the current mappings. Sends nothing but lookups.

    Built from staged.json as it is now (re-read if anyone else changed it; the plan records its
    revision, and apply refuses if the file moves on), reconciled with the journal first (a change the
    journal shows acknowledged is removed; one sent with no answer recorded is held as `unknown`), so a
    plan after a crash is honest. Lookup failures propagate (AuthError, Unavailable...): a plan is
    never built on guesses."""
    staged = workspace.staged
    staged.refresh(strict=True)
    reconcile(workspace)
    # what is planned, and the revision it came from, are read at one moment (the lookups below await)
    ctx = PlanContext(staged.entries)
    revision, fingerprint = staged.revision, staged.fingerprint
    graph = MappingGraph()
    await graph.read(workspace, ctx)
    graph.replay(ctx)
    # the typo check and the current values are independent reads: one wait, not two
    known, current = await asyncio.gather(check_known_ids(workspace, ctx.valid_sendable, positions=ctx.positions),
                                          read_current(workspace, ctx))
    ctx.warnings.extend(PlanWarning(w.code, WARNING, w.message, w.change_ids) for w in known.warnings)
    check_static(workspace, ctx)
    await check_shared_devices(workspace, ctx, known.to_json())  # maps of users who only share a shared device
    requests = plan_requests(workspace, ctx)
    budget = usermap_budget(workspace)
    eta = estimate_usermap_seconds([r.size for r in requests if r.kind == "usermap"], *budget)
    connection = workspace.connection
    return Plan(
        profile=connection.name,
        region=connection.region,
        fingerprint=fingerprint,
        created_at=_now(),
        changes=_planned(ctx, graph, requests, current),
        warnings=ctx.sorted_warnings(),
        requests=requests,
        users=graph.users(),
        eta_seconds=eta,
        usermap_budget=budget,
        ids=known.to_json(),
        revision=revision,
    )


def _planned(ctx: PlanContext, graph: MappingGraph, requests: list[PlannedRequest],
             current: dict[str, tuple[Current, ...]]) -> list[PlannedChange]:
    request_of = {cid: r.index for r in requests for cid in r.change_ids}
    codes: dict[str, list[str]] = defaultdict(list)
    for w in ctx.warnings:
        for cid in w.change_ids:
            if w.code not in codes[cid]:
                codes[cid].append(w.code)
    return [
        PlannedChange(
            n=n,
            change=e.change,
            status=HELD if e.held else SEND,
            effects=tuple(graph.effects.get(e.change.id, ())),
            warnings=tuple(codes.get(e.change.id, ())),
            request=request_of.get(e.change.id),
            current=current.get(e.change.id, ()),
        )
        for n, e in enumerate(ctx.entries, 1)
    ]

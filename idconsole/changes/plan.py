"""The plan: what the staged changes will do and exactly what will be sent — computed before anything is.

`await build_plan(workspace)` reads the CURRENT Amplitude mappings of every id involved (batched
through `get_mappings`, following chains a few hops), replays the staged changes in order on that
graph, and returns a `Plan`: each change with its effect (every affected user's global id before and
after), the warnings, the exact requests (endpoint, method, batch sizes — split with the client's own
`split_usermap_batches` at the client's own `AmplitudeApi.usermap_batch_size()`) and how long the
usermap rate limit makes it take.

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
  property updates for one user: Amplitude may drop some).
- `info` — shown, needs nothing: `no_op` (already mapped there / unmapping an unmapped user),
  `previous_error` (the change was rejected last time, with the reason).
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import BadInput
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.staged import StagedEntry
from idconsole.changes.validate import change_problems, junk_id_reasons

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

BLOCKING, WARNING, INFO = "blocking", "warning", "info"
SEVERITIES = (BLOCKING, WARNING, INFO)

SEND, HELD = "send", "held"

#: identify objects per request: idempotent ones are batched widely; non-idempotent ones in small
#: requests so that one lost answer leaves as few changes in doubt as possible
IDENTIFY_BATCH = 100
IDENTIFY_BATCH_NON_IDEMPOTENT = 10
MIXPANEL_CLUSTER_CAP = 500
PROPERTY_UPDATES_PER_HOUR = 1800
#: how many hops of existing mappings the plan follows to find chains and cycles
CHAIN_LOOKUP_ROUNDS = 4
DEFAULT_USERMAP_RATE = (1500, 30.0)

_HOSTS = {
    "usermap": {"us": "https://api.amplitude.com", "eu": "https://api.eu.amplitude.com"},
    "identify": {"us": "https://api2.amplitude.com", "eu": "https://api.eu.amplitude.com"},
    "mixpanel": {"us": "https://api.mixpanel.com", "eu": "https://api-eu.mixpanel.com",
                 "in": "https://api-in.mixpanel.com"},
}  # fmt: skip


@dataclass(frozen=True)
class PlanWarning:
    code: str
    severity: str
    message: str
    change_ids: tuple[str, ...] = ()

    def to_json(self, positions: dict[str, int] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "changes": list(self.change_ids),
        }
        if positions is not None:
            data["n"] = [positions[c] for c in self.change_ids if c in positions]
        return data


@dataclass(frozen=True)
class Effect:
    """One user's Amplitude global id before and after a change (None = not mapped)."""

    user_id: str
    before: str | None
    after: str | None

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class PlannedChange:
    n: int
    change: Change
    #: `send`, or `held` (outcome unknown from an earlier apply: not sent)
    status: str
    effects: tuple[Effect, ...] = ()
    #: codes of the warnings that concern this change
    warnings: tuple[str, ...] = ()
    #: index (1-based) of the request that carries it, None when held
    request: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            **self.change.to_json(),
            "description": self.change.description(),
            "vendor": self.change.vendor,
            "irreversible": self.change.irreversible,
            "idempotent": self.change.idempotent,
            "status": self.status,
            "effects": [e.to_json() for e in self.effects],
            "warnings": list(self.warnings),
            "request": self.request,
        }


@dataclass(frozen=True)
class PlannedRequest:
    """One HTTP request apply will send."""

    index: int
    vendor: str
    #: `usermap`, `identify`, `mp_identify`, `mp_alias`, `mp_merge`
    kind: str
    method: str
    endpoint: str
    change_ids: tuple[str, ...]
    #: mappings / identifications / events in the body
    size: int
    #: encoded body size in bytes (approximate for the key's own length)
    bytes: int
    idempotent: bool

    def describe(self, total: int | None = None) -> str:
        what = {"usermap": "mappings", "identify": "identifications"}.get(self.kind, "event")
        of = f"/{total}" if total else ""
        unit = f"{self.size} {what}" if self.kind in ("usermap", "identify") else f"1 {self.kind} event"
        return f"request {self.index}{of}: {self.method} {self.endpoint} ({unit}, {self.bytes:,} bytes)"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "vendor": self.vendor,
            "kind": self.kind,
            "method": self.method,
            "endpoint": self.endpoint,
            "size": self.size,
            "bytes": self.bytes,
            "idempotent": self.idempotent,
            "changes": list(self.change_ids),
        }


@dataclass
class Plan:
    profile: str
    region: str
    #: the staged set's fingerprint when the plan was built; apply refuses if it changed since
    fingerprint: str
    created_at: str
    changes: list[PlannedChange]
    warnings: list[PlanWarning]
    requests: list[PlannedRequest]
    #: Amplitude users whose global id the plan changes: user -> {"before", "after"}
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: seconds the usermap rate limit alone needs for every batch (0 when it fits the budget now)
    eta_seconds: float = 0.0
    #: usermap budget used for the estimate: (limit, window seconds, remaining now)
    usermap_budget: tuple[int, float, int] = (1500, 30.0, 1500)

    # --- questions apply and the UI ask ----------------------------------------------------------

    @property
    def blocking(self) -> list[PlanWarning]:
        return [w for w in self.warnings if w.severity == BLOCKING]

    @property
    def needs_acknowledgement(self) -> list[PlanWarning]:
        return [w for w in self.warnings if w.severity == WARNING]

    @property
    def irreversible(self) -> list[Change]:
        return [p.change for p in self.changes if p.status == SEND and p.change.irreversible]

    @property
    def non_idempotent(self) -> list[Change]:
        return [p.change for p in self.changes if p.status == SEND and not p.change.idempotent]

    @property
    def to_send(self) -> list[Change]:
        return [p.change for p in self.changes if p.status == SEND]

    @property
    def held(self) -> list[Change]:
        return [p.change for p in self.changes if p.status == HELD]

    @property
    def empty(self) -> bool:
        return not self.changes

    def change(self, change_id: str) -> PlannedChange | None:
        for planned in self.changes:
            if planned.change.id == change_id:
                return planned
        return None

    def positions(self) -> dict[str, int]:
        return {p.change.id: p.n for p in self.changes}

    def warnings_for(self, change_id: str) -> list[PlanWarning]:
        return [w for w in self.warnings if change_id in w.change_ids]

    def batch_sizes(self, kind: str = "usermap") -> list[int]:
        return [r.size for r in self.requests if r.kind == kind]

    def to_json(self) -> dict[str, Any]:
        positions = self.positions()
        return {
            "profile": self.profile,
            "region": self.region,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
            "changes": [p.to_json() for p in self.changes],
            "warnings": [w.to_json(positions) for w in self.warnings],
            "requests": [r.to_json() for r in self.requests],
            "irreversible": [c.to_json() for c in self.irreversible],
            "non_idempotent": [c.id for c in self.non_idempotent],
            "held": [c.id for c in self.held],
            "users": self.users,
            "summary": {
                "changes": len(self.changes),
                "to_send": len(self.to_send),
                "requests": len(self.requests),
                "usermap_batches": self.batch_sizes("usermap"),
                "identify_batches": self.batch_sizes("identify"),
                "mixpanel_events": sum(1 for r in self.requests if r.vendor == model.MIXPANEL),
                "blocking": len(self.blocking),
                "warnings": len(self.needs_acknowledgement),
                "eta_seconds": round(self.eta_seconds, 1),
                "usermap_rate": {"limit": self.usermap_budget[0], "window_s": self.usermap_budget[1],
                                 "remaining": self.usermap_budget[2]},
            },
        }


# --- building ------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def build_plan(workspace: Workspace) -> Plan:
    """Plan the workspace's staged changes against the current mappings. Sends nothing but lookups.

    Reconciles the staged set with the journal first (a change the journal shows acknowledged is
    removed; one sent with no answer recorded is held as `unknown`), so a plan after a crash is honest.
    Lookup failures propagate (AuthError, Unavailable...): a plan is never built on guesses."""
    from idconsole.changes.submit import reconcile

    staged = workspace.staged
    reconcile(workspace)
    entries = staged.entries
    connection = workspace.connection
    builder = _Builder(workspace, entries)
    await builder.lookup()
    builder.simulate()
    builder.check_static()
    requests = builder.requests()
    usermap_budget = _usermap_budget(workspace)
    eta = estimate_usermap_seconds([r.size for r in requests if r.kind == "usermap"], *usermap_budget)
    return Plan(
        profile=connection.name,
        region=connection.region,
        fingerprint=staged.fingerprint,
        created_at=_now(),
        changes=builder.planned(),
        warnings=builder.sorted_warnings(),
        requests=requests,
        users=builder.users(),
        eta_seconds=eta,
        usermap_budget=usermap_budget,
    )


def _usermap_budget(workspace: Workspace) -> tuple[int, float, int]:
    try:
        budgets = workspace.client.budgets()
    except Exception:  # a client without budgets still gets an estimate from the documented limit
        budgets = []
    for budget in budgets:
        if getattr(budget, "family", None) == "usermap":
            return int(budget.limit), float(budget.window_s), int(budget.remaining)
    limit, window = DEFAULT_USERMAP_RATE
    return limit, window, limit


def _usermap_batch_size(workspace: Workspace) -> int:
    """Mappings per usermap request: the client's own size (what map_users and apply send)."""
    from idconsole.api.usermap_batches import usermap_batch_size

    amplitude = getattr(workspace.client, "amplitude", None)
    if amplitude is None:  # a client without Amplitude sends no usermap request; size as documented
        return usermap_batch_size(None)
    return int(amplitude.usermap_batch_size())


def estimate_usermap_seconds(batch_sizes: Sequence[int], limit: int, window_s: float, remaining: int) -> float:
    """Seconds until the last batch may be sent under a rolling `limit`-per-`window_s` budget with
    `remaining` free now (what is already used is assumed to expire a full window from now). A batch
    larger than the whole limit is admitted only into an empty window (as the service does)."""
    if not batch_sizes or limit <= 0:
        return 0.0
    entries: deque[tuple[float, int]] = deque()
    used = max(0, limit - remaining)
    if used:
        entries.append((0.0, used))
    total = used
    t = 0.0
    for size in batch_sizes:
        while True:
            while entries and entries[0][0] + window_s <= t:
                total -= entries.popleft()[1]
            if total + size <= limit or total == 0:
                entries.append((t, size))
                total += size
                break
            t = entries[0][0] + window_s
    return t


class _Builder:
    def __init__(self, workspace: Workspace, entries: list[StagedEntry]) -> None:
        self.ws = workspace
        self.entries = entries
        self.positions = {e.change.id: n for n, e in enumerate(entries, 1)}
        self.warnings: list[PlanWarning] = []
        self.current: dict[str, str | None] = {}
        self.inbound: dict[str, set[str]] = defaultdict(set)
        self.effects: dict[str, list[Effect]] = defaultdict(list)
        self.before: dict[str, str | None] = {}
        self.after: dict[str, str | None] = {}
        self.invalid: set[str] = set()
        for entry in entries:
            problems = change_problems(entry.change)
            if problems:
                self.invalid.add(entry.change.id)
                self.warn("invalid", BLOCKING, f"change {self.positions[entry.change.id]}: " + "; ".join(problems),
                          [entry.change])

    # -- helpers --

    def warn(self, code: str, severity: str, message: str, changes: Iterable[Change] = ()) -> None:
        self.warnings.append(PlanWarning(code, severity, message, tuple(c.id for c in changes)))

    def n(self, change: Change) -> int:
        return self.positions[change.id]

    @property
    def sendable(self) -> list[Change]:
        return [e.change for e in self.entries if not e.held]

    # -- current state --

    async def lookup(self) -> None:
        mapping_changes = [c for c in self.sendable if c.op in (model.MAP, model.UNMAP) and c.id not in self.invalid]
        if not mapping_changes or self.ws.connection.amplitude is None:
            return
        wanted: set[str] = set()
        for change in mapping_changes:
            wanted.update(i for i in change.ids if i)
        looked: set[str] = set()
        for _ in range(CHAIN_LOOKUP_ROUNDS):
            batch = sorted(wanted - looked)
            if not batch:
                break
            result = await self.ws.client.amplitude.get_mappings(batch)
            looked.update(batch)
            follow: set[str] = set()
            for uid in batch:
                um = result.get(uid)
                target = um.global_user_id if um is not None else None
                self.current[uid] = target
                if um is not None:
                    for src in um.mapped_from:
                        self.inbound[uid].add(src.user_id)
                if target is not None and target not in looked:
                    follow.add(target)
            wanted = follow
        for uid, target in list(self.current.items()):
            if target is not None:
                self.inbound[target].add(uid)

    # -- replay the staged mappings on the graph --

    def simulate(self) -> None:
        sim = dict(self.current)
        inbound = {k: set(v) for k, v in self.inbound.items()}
        last_map_change: dict[str, Change] = {}
        seen: dict[tuple[Any, ...], Change] = {}
        for entry in self.entries:
            change = entry.change
            key = change.content_key()
            if key in seen and not entry.held:
                first = seen[key]
                extra = " — it would be applied twice" if not change.idempotent else ""
                self.warn("duplicate", WARNING,
                          f"changes {self.n(first)} and {self.n(change)} are the same: {change.description()}{extra}",
                          [first, change])
            seen.setdefault(key, change)
            if entry.held or change.id in self.invalid or change.op not in (model.MAP, model.UNMAP):
                continue
            u = change.user_id
            old = sim.get(u)
            prev = last_map_change.get(u)
            if change.op == model.MAP:
                g = change.target_id or ""
                if prev is not None and prev.op == model.MAP:
                    self.warn("cancels", WARNING,
                              f"change {self.n(change)} overrides staged change {self.n(prev)} ({prev.description()})",
                              [prev, change])
                if u == g:
                    self.warn("self_map", BLOCKING, f"change {self.n(change)} maps {u} to itself", [change])
                    continue
                if old == g:
                    self.warn("no_op", INFO, f"change {self.n(change)}: {u} is already mapped to {g}", [change])
                elif old is not None:
                    self.warn("replaces_mapping", WARNING,
                              f"change {self.n(change)} replaces the existing mapping {u} → {old} with {u} → {g}",
                              [change])
                path = _walk(sim, g, stop=u)
                if path is None:
                    self.warn("chain", WARNING,
                              f"change {self.n(change)} maps {u} into {g}, which is on an existing mapping cycle",
                              [change])
                elif path[-1] == u:
                    shown = " → ".join([u, *path])
                    self.warn("cycle", BLOCKING, f"change {self.n(change)} would create the cycle {shown}", [change])
                elif len(path) > 1:
                    shown = " → ".join([u, *path])
                    self.warn("chain", WARNING,
                              f"change {self.n(change)} creates the chain {shown}: {g} is itself mapped", [change])
                srcs = sorted(inbound.get(u, set()) - {u})
                if srcs:
                    shown = ", ".join(srcs[:3]) + (f" and {len(srcs) - 3} more" if len(srcs) > 3 else "")
                    self.warn("chain", WARNING,
                              f"change {self.n(change)} creates a chain: {shown} → {u} → {g} ({u} has users mapped into it)",
                              [change])
                if old is not None:
                    inbound.get(old, set()).discard(u)
                sim[u] = g
                inbound.setdefault(g, set()).add(u)
                self.effects[change.id].append(Effect(u, old, g))
            else:
                if prev is not None and prev.op == model.MAP:
                    self.warn("cancels", WARNING,
                              f"change {self.n(change)} (unmap {u}) cancels staged change {self.n(prev)} ({prev.description()})",
                              [prev, change])
                if old is None and u in self.current:
                    self.warn("no_op", INFO, f"change {self.n(change)}: {u} is not mapped; unmap does nothing", [change])
                if old is not None:
                    inbound.get(old, set()).discard(u)
                sim[u] = None
                self.effects[change.id].append(Effect(u, old, None))
            self.before.setdefault(u, self.current.get(u))
            self.after[u] = sim.get(u)
            last_map_change[u] = change

    # -- everything that does not need the graph --

    def check_static(self) -> None:
        ws = self.ws
        conn = ws.connection
        staged = ws.staged
        if staged.mismatch:
            self.warn("profile_mismatch", BLOCKING,
                      f"these staged changes belong to profile {staged.profile!r}, not {staged.expected_profile!r}",
                      [e.change for e in self.entries])
        if ws.readonly and self.entries:
            self.warn("readonly", BLOCKING, "the console is read-only: nothing can be applied", [])
        sendable = [c for c in self.sendable if c.id not in self.invalid]
        for vendor, creds in ((model.AMPLITUDE, conn.amplitude), (model.MIXPANEL, conn.mixpanel)):
            missing = [c for c in sendable if c.vendor == vendor]
            if missing and creds is None:
                self.warn("vendor_not_configured", BLOCKING,
                          f"{len(missing)} change(s) need {vendor.capitalize()}, which profile {conn.name!r} has no "
                          "credentials for", missing)
        # junk ids
        for change in sendable:
            for value in change.ids:
                reasons = junk_id_reasons(value)
                if reasons and reasons != ["is empty"]:
                    self.warn("junk_id", WARNING,
                              f"change {self.n(change)}: the id {value!r} {' and '.join(reasons)} — it looks like a "
                              "bug's output, not a user", [change])
        # identify: the client's own validation, EU, property rate
        from idconsole.api.amplitude import validate_identification

        per_user: Counter[str] = Counter()
        identifies = [c for c in sendable if c.op == model.IDENTIFY]
        for change in identifies:
            try:
                validate_identification(change.to_identification())
            except BadInput as exc:
                self.warn("identify_rejected", BLOCKING, f"change {self.n(change)}: {exc}", [change])
            per_user[change.user_id] += max(1, len(change.properties))
        for user, count in per_user.items():
            if count > PROPERTY_UPDATES_PER_HOUR:
                mine = [c for c in identifies if c.user_id == user]
                self.warn("property_rate", WARNING,
                          f"{count} property updates for {user}: Amplitude may drop updates beyond "
                          f"{PROPERTY_UPDATES_PER_HOUR} per user per hour", mine)
        if identifies and conn.region == "eu":
            self.warn("unverifiable", WARNING,
                      "the Amplitude User Profile API is not offered in EU: identify changes cannot be verified "
                      "after sending, and undo cannot restore previous property values", identifies)
        # non-idempotent, irreversible
        non_idem = [c for c in sendable if not c.idempotent]
        if non_idem:
            self.warn("non_idempotent", WARNING,
                      f"{len(non_idem)} change(s) are not idempotent (sending twice applies twice): if an answer "
                      "is lost the change is held as 'outcome unknown' and never re-sent automatically", non_idem)
        irreversible = [c for c in sendable if c.irreversible]
        if irreversible:
            self.warn("irreversible", WARNING,
                      f"{len(irreversible)} Mixpanel merge(s) cannot be undone by anyone; they need their own "
                      "confirmation (--allow-irreversible)", irreversible)
        mixpanel = [c for c in sendable if c.vendor == model.MIXPANEL]
        if mixpanel and conn.mixpanel is not None and conn.mixpanel.merge_mode == "simplified":
            self.warn("simplified_merge", WARNING,
                      "this Mixpanel project uses Simplified ID Merge: it ignores $identify, $create_alias and "
                      "$merge events (the server may still answer success)", mixpanel)
        self._cluster_cap(mixpanel)
        # held and previously failed
        for entry in self.entries:
            if entry.held:
                where = f" (apply {entry.journal_id})" if entry.journal_id else ""
                self.warn("held", WARNING,
                          f"change {self.n(entry.change)}: the outcome of sending it{where} is unknown and it is not "
                          "idempotent, so it will NOT be sent. Check the user, then mark it done or re-stage it",
                          [entry.change])
            elif entry.note:
                self.warn("previous_error", INFO, f"change {self.n(entry.change)} last time: {entry.note}",
                          [entry.change])

    def _cluster_cap(self, mixpanel: list[Change]) -> None:
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
                self.warn("cluster_cap", BLOCKING,
                          f"these Mixpanel changes would put {size} ids in one cluster; Mixpanel caps a cluster at "
                          f"{MIXPANEL_CLUSTER_CAP}", members)

    # -- outputs --

    def requests(self) -> list[PlannedRequest]:
        from idconsole.api.amplitude import split_usermap_batches

        conn = self.ws.connection
        hosts = getattr(self.ws.client, "hosts", None)
        blocked = self.invalid
        sendable = [c for c in self.sendable if c.id not in blocked]
        out: list[PlannedRequest] = []
        key_len = 0
        if conn.amplitude is not None:
            key_len = len(conn.amplitude.api_key.reveal())
        token_len = len(conn.mixpanel.token.reveal()) if conn.mixpanel is not None else 0

        mapping_changes = [c for c in sendable if c.op in (model.MAP, model.UNMAP)]
        if mapping_changes:
            wire = [c.to_mapping() for c in mapping_changes]
            batches = split_usermap_batches(wire, max_mappings=_usermap_batch_size(self.ws))
            pos = 0
            for batch in batches:
                ids = tuple(c.id for c in mapping_changes[pos:pos + len(batch)])
                if [c.to_mapping() for c in mapping_changes[pos:pos + len(batch)]] != list(batch):
                    raise RuntimeError("split_usermap_batches reordered the mappings")
                pos += len(batch)
                body = _form_size(key_len, "mapping", [m.to_wire() for m in batch])
                out.append(PlannedRequest(len(out) + 1, model.AMPLITUDE, "usermap", "POST",
                                          endpoint(conn, "usermap", hosts), ids, len(batch), body, True))
        # identify batches keep the staged order (`$add` then `$set` of one key differs from the reverse):
        # a new request starts when the batch is full or the idempotency changes, so a lost answer never
        # puts an idempotent change in doubt next to a non-idempotent one
        chunk: list[Change] = []

        def flush() -> None:
            if chunk:
                body = _form_size(key_len, "identification", [c.to_identification() for c in chunk])
                out.append(PlannedRequest(len(out) + 1, model.AMPLITUDE, "identify", "POST",
                                          endpoint(conn, "identify", hosts), tuple(c.id for c in chunk),
                                          len(chunk), body, chunk[0].idempotent))
                chunk.clear()

        for change in (c for c in sendable if c.op == model.IDENTIFY):
            size = IDENTIFY_BATCH if change.idempotent else IDENTIFY_BATCH_NON_IDEMPOTENT
            if chunk and (chunk[0].idempotent != change.idempotent or len(chunk) >= size):
                flush()
            chunk.append(change)
        flush()
        for change in sendable:
            if change.vendor != model.MIXPANEL:
                continue
            kind = change.op
            path = "import" if kind == model.MP_MERGE else "track"
            body = len(json.dumps(_mixpanel_event(change, "x" * token_len)))
            out.append(PlannedRequest(len(out) + 1, model.MIXPANEL, kind, "POST", endpoint(conn, path, hosts),
                                      (change.id,), 1, body, False))
        self._request_of = {cid: r.index for r in out for cid in r.change_ids}
        return out

    def planned(self) -> list[PlannedChange]:
        request_of = getattr(self, "_request_of", {})
        codes: dict[str, list[str]] = defaultdict(list)
        for w in self.warnings:
            for cid in w.change_ids:
                if w.code not in codes[cid]:
                    codes[cid].append(w.code)
        return [
            PlannedChange(
                n=n,
                change=e.change,
                status=HELD if e.held else SEND,
                effects=tuple(self.effects.get(e.change.id, ())),
                warnings=tuple(codes.get(e.change.id, ())),
                request=request_of.get(e.change.id),
            )
            for n, e in enumerate(self.entries, 1)
        ]

    def sorted_warnings(self) -> list[PlanWarning]:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.warnings, key=lambda w: order.get(w.severity, 9))

    def users(self) -> dict[str, dict[str, Any]]:
        return {u: {"before": self.before.get(u), "after": self.after.get(u)} for u in self.after}


def _walk(graph: dict[str, str | None], start: str, *, stop: str | None, limit: int = 50) -> list[str] | None:
    """The path start → graph[start] → ... until it ends, reaches `stop`, or loops (None on a loop
    that does not contain `stop`)."""
    path = [start]
    seen = {start}
    node = start
    while len(path) <= limit:
        if node == stop:
            return path
        nxt = graph.get(node)
        if nxt is None:
            return path
        if nxt in seen:
            return None
        seen.add(nxt)
        path.append(nxt)
        node = nxt
    return path


def endpoint(connection: Any, what: str, hosts: Any = None) -> str:
    """The URL a request goes to (`usermap`, `identify`, `track`, `import`): the client's own hosts
    when given (region and base URL aware), else the documented ones."""
    region = connection.region if connection.region in ("us", "eu", "in") else "us"
    path = {"usermap": "/usermap", "identify": "/identify", "track": "/track", "import": "/import?strict=1"}[what]
    if hosts is not None:
        host = {"usermap": "usermap", "identify": "identify", "track": "mp_ingest", "import": "mp_ingest"}[what]
        base = getattr(hosts, host, None)
        if isinstance(base, str) and base:
            return base + path
    if connection.base_url:
        return connection.base_url.rstrip("/") + path
    family = "mixpanel" if what in ("track", "import") else what
    hosts = _HOSTS[family]
    return hosts.get(region, hosts["us"]) + path


def _form_size(key_len: int, field_name: str, payload: Any) -> int:
    body = urllib.parse.urlencode({
        "api_key": "k" * key_len,
        field_name: json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
    })
    return len(body.encode("utf-8"))


def _mixpanel_event(change: Change, token: str) -> Any:
    if change.op == model.MP_IDENTIFY:
        return {"event": "$identify",
                "properties": {"$identified_id": change.target_id, "$anon_id": change.user_id, "token": token}}
    if change.op == model.MP_ALIAS:
        return {"event": "$create_alias",
                "properties": {"distinct_id": change.target_id, "alias": change.user_id, "token": token}}
    return [{"event": "$merge", "properties": {"$distinct_ids": [change.user_id, change.target_id], "token": token}}]


def render_plan(plan: Plan) -> str:
    """The plan as plain text (ids appear raw: escape each line of `render_plan_lines` to print it)."""
    return "\n".join(render_plan_lines(plan))


def render_plan_lines(plan: Plan) -> list[str]:
    """The plan as logical lines (an id holding a newline stays inside its line: escape per line)."""
    lines = [f"Plan for profile {plan.profile} ({plan.region}): {len(plan.changes)} staged change(s), "
             f"{len(plan.to_send)} to send in {len(plan.requests)} request(s)."]
    for p in plan.changes:
        flags = []
        if p.status == HELD:
            flags.append("HELD: outcome unknown")
        if p.change.irreversible:
            flags.append("IRREVERSIBLE")
        if not p.change.idempotent:
            flags.append("not idempotent")
        lines.append(f"  {p.n:>4}. {p.change.description()}" + (f"   [{'; '.join(flags)}]" if flags else ""))
        for e in p.effects:
            lines.append(f"        {e.user_id}: {e.before or '(not mapped)'} → {e.after or '(not mapped)'}")
    if plan.requests:
        lines.append("Requests:")
        shown = plan.requests if len(plan.requests) <= 12 else plan.requests[:10]
        for r in shown:
            lines.append("  " + r.describe(len(plan.requests)))
        if len(shown) < len(plan.requests):
            lines.append(f"  ... and {len(plan.requests) - len(shown)} more")
        limit, window, remaining = plan.usermap_budget
        if plan.batch_sizes("usermap"):
            lines.append(f"Rate limit: {limit} mappings per {window:g} s ({remaining} free now) → about "
                         f"{plan.eta_seconds:.0f} s of waiting.")
    for severity, title in ((BLOCKING, "BLOCKING (apply refuses)"), (WARNING, "Warnings (need --yes)"),
                            (INFO, "Notes")):
        group = [w for w in plan.warnings if w.severity == severity]
        if group:
            lines.append(f"{title}:")
            shown_w = group if len(group) <= 30 else group[:25]
            lines.extend(f"  - [{w.code}] {w.message}" for w in shown_w)
            if len(shown_w) < len(group):
                lines.append(f"  ... and {len(group) - len(shown_w)} more")
    return lines

"""The plan's data: each staged change with its effect, the warnings, the requests apply will send.

Plain frozen dataclasses with `to_json()` (the shape of `idconsole plan --json`); `Plan` also answers
the questions apply and the faces ask (what blocks, what needs acknowledging, what is irreversible).
Building a plan is `changes/plan.py`; showing one as text is `changes/plan_render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idconsole.changes import model
from idconsole.changes.model import Change

BLOCKING, WARNING, INFO = "blocking", "warning", "info"
SEVERITIES = (BLOCKING, WARNING, INFO)

SEND, HELD = "send", "held"


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
class Current:
    """One thing a change touches — a property key, or a Mixpanel id — as it is now and as it will be."""

    subject: str
    before: str
    after: str
    #: False when `before` says why it was not read
    read: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "before": self.before, "after": self.after, "read": self.read}


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
    #: for an identify or a Mixpanel event: each property / id it touches, now and after (plan_current)
    current: tuple[Current, ...] = ()

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
            "current": [c.to_json() for c in self.current],
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
    #: the revision of staged.json the plan was built from; apply refuses if the file's differs then
    revision: int = 0
    #: does Amplitude know each id a map maps from or into: "known" | "unknown" | "not checked: why"
    ids: dict[str, str] = field(default_factory=dict)

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
            "revision": self.revision,
            "created_at": self.created_at,
            "changes": [p.to_json() for p in self.changes],
            "warnings": [w.to_json(positions) for w in self.warnings],
            "requests": [r.to_json() for r in self.requests],
            "irreversible": [c.to_json() for c in self.irreversible],
            "non_idempotent": [c.id for c in self.non_idempotent],
            "held": [c.id for c in self.held],
            "users": self.users,
            "ids": self.ids,
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

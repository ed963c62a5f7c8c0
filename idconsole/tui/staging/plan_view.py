"""A plan as the plan and confirm screens show it: effect rows, warning rows, request rows, a summary.

Read from the engine's `Plan` in one place; the screens only draw these plain rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from idconsole.tui.display import plural
from idconsole.tui.staging.describe import describe_change, merge_ids

if TYPE_CHECKING:
    from idconsole.changes import Change, Plan

NOT_MAPPED = "(not mapped)"
#: request kind -> what its body carries (singular, plural); Mixpanel events by default
ITEM_WORDS = {"usermap": ("mapping", "mappings"), "identify": ("identification", "identifications")}
EVENT_WORDS = ("Mixpanel event", "Mixpanel events")


@dataclass(frozen=True)
class EffectRow:
    n: int
    op: str
    user: str
    before: str
    after: str
    held: bool = False
    irreversible: bool = False


@dataclass(frozen=True)
class WarningRow:
    key: str
    severity: str  # "blocking" | "warning" | "info"
    message: str
    #: the engine's code (plan --json has it); the console shows `about` instead
    code: str = ""
    #: the changes it concerns, in words: `change 2: map hank@globex.net → chain-a` ("" for the whole plan)
    about: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    @property
    def needs_ack(self) -> bool:
        return self.severity == "warning"


@dataclass(frozen=True)
class RequestRow:
    method: str
    endpoint: str
    batch_sizes: tuple[int, ...]
    items: str = "items"

    @property
    def batches(self) -> int:
        return len(self.batch_sizes)


@dataclass(frozen=True)
class PlanSummary:
    change_count: int
    to_send: int
    held: int
    user_count: int
    #: HTTP requests apply will send (each one batch)
    request_count: int
    #: what those requests carry, in plan order: ((singular, plural), count) per kind
    items: tuple[tuple[tuple[str, str], int], ...]
    #: endpoint -> how many requests go to it
    endpoints: tuple[tuple[str, int], ...]
    eta_seconds: float | None
    warning_count: int
    blocking_count: int
    irreversible: tuple[str, ...]
    irreversible_ids: tuple[tuple[str, ...], ...]

    @property
    def items_text(self) -> str:
        """`3 mappings and 1 identification` ("nothing" when no request is planned)."""
        parts = [plural(count, one, many) for (one, many), count in self.items]
        if not parts:
            return "nothing"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    @property
    def sending_text(self) -> str:
        """`3 mappings and 1 identification in 2 requests`."""
        return f"{self.items_text} in {plural(self.request_count, 'request')}"


def plan_effects(plan: Plan) -> list[EffectRow]:
    """One row per affected user of every planned change (a change without a mapping effect — a property,
    a Mixpanel event — gets one row that says what it does)."""
    rows: list[EffectRow] = []
    for planned in plan.changes:
        change = planned.change
        desc = describe_change(change)
        if planned.status == "held":
            rows.append(EffectRow(planned.n, desc.op, desc.subject, "", "HELD: outcome unknown, not sent", True,
                                  desc.irreversible))
            continue
        if planned.effects:
            for effect in planned.effects:
                rows.append(EffectRow(planned.n, desc.op, effect.user_id, effect.before or NOT_MAPPED,
                                      effect.after or NOT_MAPPED))
            continue
        if planned.current:  # an identify's properties, a Mixpanel event's ids: read while planning
            for current in planned.current:
                rows.append(EffectRow(planned.n, desc.op, f"{change.user_id} · {current.subject}"
                                      if change.op == "identify" else current.subject,
                                      current.before, current.after, irreversible=change.irreversible))
            continue
        if change.op != "map" and change.op != "unmap":  # invalid: blocked, so nothing was read for it
            rows.append(EffectRow(planned.n, desc.op, desc.subject, "not read (the change is invalid)", desc.detail,
                                  irreversible=change.irreversible))
        else:  # map / unmap that the plan found nothing to change for (invalid or a no-op)
            rows.append(EffectRow(planned.n, desc.op, desc.subject, "unchanged", desc.detail))
    return rows


def not_read_notes(plan: Plan) -> list[str]:
    """Why some current values were not read, once per reason with the changes it concerns — in full,
    where the Before column has room only for its start."""
    found: dict[str, list[int]] = {}
    for planned in plan.changes:
        for current in planned.current:
            if not current.read:
                numbers = found.setdefault(current.before.removeprefix("not read: "), [])
                if planned.n not in numbers:
                    numbers.append(planned.n)
    return [f"Not read for {plural(len(ns), 'change')} {', '.join(map(str, ns[:8]))}"
            f"{' …' if len(ns) > 8 else ''}: {why}." for why, ns in found.items()]


def id_check_lines(plan: Plan, *, shown: int = 6) -> list[str]:
    """Does Amplitude know the ids the maps touch (`Plan.ids`), grouped: `Known to Amplitude: a, b`,
    `Unknown to Amplitude (a typo?): x`, `Not checked (why): y` — as `idconsole plan` lists them."""
    groups: dict[str, list[str]] = {}
    for value, label in plan.ids.items():
        if label == "known":
            title = "Known to Amplitude"
        elif label == "unknown":
            title = "Unknown to Amplitude (a typo?)"
        else:
            title = f"Not checked ({label.removeprefix('not checked: ')})"
        groups.setdefault(title, []).append(value)
    lines = []
    for title, values in groups.items():
        more = f" and {len(values) - shown} more" if len(values) > shown else ""
        lines.append(f"{title}: {', '.join(values[:shown])}{more}")
    return lines


def plan_warnings(plan: Plan) -> list[WarningRow]:
    """The plan's warnings, each naming the changes it is about by number and in words."""
    planned = {p.change.id: p for p in plan.changes}
    rows = []
    for i, w in enumerate(plan.warnings):
        about = [_change_words(planned[c].n, planned[c].change) for c in w.change_ids if c in planned]
        if len(about) > 3:
            about = [*about[:3], f"and {len(about) - 3} more"]
        message = w.message
        if len(w.change_ids) == 1 and w.change_ids[0] in planned:  # "change 2: ..." is said by `about` now
            message = message.removeprefix(f"change {planned[w.change_ids[0]].n}: ")
        rows.append(WarningRow(f"{i}:{w.code}", w.severity, message, w.code, "; ".join(about)))
    return rows


def _change_words(n: int, change: Change) -> str:
    row = describe_change(change)
    return f"change {n}: {row.op} {row.subject} {row.detail}".rstrip()


def plan_requests(plan: Plan) -> list[RequestRow]:
    """Requests grouped by endpoint (one row per endpoint and kind, with every batch's size)."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for request in plan.requests:
        groups.setdefault((request.method, request.endpoint, request.kind), []).append(int(request.size))
    return [
        RequestRow(method, endpoint, tuple(sizes), ITEM_WORDS[kind][1] if kind in ITEM_WORDS else f"{kind} event")
        for (method, endpoint, kind), sizes in groups.items()
    ]


def summarize_plan(plan: Plan) -> PlanSummary:
    users: set[str] = set()
    for planned in plan.changes:
        users.update(planned.change.ids)
    endpoints: dict[str, int] = {}
    items: dict[tuple[str, str], int] = {}
    for request in plan.requests:
        endpoints[request.endpoint] = endpoints.get(request.endpoint, 0) + 1
        words = ITEM_WORDS.get(request.kind, EVENT_WORDS)
        items[words] = items.get(words, 0) + int(request.size)
    irreversible = plan.irreversible
    return PlanSummary(
        change_count=len(plan.changes),
        to_send=len(plan.to_send),
        held=len(plan.held),
        user_count=len(users),
        request_count=len(plan.requests),
        items=tuple(items.items()),
        endpoints=tuple(endpoints.items()),
        eta_seconds=plan.eta_seconds,
        warning_count=len(plan.needs_acknowledgement),
        blocking_count=len(plan.blocking),
        irreversible=tuple(c.description() for c in irreversible),
        irreversible_ids=tuple(merge_ids(c) for c in irreversible),
    )

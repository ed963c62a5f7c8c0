"""Staging from anywhere in the TUI, and the one adapter between the screens and `idconsole.changes`.

Other screens (Lookup, Profile, the app) call the functions here; they never build changes themselves:

    from idconsole.tui import staging_actions

    staging_actions.stage_map(self.app, user_id)          # dialog prefilled: map USER into ...
    staging_actions.stage_unmap(self.app, user_id)        # dialog prefilled: unmap USER
    staging_actions.stage_property(self.app, user_id, key, value)
    staging_actions.open_staged(self.app)                 # the staged-changes editor

Every function refuses (with a clear message) in a read-only session, and `can_stage(app)` is what a
screen's `check_action` uses to hide its staging bindings.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text

from idconsole.tui.text import visible

if TYPE_CHECKING:
    from textual.app import App

    from idconsole.workspace import Workspace


# --------------------------------------------------------------------------------------------------
# What can be staged


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    placeholder: str = ""


@dataclass(frozen=True)
class OpSpec:
    kind: str
    label: str
    vendor: str
    fields: tuple[FieldSpec, ...]
    irreversible: bool = False
    help: str = ""


USER = FieldSpec("user_id", "User id", "the user id to change")
OPS: tuple[OpSpec, ...] = (
    OpSpec(
        "map",
        "Amplitude: map a user into a global user",
        "amplitude",
        (USER, FieldSpec("global_user_id", "Global user id", "the user it is mapped into")),
        help="After the map, the global user's stream holds this user's events. Properties are not merged.",
    ),
    OpSpec("unmap", "Amplitude: unmap a user", "amplitude", (USER,), help="Removes the user's current mapping."),
    OpSpec(
        "identify",
        "Amplitude: set / unset a user property (identify)",
        "amplitude",
        (USER, FieldSpec("key", "Property", "property name"), FieldSpec("value", "Value", "value")),
        help="Sent with the Identify API; applies from the user's next event, not retroactively.",
    ),
    OpSpec(
        "mp_identify",
        "Mixpanel: identify (anonymous → identified)",
        "mixpanel",
        (FieldSpec("anon_id", "Anonymous id", "$anon_id"), FieldSpec("identified_id", "Identified id", "$identified_id")),
        help="$identify: the anonymous id must not already be merged.",
    ),
    OpSpec(
        "mp_alias",
        "Mixpanel: create alias (legacy)",
        "mixpanel",
        (FieldSpec("alias", "Alias", "alias"), FieldSpec("distinct_id", "Distinct id", "distinct_id")),
        help="$create_alias: an alias maps to exactly one distinct_id.",
    ),
    OpSpec(
        "mp_merge",
        "Mixpanel: merge two ids (IRREVERSIBLE)",
        "mixpanel",
        (FieldSpec("id_a", "First id", "distinct id"), FieldSpec("id_b", "Second id", "distinct id")),
        irreversible=True,
        help="$merge cannot be undone: the two ids become one cluster for good.",
    ),
)
OPS_BY_KIND = {op.kind: op for op in OPS}

#: Identify operations the dialog offers ($clearAll is left to the CLI: it wipes a whole user)
PROPERTY_OPS: tuple[str, ...] = ("$set", "$setOnce", "$add", "$append", "$prepend", "$unset", "$preInsert",
                                 "$postInsert", "$remove")
#: operations that take no value (the wire sends "-")
VALUELESS_OPS = frozenset({"$unset", "$clearAll"})


# --------------------------------------------------------------------------------------------------
# The adapter: the only place that knows the engine's Change model


def change_from_form(kind: str, values: Mapping[str, str], *, change_id: str | None = None,
                     extra_properties: Mapping[str, Any] | None = None) -> Any:
    """Build an engine Change from the dialog's fields. Raises BadInput (the engine's words) when invalid.

    For an identify, `values["json"] == "1"` parses the value as JSON (numbers, lists...); otherwise it is
    text (`$add` turns numeric text into a number). `extra_properties` keeps the other properties of an
    identify being edited (the dialog edits one at a time).
    """
    from idconsole.changes.model import Change
    from idconsole.changes.validate import parse_assignment

    v = dict(values)
    if kind == "map":
        return Change.map(v.get("user_id", ""), v.get("global_user_id", ""), id=change_id)
    if kind == "unmap":
        return Change.unmap(v.get("user_id", ""), id=change_id)
    if kind == "identify":
        operation = v.get("op") or "$set"
        key = v.get("key", "")
        if operation in VALUELESS_OPS:
            props: dict[str, Any] = {key: "-"}
        else:
            sep = ":=" if v.get("json") == "1" else "="
            name, value = parse_assignment(f"{key}{sep}{v.get('value', '')}", operation)
            props = {name: value}
        merged = dict(extra_properties or {})
        merged.update(props)
        return Change.identify(v.get("user_id", ""), operation, merged, id=change_id)
    if kind == "mp_identify":
        return Change.mp_identify(v.get("anon_id", ""), v.get("identified_id", ""), id=change_id)
    if kind == "mp_alias":
        return Change.mp_alias(v.get("alias", ""), v.get("distinct_id", ""), id=change_id)
    if kind == "mp_merge":
        return Change.mp_merge(v.get("id_a", ""), v.get("id_b", ""), id=change_id)
    raise ValueError(f"unknown change kind {kind!r}")


def form_from_change(change: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The dialog's (kind, fields, other properties) for an existing change (editing)."""
    import json

    op = change.op
    target = change.target_id or ""
    if op == "map":
        return op, {"user_id": change.user_id, "global_user_id": target}, {}
    if op == "unmap":
        return op, {"user_id": change.user_id}, {}
    if op == "identify":
        props = dict(change.properties)
        values = {"user_id": change.user_id, "op": change.operation or "$set", "key": "", "value": ""}
        if props:
            key = next(iter(props))
            raw = props.pop(key)
            values["key"] = key
            if isinstance(raw, str):
                values["value"] = "" if change.operation in VALUELESS_OPS else raw
            else:
                values["value"] = json.dumps(raw, ensure_ascii=False)
                values["json"] = "1"
        return op, values, props
    if op == "mp_identify":
        return op, {"anon_id": change.user_id, "identified_id": target}, {}
    if op == "mp_alias":
        return op, {"alias": change.user_id, "distinct_id": target}, {}
    if op == "mp_merge":
        return op, {"id_a": change.user_id, "id_b": target}, {}
    return op, {"user_id": change.user_id}, {}


@dataclass(frozen=True)
class ChangeRow:
    """A change as the tables show it; every field is untrusted text, shown with `cell()`/`literal()`."""

    vendor: str
    op: str
    subject: str
    detail: str
    irreversible: bool = False


def _value_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def describe_change(change: Any) -> ChangeRow:
    op = change.op
    vendor = getattr(change, "vendor", "") or "?"
    target = change.target_id or ""
    irreversible = bool(getattr(change, "irreversible", False))
    if op == "map":
        return ChangeRow(vendor, "map", change.user_id, f"→ {target}")
    if op == "unmap":
        return ChangeRow(vendor, "unmap", change.user_id, "remove its mapping")
    if op == "identify":
        operation = change.operation or "?"
        props = dict(change.properties)
        if operation == "$clearAll":
            detail = "$clearAll (every user property)"
        elif operation in VALUELESS_OPS:
            detail = f"{operation} {', '.join(props)}"
        else:
            detail = f"{operation} " + ", ".join(f"{k} = {_value_text(v)}" for k, v in props.items())
        return ChangeRow(vendor, "identify", change.user_id, detail)
    if op == "mp_identify":
        return ChangeRow(vendor, "identify", change.user_id, f"→ identified {target}")
    if op == "mp_alias":
        return ChangeRow(vendor, "alias", change.user_id, f"→ {target}")
    if op == "mp_merge":
        return ChangeRow(vendor, "MERGE", change.user_id, f"+ {target} (irreversible)", True)
    return ChangeRow(vendor, op, change.user_id, target, irreversible)


def merge_ids(change: Any) -> tuple[str, ...]:
    """The ids a person must type to confirm an irreversible change (a Mixpanel merge)."""
    if getattr(change, "irreversible", False):
        return tuple(change.ids)
    return ()


# --------------------------------------------------------------------------------------------------
# Display helpers


def cell(value: object, *, limit: int | None = 80, style: str = "") -> Text:
    """A table cell that shows untrusted text exactly (a rich Text is never parsed as markup)."""
    return Text(visible("" if value is None else value, limit=limit), style=style, no_wrap=True,
                overflow="ellipsis", end="")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {round(seconds)} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} min"
    return f"about {minutes / 60:.1f} h"


# --------------------------------------------------------------------------------------------------
# Read-only sessions and the one submit in flight


def workspace(app: App) -> Workspace:
    return app.workspace  # type: ignore[attr-defined,no-any-return]


def can_stage(app: App) -> bool:
    """False in a read-only session (`--readonly`): every way to change data is hidden."""
    if getattr(app, "workspace", None) is None:
        return False
    readonly = getattr(app, "readonly", None)
    if readonly is None:
        readonly = app.workspace.readonly  # type: ignore[attr-defined]
    return not readonly


def refuse_if_readonly(app: App, what: str = "Staging a change") -> bool:
    """True (and says why) when this session may not change anything."""
    if can_stage(app):
        return False
    check = getattr(app, "check_writable", None)
    if check is not None and getattr(app, "workspace", None) is not None:
        check(what)
        return True
    app.notify(
        f"{what} would change data, and this session is read-only (--readonly)."
        if getattr(app, "workspace", None) is not None
        else "Open a connection first.",
        title="Read-only" if getattr(app, "workspace", None) is not None else "No connection",
        severity="warning",
        markup=False,
    )
    return True


_SUBMITTING: weakref.WeakSet[Any] = weakref.WeakSet()


def submit_in_flight(ws: Workspace) -> bool:
    return ws in _SUBMITTING


def begin_submit(ws: Workspace) -> bool:
    """Claim the workspace for one submit; False if another submit is still running."""
    if ws in _SUBMITTING:
        return False
    _SUBMITTING.add(ws)
    return True


def end_submit(ws: Workspace) -> None:
    _SUBMITTING.discard(ws)


# --------------------------------------------------------------------------------------------------
# Staging


def stage_changes(app: App, changes: Iterable[Any]) -> int:
    """Add changes to the staged set (persisted). Returns how many were added."""
    staged = workspace(app).staged
    count = 0
    for change in changes:
        staged.add(change)
        count += 1
    return count


def open_stage_dialog(
    app: App,
    kind: str | None = None,
    *,
    values: Mapping[str, str] | None = None,
    lock_kind: bool = False,
    title: str | None = None,
    on_staged: Callable[[Any], None] | None = None,
) -> None:
    """Open the staging dialog (prefilled); on "Stage" the change is added and the user is told so."""
    if refuse_if_readonly(app):
        return
    from idconsole.tui.screens.stage_dialog import StageChangeDialog

    def staged(change: Any | None) -> None:
        if change is None:
            return
        try:
            stage_changes(app, [change])
        except Exception as exc:  # a failed write: say so, nothing else is lost
            from idconsole.tui.errors import show_error

            show_error(app, exc, context="Could not stage the change")
            return
        row = describe_change(change)
        count = len(workspace(app).staged)
        app.notify(
            f"Staged: {row.op} {visible(row.subject, limit=60)} {visible(row.detail, limit=60)}. "
            f"{plural(count, 'change')} staged — review them in Staged changes.",
            title="Staged",
            markup=False,
        )
        if on_staged is not None:
            on_staged(change)

    app.push_screen(StageChangeDialog(kind, values=values, lock_kind=lock_kind, title=title), staged)


def stage_map(app: App, user_id: str, global_user_id: str = "") -> None:
    """Lookup: "map this user into…" (the global user id is typed in the dialog)."""
    open_stage_dialog(app, "map", values={"user_id": user_id, "global_user_id": global_user_id},
                      title="Map this user into…")


def stage_unmap(app: App, user_id: str) -> None:
    """Lookup: "unmap this user" (the dialog shows what will be staged; Stage confirms)."""
    open_stage_dialog(app, "unmap", values={"user_id": user_id}, lock_kind=True, title="Unmap this user")


def stage_property(app: App, user_id: str, key: str = "", value: str = "", op: str = "$set") -> None:
    """Profile: "set property" (prefilled with the selected property when there is one)."""
    open_stage_dialog(app, "identify", values={"user_id": user_id, "key": key, "value": value, "op": op},
                      title="Set a user property")


def unstage_property(app: App, user_id: str, key: str) -> None:
    """Profile: "unset property"."""
    open_stage_dialog(app, "identify", values={"user_id": user_id, "key": key, "op": "$unset"},
                      title="Unset a user property")


def stage_mixpanel(app: App, kind: str, first: str = "", second: str = "") -> None:
    """Mixpanel context staging: kind is mp_identify / mp_alias / mp_merge."""
    names = [f.name for f in OPS_BY_KIND[kind].fields]
    open_stage_dialog(app, kind, values=dict(zip(names, (first, second), strict=True)))


# --------------------------------------------------------------------------------------------------
# Opening the screens


def open_staged(app: App) -> None:
    from idconsole.tui.screens.staged import StagedScreen

    app.push_screen(StagedScreen())


def open_plan(app: App) -> None:
    from idconsole.tui.screens.plan import PlanScreen

    app.push_screen(PlanScreen())


def open_journal(app: App) -> None:
    from idconsole.tui.screens.journal import JournalScreen

    app.push_screen(JournalScreen())


# --------------------------------------------------------------------------------------------------
# The adapter for plans, progress and reports (the engine's shapes, read in one place)


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
    code: str = ""

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
    request_count: int
    batch_count: int
    endpoints: tuple[tuple[str, int], ...]
    eta_seconds: float | None
    warning_count: int
    blocking_count: int
    irreversible: tuple[str, ...]
    irreversible_ids: tuple[tuple[str, ...], ...]


NOT_MAPPED = "(not mapped)"
ITEM_NAMES = {"usermap": "mappings", "identify": "identifications"}


def plan_effects(plan: Any) -> list[EffectRow]:
    """One row per affected user of every planned change (a change without a mapping effect — a property,
    a Mixpanel event — gets one row that says what it does)."""
    rows: list[EffectRow] = []
    for planned in plan.changes:
        change = planned.change
        held = planned.status == "held"
        desc = describe_change(change)
        if held:
            rows.append(EffectRow(planned.n, desc.op, desc.subject, "", "HELD: outcome unknown, not sent", True,
                                  desc.irreversible))
            continue
        if planned.effects:
            for effect in planned.effects:
                rows.append(EffectRow(planned.n, desc.op, effect.user_id, effect.before or NOT_MAPPED,
                                      effect.after or NOT_MAPPED))
            continue
        if change.op == "identify":
            rows.append(EffectRow(planned.n, desc.op, change.user_id, "current properties", desc.detail))
        elif change.op == "mp_merge":
            rows.append(EffectRow(planned.n, desc.op, change.user_id, "separate ids",
                                  f"one cluster with {change.target_id} (irreversible)", irreversible=True))
        elif change.op == "mp_identify":
            rows.append(EffectRow(planned.n, desc.op, change.user_id, "anonymous",
                                  f"identified as {change.target_id}"))
        elif change.op == "mp_alias":
            rows.append(EffectRow(planned.n, desc.op, change.user_id, "no alias", f"alias of {change.target_id}"))
        else:  # map / unmap that the plan found nothing to change for (invalid or a no-op)
            rows.append(EffectRow(planned.n, desc.op, desc.subject, "unchanged", desc.detail))
    return rows


def plan_warnings(plan: Any) -> list[WarningRow]:
    return [WarningRow(f"{i}:{w.code}", w.severity, w.message, w.code) for i, w in enumerate(plan.warnings)]


def plan_requests(plan: Any) -> list[RequestRow]:
    """Requests grouped by endpoint (one row per endpoint and kind, with every batch's size)."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for request in plan.requests:
        groups.setdefault((request.method, request.endpoint, request.kind), []).append(int(request.size))
    return [
        RequestRow(method, endpoint, tuple(sizes), ITEM_NAMES.get(kind, f"{kind} event"))
        for (method, endpoint, kind), sizes in groups.items()
    ]


def summarize_plan(plan: Any) -> PlanSummary:
    users: set[str] = set()
    for planned in plan.changes:
        users.update(planned.change.ids)
    endpoints: dict[str, int] = {}
    for request in plan.requests:
        endpoints[request.endpoint] = endpoints.get(request.endpoint, 0) + 1
    irreversible = tuple(plan.irreversible)
    return PlanSummary(
        change_count=len(plan.changes),
        to_send=len(plan.to_send),
        held=len(plan.held),
        user_count=len(users),
        request_count=len(plan.requests),
        batch_count=len(plan.requests),
        endpoints=tuple(endpoints.items()),
        eta_seconds=plan.eta_seconds,
        warning_count=len(plan.needs_acknowledgement),
        blocking_count=len(plan.blocking),
        irreversible=tuple(c.description() for c in irreversible),
        irreversible_ids=tuple(merge_ids(c) for c in irreversible),
    )


@dataclass(frozen=True)
class ProgressView:
    phase: str
    done: int
    total: int
    batch: int
    batches_total: int
    succeeded: int
    failed: int
    eta_seconds: float | None
    note: str


PHASE_LABELS = {"prestate": "reading the current state", "sending": "sending", "verifying": "verifying",
                "done": "done"}


def progress_view(progress: Any) -> ProgressView:
    phase = str(getattr(progress, "phase", "sending"))
    message = str(getattr(progress, "message", "") or "")
    label = PHASE_LABELS.get(phase, phase)
    return ProgressView(
        phase=phase,
        done=int(progress.done),
        total=int(progress.total),
        batch=int(getattr(progress, "requests_done", 0)),
        batches_total=int(getattr(progress, "requests_total", 0)),
        succeeded=int(getattr(progress, "succeeded", 0)),
        failed=int(getattr(progress, "failed", 0)),
        eta_seconds=getattr(progress, "eta_seconds", None),
        note=f"{label}: {message}" if message else label,
    )


# --------------------------------------------------------------------------------------------------
# Engine calls (awaited in the screens' workers)


async def build_plan(ws: Workspace) -> Any:
    from idconsole import changes

    return await changes.build_plan(ws)


async def apply_plan(ws: Workspace, plan: Any, *, acknowledge_warnings: bool, allow_irreversible: bool,
                     progress: Callable[[Any], None], cancel: Any) -> Any:
    from idconsole import changes

    return await changes.apply(ws, plan, acknowledge_warnings=acknowledge_warnings,
                               allow_irreversible=allow_irreversible, progress=progress, cancel=cancel)


def read_csv(path: Any) -> list[Any]:
    """Parse and validate a CSV of changes: every row, or CsvImportError listing every bad row."""
    from idconsole import changes

    return list(changes.import_csv(path))


def csv_errors(exc: BaseException) -> list[tuple[int, str]]:
    """The (line, reason) list of a CsvImportError (empty for any other error)."""
    errors = getattr(exc, "errors", None)
    return list(errors) if isinstance(errors, list) else []


async def inverse_of(ws: Workspace, entry: Any) -> tuple[list[Any], list[str]]:
    """The changes that undo a journal entry, and notes on what cannot be undone. Sends nothing."""
    from idconsole import changes

    inverse, notes = changes.undo(entry)
    return list(inverse), list(notes)


# --------------------------------------------------------------------------------------------------
# Journal entries and apply reports, as the tables show them


#: a change's status in a journal entry / report -> the word shown
OUTCOME_WORDS = {
    "acked": "sent",
    "rejected": "rejected",
    "unknown": "unknown",
    "in_flight": "sending",
    "not_applied": "not applied",
    "not_sent": "not sent",
}


@dataclass(frozen=True)
class ResultRow:
    op: str
    subject: str
    detail: str
    outcome: str
    verification: str = ""
    error: str = ""
    irreversible: bool = False


@dataclass(frozen=True)
class JournalEntryView:
    id: str
    when: str
    outcome: str
    summary: str
    rows: tuple[ResultRow, ...]
    failed: bool
    partial: bool
    irreversible: bool
    undoable: bool
    undo_note: str = ""


def _when(stamp: str) -> str:
    """`2025-01-01T12:00:00.123+00:00` -> `2025-01-01 12:00:00`."""
    return stamp.replace("T", " ")[:19] if stamp else ""


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return ""
    message = str(error.get("message") or error.get("kind") or "")
    status = error.get("status")
    return f"{status} {message}".strip() if status else message


def result_rows(entry: Any) -> list[ResultRow]:
    rows = []
    for change in entry.changes:
        desc = describe_change(change)
        status = entry.change_status(change.id)
        request = entry.request_of(change.id)
        error = _error_text(request.error) if request is not None and status != "acked" else ""
        verification = entry.verification.get(change.id, "")
        note = entry.verification_notes.get(change.id, "")
        if note and verification and verification != "confirmed":
            verification = f"{verification}: {note}"
        resolution = entry.resolutions.get(change.id)
        outcome = OUTCOME_WORDS.get(status, status)
        if resolution:
            outcome += f" (resolved: {resolution})"
        rows.append(ResultRow(desc.op, desc.subject, desc.detail, outcome, verification, error, desc.irreversible))
    return rows


def journal_entries(ws: Workspace) -> list[Any]:
    """Every journal entry, newest first (reads the file: call it in a thread worker)."""
    return list(ws.journal.entries())


def journal_entry_view(entry: Any) -> JournalEntryView:
    counts = entry.counts()
    acked = counts.get("acked", 0)
    bad = counts.get("rejected", 0) + counts.get("unknown", 0) + counts.get("not_applied", 0)
    parts = [f"{n} {OUTCOME_WORDS.get(s, s)}" for s, n in counts.items() if n]
    outcome = ", ".join(parts) or "nothing sent"
    if not entry.finished:
        outcome += " (interrupted)"
    elif entry.stopped:
        outcome += f" (stopped: {entry.stopped})"
    descriptions = [c.description() for c in entry.changes[:3]]
    summary = "; ".join(descriptions) + (f"; … {len(entry.changes) - 3} more" if len(entry.changes) > 3 else "")
    irreversible = any(getattr(c, "irreversible", False) for c in entry.changes)
    reversible_acked = [c for c in entry.acked if not getattr(c, "irreversible", False)]
    undo_note = ""
    if irreversible and not reversible_acked:
        undo_note = "Nothing here can be undone: a Mixpanel merge is permanent."
    elif not entry.acked:
        undo_note = "Nothing was acknowledged by the server, so there is nothing to undo."
    return JournalEntryView(
        id=entry.journal_id,
        when=_when(entry.at),
        outcome=outcome,
        summary=summary,
        rows=tuple(result_rows(entry)),
        failed=bool(bad) and not acked,
        partial=bool(bad) and bool(acked) or not entry.finished or bool(entry.stopped),
        irreversible=irreversible,
        undoable=bool(reversible_acked),
        undo_note=undo_note,
    )


@dataclass(frozen=True)
class ReportView:
    journal_id: str
    submitted: int
    succeeded: int
    failed: int
    not_sent: int
    cancelled: bool
    stopped: str
    stop_message: str
    verification: dict[str, int]
    rows: tuple[ResultRow, ...]


def report_view(report: Any) -> ReportView:
    rows = []
    for result in report.results:
        desc = describe_change(result.change)
        outcome = OUTCOME_WORDS.get(result.status, result.status.replace("_", " "))
        verification = result.verified or ""
        if result.note and verification and verification != "confirmed":
            verification = f"{verification}: {result.note}"
        error = result.error or ""
        if result.status == "held":
            outcome = "held"
        rows.append(ResultRow(desc.op, desc.subject, desc.detail, outcome, verification,
                              error if result.status != "acked" else "", desc.irreversible))
    summary = report.verified_summary()
    not_sent = sum(1 for r in report.results if r.status in ("not_sent", "held", "not_applied"))
    return ReportView(
        journal_id=report.journal_id,
        submitted=report.submitted,
        succeeded=report.succeeded,
        failed=sum(1 for r in report.results if r.status in ("rejected", "unknown")),
        not_sent=not_sent,
        cancelled=report.cancelled,
        stopped=report.stopped or "",
        stop_message=report.stop_message or "",
        verification={k: summary.get(k, 0) for k in ("confirmed", "pending", "failed", "unverifiable")},
        rows=tuple(rows),
    )


def resolve_held(ws: Workspace, change_id: str, *, applied: bool) -> Any:
    """Decide about a held change (recorded in the journal): applied drops it, not applied re-stages it."""
    from idconsole import changes

    return changes.resolve_unknown(ws, change_id, applied=applied)

"""Staged identity changes: model, staging, plan, apply, verify, journal, undo. Never imports Textual.

The public API (the TUI and the CLI are thin faces over it):

    from idconsole.changes import Change, StagedSet, build_plan, apply, Journal, undo

    staged = workspace.staged                       # StagedSet of the active profile (survives restarts)
    staged.add(Change.map("u1", "g1"))              # also: unmap, identify, mp_identify, mp_alias, mp_merge
    staged.extend(import_csv("fix.csv"))            # all or nothing (CsvImportError lists every bad row)
    plan = await build_plan(workspace)              # effects, warnings (blocking/warning/info), requests, ETA
    report = await apply(workspace, plan, acknowledge_warnings=True, allow_irreversible=False,
                         progress=callback, cancel=asyncio.Event())
    entry = workspace.journal.entries()[0]          # newest first; workspace.journal.get(journal_id)
    changes, notes = undo(entry)                    # stage them to send them
    changes, notes = await undo_with_lookup(workspace, entry)  # the same, ordered on the mappings read now
    undo(entry, only=[c.id for c in select_changes(entry, "1,3")])  # a chosen subset, by number
    entries_touching(workspace.journal.entries(), "hank@globex.net")  # what did we do to hank?
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees the names as if imported here
    from idconsole.changes.apply_guard import refusals
    from idconsole.changes.apply_lock import apply_in_flight
    from idconsole.changes.apply_report import ApplyRefused, ApplyReport, ChangeResult
    from idconsole.changes.apply_run import apply
    from idconsole.changes.csv_import import CsvImportError, import_csv, parse_csv_text
    from idconsole.changes.journal import Journal, JournalEntry, JournalRequest
    from idconsole.changes.journal_meta import ApplyMeta, check_note, check_ticket, current_operator
    from idconsole.changes.journal_query import entries_touching, entry_touches, select_changes
    from idconsole.changes.model import (
        AMPLITUDE,
        IDENTIFY,
        KINDS,
        MAP,
        MIXPANEL,
        MP_ALIAS,
        MP_IDENTIFY,
        MP_MERGE,
        NON_IDEMPOTENT_OPERATIONS,
        OPERATIONS,
        UNMAP,
        Change,
        normalize_operation,
    )
    from idconsole.changes.plan import build_plan
    from idconsole.changes.plan_render import render_plan, render_plan_lines
    from idconsole.changes.plan_types import (
        BLOCKING,
        INFO,
        WARNING,
        Effect,
        Plan,
        PlannedChange,
        PlannedRequest,
        PlanWarning,
    )
    from idconsole.changes.progress import Progress, ProgressCallback
    from idconsole.changes.recovery import drop_change, reconcile, resolve_unknown
    from idconsole.changes.staged import ProfileMismatch, StagedChangedElsewhere, StagedEntry, StagedSet
    from idconsole.changes.undo import undo
    from idconsole.changes.undo_lookup import undo_with_lookup
    from idconsole.changes.validate import junk_id_reasons, parse_assignments

#: every public name -> the module that defines it; imported on first use (PEP 562), so importing one
#: submodule (a screen needs `changes.shared_devices` before the first frame) does not load the whole
#: engine, and with it httpx
_WHERE = {
    "AMPLITUDE": "idconsole.changes.model",
    "ApplyMeta": "idconsole.changes.journal_meta",
    "ApplyRefused": "idconsole.changes.apply_report",
    "ApplyReport": "idconsole.changes.apply_report",
    "BLOCKING": "idconsole.changes.plan_types",
    "Change": "idconsole.changes.model",
    "ChangeResult": "idconsole.changes.apply_report",
    "CsvImportError": "idconsole.changes.csv_import",
    "Effect": "idconsole.changes.plan_types",
    "IDENTIFY": "idconsole.changes.model",
    "INFO": "idconsole.changes.plan_types",
    "Journal": "idconsole.changes.journal",
    "JournalEntry": "idconsole.changes.journal",
    "JournalRequest": "idconsole.changes.journal",
    "KINDS": "idconsole.changes.model",
    "MAP": "idconsole.changes.model",
    "MIXPANEL": "idconsole.changes.model",
    "MP_ALIAS": "idconsole.changes.model",
    "MP_IDENTIFY": "idconsole.changes.model",
    "MP_MERGE": "idconsole.changes.model",
    "NON_IDEMPOTENT_OPERATIONS": "idconsole.changes.model",
    "OPERATIONS": "idconsole.changes.model",
    "Plan": "idconsole.changes.plan_types",
    "PlanWarning": "idconsole.changes.plan_types",
    "PlannedChange": "idconsole.changes.plan_types",
    "PlannedRequest": "idconsole.changes.plan_types",
    "ProfileMismatch": "idconsole.changes.staged",
    "Progress": "idconsole.changes.progress",
    "ProgressCallback": "idconsole.changes.progress",
    "StagedChangedElsewhere": "idconsole.changes.staged",
    "StagedEntry": "idconsole.changes.staged",
    "StagedSet": "idconsole.changes.staged",
    "UNMAP": "idconsole.changes.model",
    "WARNING": "idconsole.changes.plan_types",
    "apply": "idconsole.changes.apply_run",
    "apply_in_flight": "idconsole.changes.apply_lock",
    "build_plan": "idconsole.changes.plan",
    "check_note": "idconsole.changes.journal_meta",
    "check_ticket": "idconsole.changes.journal_meta",
    "current_operator": "idconsole.changes.journal_meta",
    "drop_change": "idconsole.changes.recovery",
    "entries_touching": "idconsole.changes.journal_query",
    "entry_touches": "idconsole.changes.journal_query",
    "import_csv": "idconsole.changes.csv_import",
    "junk_id_reasons": "idconsole.changes.validate",
    "normalize_operation": "idconsole.changes.model",
    "parse_assignments": "idconsole.changes.validate",
    "parse_csv_text": "idconsole.changes.csv_import",
    "reconcile": "idconsole.changes.recovery",
    "refusals": "idconsole.changes.apply_guard",
    "render_plan": "idconsole.changes.plan_render",
    "render_plan_lines": "idconsole.changes.plan_render",
    "resolve_unknown": "idconsole.changes.recovery",
    "select_changes": "idconsole.changes.journal_query",
    "undo": "idconsole.changes.undo",
    "undo_with_lookup": "idconsole.changes.undo_lookup",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # next time, a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AMPLITUDE", "BLOCKING", "IDENTIFY", "INFO", "KINDS", "MAP", "MIXPANEL", "MP_ALIAS", "MP_IDENTIFY",
    "MP_MERGE", "NON_IDEMPOTENT_OPERATIONS", "OPERATIONS", "UNMAP", "WARNING",
    "ApplyMeta", "ApplyRefused", "ApplyReport", "Change", "ChangeResult", "CsvImportError", "Effect", "Journal",
    "JournalEntry", "JournalRequest", "Plan", "PlanWarning", "PlannedChange", "PlannedRequest",
    "ProfileMismatch", "Progress", "ProgressCallback", "StagedChangedElsewhere", "StagedEntry", "StagedSet",
    "apply", "apply_in_flight", "build_plan", "check_note", "check_ticket", "current_operator", "drop_change",
    "entries_touching", "entry_touches", "import_csv", "junk_id_reasons", "normalize_operation",
    "parse_assignments", "parse_csv_text", "reconcile", "refusals", "render_plan", "render_plan_lines", "resolve_unknown", "select_changes", "undo",
    "undo_with_lookup",
]  # fmt: skip

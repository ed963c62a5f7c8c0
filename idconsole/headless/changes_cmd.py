"""`idconsole stage ...`, `plan`, `apply`, `journal`, `undo` — thin faces over `idconsole.changes`.

- `stage map|unmap|set|mp-identify|mp-alias|mp-merge|import` add to the profile's staged set (nothing
  is sent); `stage list [--json]`, `stage drop N`, `stage clear`. `set USER KEY=VALUE... --op $add`:
  `KEY=VALUE` is text, `KEY:=JSON` a JSON value; `$add` needs numbers; `$unset` takes bare keys.
- `plan [--json]`: effects, warnings, the exact requests (exit 0; exit 2 when the plan has a blocking
  problem — the plan is still printed).
- `apply [--yes] [--allow-irreversible] [--ticket REF] [--note TEXT] [--json]`: without `--yes` prints the
  plan and refuses (exit 2)
  — unless stdin and stderr are a terminal, where it asks (type `yes`). `--yes` acknowledges the
  warnings; irreversible changes also need `--allow-irreversible`. Progress goes to stderr; Ctrl-C
  stops between requests. Exit 0 all applied, 1 some failed, 2 refused / bad input, 3 credentials
  rejected, 4 unreachable. The journal records the operator (settings, else the OS user), the ticket
  and the note; a ticket or note with a control character or too long is refused first (exit 2).
- `journal [--json] [--user ID]` (only the entries whose changes touch ID), `journal show ID [--json]`
  (the changes numbered); `undo ID [--changes N,...]` stages the inverse of those changes and prints it.

Human output goes to stdout (stderr for notes and progress); every id is printed through `visible()`.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes import (
    ApplyRefused,
    Change,
    Plan,
    apply,
    build_plan,
    check_note,
    check_ticket,
    current_operator,
    drop_change,
    entries_touching,
    import_csv,
    junk_id_reasons,
    parse_assignments,
    reconcile,
    refusals,
    render_plan_lines,
    resolve_unknown,
    select_changes,
    undo_with_lookup,
)
from idconsole.changes.journal_meta import shown as recorded
from idconsole.changes.progress import Progress
from idconsole.headless.open_workspace import run_async
from idconsole.headless.output import note, print_json, visible, write
from idconsole.workspace import Workspace

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def _refuse_readonly(ws: Workspace, what: str) -> None:
    if ws.readonly:
        raise BadInput(f"--readonly: {what} is not allowed.", hint="Run without --readonly.")


# --- stage ---------------------------------------------------------------------------------------


def run_stage(ns: Any) -> int:
    return run_async(_stage, ns)


def _new_change(ns: Any) -> Change:
    kind = ns.stage_command
    if kind == "map":
        return Change.map(ns.user, ns.global_user)
    if kind == "unmap":
        return Change.unmap(ns.user)
    if kind == "set":
        return Change.identify(ns.user, ns.op, parse_assignments(ns.assignments, ns.op))
    if kind == "mp-identify":
        return Change.mp_identify(ns.anon, ns.identified)
    if kind == "mp-alias":
        return Change.mp_alias(ns.alias, ns.distinct)
    if kind == "mp-merge":
        return Change.mp_merge(ns.a, ns.b)
    raise BadInput(f"Unknown stage command {kind!r}.")


async def _stage(ws: Workspace, ns: Any) -> int:
    staged = ws.staged
    kind = ns.stage_command
    if kind == "list":
        for line in reconcile(ws):
            note(f"idconsole: {visible(line)}")
        if getattr(ns, "json", False):
            print_json(staged.to_json())
            return EXIT_OK
        if staged.mismatch:
            note(f"idconsole: these staged changes belong to profile {visible(staged.profile)!s}, "
                 f"not {visible(staged.expected_profile)!s}; `idconsole stage clear` drops them.")
        if not staged:
            note("Nothing is staged.")
            return EXIT_OK
        for n, entry in enumerate(staged.entries, 1):
            flag = "  [HELD: outcome unknown — check, then `idconsole stage resolve N applied|resend`]" if entry.held else ""
            write(f"{n:>4}. {visible(entry.change.description())}{flag}")
            if entry.note and not entry.held:
                write(f"        last time: {visible(entry.note, limit=300)}")
        return EXIT_OK
    _refuse_readonly(ws, "staging changes")
    if kind == "drop":
        held = staged.entry(ns.n).held
        change = drop_change(ws, ns.n)
        note(f"Dropped: {visible(change.description())}"
             + (" (its outcome was unknown; the decision is in the journal)" if held else ""))
        return EXIT_OK
    if kind == "move":
        change = staged.entry(ns.n).change
        staged.move(ns.n, ns.to)
        note(f"Moved to {ns.to}: {visible(change.description())}")
        return EXIT_OK
    if kind == "resolve":
        change = resolve_unknown(ws, ns.n, applied=ns.decision == "applied")
        note(f"Recorded in the journal: {visible(change.description())} — "
             + ("it took effect, dropped." if ns.decision == "applied" else "staged again for the next apply."))
        return EXIT_OK
    if kind == "clear":
        count = staged.clear()
        note(f"Dropped {count} staged change(s).")
        return EXIT_OK
    if kind == "import":
        changes = staged.extend(import_csv(ns.file))  # as staged (a duplicate id gets a fresh one)
        note(f"Staged {len(changes)} change(s) from {visible(ns.file)}; {len(staged)} staged in all. "
             "See them with `idconsole plan`.")
        _print_staged(ws, ns, changes)
        return EXIT_OK
    change = staged.add(_new_change(ns))
    note(f"Staged {staged.position(change.id)}. {visible(change.description())}")
    for value in change.ids:
        reasons = junk_id_reasons(value)
        if reasons:
            note(f"idconsole: warning: the id {visible(repr(value))} {' and '.join(reasons)}.")
    if change.irreversible:
        note("idconsole: warning: a Mixpanel merge is irreversible; apply needs --allow-irreversible.")
    _print_staged(ws, ns, [change])
    return EXIT_OK


def _print_staged(ws: Workspace, ns: Any, changes: list[Change]) -> None:
    """`stage map|...|import --json`: what was staged, with its place (a refusal is the error document)."""
    if getattr(ns, "json", False):
        print_json({"staged": [{"n": ws.staged.position(c.id), **c.to_json()} for c in changes],
                    "total": len(ws.staged)})


# --- plan ----------------------------------------------------------------------------------------


def run_plan(ns: Any) -> int:
    return run_async(_plan, ns)


async def _plan(ws: Workspace, ns: Any) -> int:
    """Prints the plan; exit 2 when it has a blocking problem (apply would refuse it), else 0."""
    plan = await build_plan(ws)
    code = EXIT_REFUSED if plan.blocking else EXIT_OK
    if ns.json:
        print_json(plan.to_json())
        return code
    if plan.empty:
        note("Nothing is staged.")
        return EXIT_OK
    _print_plan(plan, sys.stdout)
    if plan.blocking:
        note(f"idconsole: the plan has {len(plan.blocking)} blocking problem(s); apply would refuse it "
             "until they are fixed.")
    return code


def _print_plan(plan: Plan, stream: Any) -> None:
    for line in render_plan_lines(plan):
        write(visible(line), stream)


# --- apply ---------------------------------------------------------------------------------------


def run_apply(ns: Any) -> int:
    return run_async(_apply, ns)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(question: str) -> bool:
    sys.stderr.write(question)
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() == "yes"


async def _apply(ws: Workspace, ns: Any) -> int:
    _refuse_readonly(ws, "apply")
    # who and why, checked before anything is read or sent
    ticket, why = check_ticket(getattr(ns, "ticket", None)), check_note(getattr(ns, "note", None))
    operator = current_operator()
    plan = await build_plan(ws)
    if plan.empty:
        note("Nothing is staged; nothing was sent.")
        if ns.json:
            print_json({"journal_id": None, "submitted": 0, "succeeded": 0, "failed": [], "verified": {},
                        "message": "nothing is staged"})
        return EXIT_OK
    confirmed = bool(ns.yes)
    shown = False
    if not confirmed and not ns.json and _interactive():
        _print_plan(plan, sys.stderr)
        shown = True
        reasons = refusals(ws, plan, acknowledge_warnings=True, allow_irreversible=ns.allow_irreversible)
        if not reasons:
            confirmed = _ask(f"Send {len(plan.to_send)} change(s) in {len(plan.requests)} request(s)? "
                             "Type yes to confirm: ")
    reasons = refusals(ws, plan, acknowledge_warnings=confirmed, allow_irreversible=ns.allow_irreversible)
    if not confirmed:
        reasons.append("not confirmed: read the plan, then run `idconsole apply --yes`")
    if reasons:
        if ns.json:
            print_json({"refused": True, "reasons": reasons, "plan": plan.to_json()})
        elif not shown:
            _print_plan(plan, sys.stdout)
        for reason in reasons:
            note(f"idconsole: not applied: {visible(reason)}")
        note("Nothing was sent.")
        return EXIT_REFUSED

    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = False
    try:
        loop.add_signal_handler(signal.SIGINT, _on_interrupt, loop, cancel)
        handled = True
    except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - Windows, threads
        pass
    try:
        report = await apply(ws, plan, acknowledge_warnings=True, allow_irreversible=ns.allow_irreversible,
                             progress=_progress_printer(), cancel=cancel, operator=operator, ticket=ticket,
                             note=why)
    except ApplyRefused as exc:
        if ns.json:
            print_json({"refused": True, "reasons": exc.reasons, "plan": plan.to_json()})
        for reason in exc.reasons:
            note(f"idconsole: not applied: {visible(reason)}")
        return EXIT_REFUSED
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)  # no-op when the handler already stepped aside

    if ns.json:
        print_json(report.to_json())
    else:
        write(f"Apply {report.journal_id}: {report.succeeded} of {len(report.results)} change(s) acknowledged, "
              f"{len(report.failed)} not.")
        for result in report.failed:
            write(f"  - {visible(result.change.description())}: {result.status.replace('_', ' ')}"
                  + (f" — {visible(result.error, limit=300)}" if result.error else ""))
        summary = report.verified_summary()
        write(f"Verified: {summary['confirmed']} confirmed, {summary['pending']} pending, "
              f"{summary['failed']} failed, {summary['unverifiable']} unverifiable.")
        if report.unknown:
            write(f"{len(report.unknown)} change(s) have an UNKNOWN outcome and stay staged, held: they are "
                  "never re-sent automatically. Check the users, then drop them (`idconsole stage drop N`) "
                  "if they took effect, or stage them again if not.")
        if report.stopped:
            write(f"Stopped early ({report.stopped}): {visible(report.stop_message or '', limit=300).rstrip('.')}. "
                  "What was not sent is still staged.")
        for line in report.notes:
            note(visible(line, limit=300))
        write(f"Recorded by {recorded(operator)}, ticket {recorded(ticket)}.")
        write(f"Journal: idconsole journal show {report.journal_id}")
    return report.exit_code


def _on_interrupt(loop: asyncio.AbstractEventLoop, cancel: asyncio.Event) -> None:
    """First Ctrl-C: stop between requests. The handler then steps aside, so a second one interrupts
    at once (the journal still says which requests were acknowledged)."""
    cancel.set()
    loop.remove_signal_handler(signal.SIGINT)
    note("idconsole: stopping after the request in flight (Ctrl-C again to abort now)...")


def _progress_printer():
    last: dict[str, Any] = {"phase": None, "requests": -1}

    def show(p: Progress) -> None:
        if p.phase == "sending":
            if p.requests_done == last["requests"]:
                return
            last["requests"] = p.requests_done
            eta = f", rate-limit wait ≈ {p.eta_seconds:.0f} s" if p.eta_seconds else ""
            note(f"[{p.done}/{p.total} changes, {p.requests_done}/{p.requests_total} requests, "
                 f"{p.succeeded} ok, {p.failed} failed{eta}] {visible(p.message, limit=200)}")
        elif p.phase != last["phase"]:
            note(f"idconsole: {visible(p.message, limit=200)}")
        last["phase"] = p.phase

    return show


# --- journal / undo ------------------------------------------------------------------------------


def run_journal(ns: Any) -> int:
    return run_async(_journal, ns)


async def _journal(ws: Workspace, ns: Any) -> int:
    journal = ws.journal
    if ns.action == "show" or ns.entry_id:
        if not ns.entry_id:
            raise BadInput("journal show needs an ID.", hint="List them with `idconsole journal`.")
        entry = journal.require(ns.entry_id)
        if ns.json:
            print_json(entry.to_json())
            return EXIT_OK
        write(visible(entry.headline()))
        write(f"  operator: {recorded(entry.operator)}  ticket: {recorded(entry.ticket)}  "
              f"note: {recorded(entry.note)}")
        for n, change in enumerate(entry.changes, 1):  # `undo ID --changes N,...` takes these numbers
            status = entry.change_status(change.id)
            verified = entry.verification.get(change.id)
            extra = f", verified {verified}" if verified else ""
            resolution = entry.resolutions.get(change.id)
            extra += f", decided: {resolution}" if resolution else ""
            write(f"  {n:>3}. {visible(change.description())}: {status.replace('_', ' ')}{extra}")
        for request in entry.requests:
            err = f" — {visible(str(request.error.get('message', '')), limit=300)}" if request.error else ""
            write(f"  request {request.index}: {request.method} {visible(request.endpoint)} ({request.size} "
                  f"{request.kind}): {request.state.replace('_', ' ')}{err}")
        return EXIT_OK
    entries = journal.entries()
    user = getattr(ns, "user", None)
    if user is not None:
        entries = entries_touching(entries, user)
    if ns.json:
        print_json([
            {"journal_id": e.journal_id, "at": e.at, "ended_at": e.ended_at, "profile": e.profile,
             "region": e.region, "operator": e.operator, "ticket": e.ticket, "note": e.note,
             "finished": e.finished, "stopped": e.stopped, "changes": len(e.changes), "counts": e.counts()}
            for e in entries
        ])
        return EXIT_OK
    if not entries and user is not None:
        note(f"No journal entry of this profile has a change that touches {visible(user)!s}.")
    elif not entries:
        note("The journal is empty: nothing has been applied with this profile.")
    for entry in entries:
        write(visible(entry.headline()))
    return EXIT_OK


def run_undo(ns: Any) -> int:
    return run_async(_undo, ns)


async def _undo(ws: Workspace, ns: Any) -> int:
    _refuse_readonly(ws, "staging an undo")
    entry = ws.journal.require(ns.entry_id)
    numbers = getattr(ns, "changes", None)
    only = None if numbers is None else [c.id for c in select_changes(entry, numbers)]
    # ordered against the mappings the server holds now (falls back to the journal alone, and says so)
    changes, notes = await undo_with_lookup(ws, entry, only=only)
    staged = ws.staged.extend(changes) if changes else []
    for change in staged:
        write(f"Staged {ws.staged.position(change.id)}. {visible(change.description())}")
    for line in notes:
        note(f"idconsole: {visible(line)}")
    if staged:
        which = "" if only is None else f"change(s) {visible(numbers)} of "
        note(f"Staged {len(staged)} change(s) undoing {which}{entry.journal_id}; nothing was sent. "
             "Review them with `idconsole plan`, then `idconsole apply`.")
    else:
        note(f"Nothing to stage for {entry.journal_id}.")
    return EXIT_OK

"""Submitting a confirmed plan: progress (batches, counts, time left), cancel between batches, then results.

`ApplyProgressScreen(plan, acknowledge_warnings=..., allow_irreversible=..., ticket=..., note=...)` starts the
submit when it is shown (the journal records the operator setting, the ticket and the note). `start=False` only shows the screen (tests drive it with `show_progress(progress)` and
`show_report(report)`). One apply per profile at a time (the engine's lock): a second one is refused.

It dismisses with what the user wants next, for the screen that pushed it (the plan) to act on:
None (closed), `JOURNAL` (open the journal) or `REPLAN` (the engine refused the plan before sending
anything — e.g. the staged set changed since — so build a fresh one).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Footer, Header, ProgressBar, Static
from textual.worker import Worker

from idconsole.tui.display import format_eta, plural
from idconsole.tui.errors import describe, route_worker_error, show_error
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.staging.plan_view import summarize_plan
from idconsole.tui.staging.progress_view import progress_view
from idconsole.tui.staging.results_view import report_view
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.results_table import results_table
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from idconsole.changes import ApplyReport, Plan, Progress

MAX_ROWS = 500
#: what the screen dismisses with (see the module docstring)
JOURNAL = "journal"
REPLAN = "replan"

STOP_TITLES = {"auth": "credentials rejected", "unavailable": "service unreachable", "throttled": "throttled",
               "error": "unexpected error"}


def _stop_error(stopped: str, message: str) -> Exception:
    """The error a stopped apply stands for, so the shell's router shows it like any other."""
    from idconsole.api import errors

    text = message or STOP_TITLES.get(stopped, stopped)
    if stopped == "auth":
        return errors.AuthError(text)
    if stopped == "throttled":
        return errors.Throttled(text)
    if stopped == "unavailable":
        return errors.Unavailable(text)
    return errors.IdConsoleError(text)


class ApplyProgressScreen(ConsoleScreen[str | None]):
    """Runs one submit and shows how it went. Esc / c cancels between batches; when done, Esc closes."""

    CSS_PATH = "../styles/changes.tcss"
    TITLE = "Submit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel_apply", "Cancel after this batch", id="apply.cancel",
                tooltip="Stop between batches; what was sent stays in the journal"),
        Binding("escape", "close", "Close", id="apply.close", tooltip="Back to the staged changes"),
        Binding("j", "journal", "Journal", id="apply.journal", tooltip="Open the journal of submits"),
    ]
    HELP = """\
## Submitting

The confirmed plan is being sent, batch by batch. **c** (or Esc) cancels *between* batches: the batch on
the wire finishes, nothing after it is sent, and the journal records exactly which batches the server
acknowledged.

When it is done the results show each change's outcome and its verification (the state read back:
*confirmed*, *pending* — the service has not caught up yet — or *failed*). Changes that were sent leave the
staged set; anything that failed or was not sent stays staged. **Esc** closes, **j** opens the journal.
"""

    def __init__(
        self,
        plan: Plan,
        *,
        acknowledge_warnings: bool = False,
        allow_irreversible: bool = False,
        start: bool = True,
        ticket: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.ticket = ticket
        self.note = note
        self.acknowledge_warnings = acknowledge_warnings
        self.allow_irreversible = allow_irreversible
        self._start = start
        self.cancel_event = asyncio.Event()
        self.running = False
        self.report: ApplyReport | None = None
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        summary = summarize_plan(self.plan)
        yield Header()
        with Vertical(id="apply-progress", classes="changes-body"):
            yield Static(
                f"Sending {plural(summary.change_count, 'change')} in "
                f"{plural(summary.request_count, 'request')}…",
                id="apply-title",
                classes="changes-summary",
                markup=False,
            )
            yield ProgressBar(total=max(summary.change_count, 1), show_eta=False, id="apply-bar")
            yield Static("Starting…", id="apply-counts")
        with VerticalScroll(id="apply-results", classes="changes-body"):
            yield Static("", id="apply-outcome", classes="changes-summary")
            yield Static("", id="apply-table")
        with Horizontal(id="apply-actions", classes="changes-actions"):
            yield Static("", id="apply-status", classes="changes-status")
            yield Button("Cancel after this batch", id="apply-cancel", variant="warning")
            yield Button("Close", id="apply-close", variant="primary")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#apply-outcome", Static).update(
            Content.styled("The results appear here when the submit is done.", "dim"))
        self.query_one("#apply-close", Button).display = False
        if self._start:
            self.start()
        else:
            self._set_buttons()

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        from idconsole.changes import apply_in_flight

        if apply_in_flight(self.app.active_workspace):
            self.query_one("#apply-counts", Static).update(
                literal("Another submit is still running: this one was not started. Nothing was sent.")
            )
            self.notify("A submit is already running; wait for it to finish.", title="Submit refused",
                        severity="warning", markup=False)
            self._finish_ui()
            return
        self.running = True
        self._set_buttons()
        self.run_apply()

    @work(group="apply", exclusive=True, exit_on_error=False)
    async def run_apply(self) -> None:
        from idconsole import changes

        try:
            report = await changes.apply(
                self.app.active_workspace,
                self.plan,
                acknowledge_warnings=self.acknowledge_warnings,
                allow_irreversible=self.allow_irreversible,
                progress=self.show_progress,
                cancel=self.cancel_event,
                operator=self.app.user_settings.operator,
                ticket=self.ticket,
                note=self.note,
            )
        except changes.ApplyRefused as exc:  # checked before anything was sent
            self.error = exc
            self.running = False
            self.refused(exc)
            return
        except Exception as exc:
            self.error = exc
            self.running = False
            self.show_failure(exc)
            return
        self.running = False
        self.show_report(report)

    def show_progress(self, progress: Progress) -> None:
        """Draw one progress update (called by the engine between batches, on the app's loop)."""
        p = progress_view(progress)
        bar = self.query_one("#apply-bar", ProgressBar)
        bar.update(total=max(p.total, 1), progress=p.done)
        parts = [f"{p.done:,} of {p.total:,} changes answered"]
        if p.batches_total:
            current = min(p.batch + 1, p.batches_total) if p.phase == "sending" else p.batch
            parts.append(f"batch {current:,} of {p.batches_total:,}")
        parts.append(f"{p.succeeded:,} ok")
        if p.failed:
            parts.append(f"{p.failed:,} failed")
        parts.append(f"time left {format_eta(p.eta_seconds)}")
        lines = [literal(" · ".join(parts))]
        if p.note:
            lines.append(literal(p.note, limit=200, style="dim"))
        self.query_one("#apply-counts", Static).update(Content("\n").join(lines))

    def refused(self, exc: BaseException) -> None:
        """The engine refused the plan before sending anything (it changed since, another apply runs...):
        say why and go back, so the screen below can build a fresh plan."""
        self.notify(visible(str(exc), limit=600), title="Submit refused",
                    severity="warning", markup=False, timeout=12)
        self.dismiss(REPLAN)

    def show_failure(self, exc: BaseException) -> None:
        report = describe(exc)
        self.query_one("#apply-title", Static).update(literal(f"Submit stopped: {report.title}"))
        self.query_one("#apply-counts", Static).update(
            Content.assemble(
                literal(report.message),
                "\n",
                (
                    "The staged changes are still staged. The journal records what the server acknowledged "
                    "before the failure, so submitting again does not repeat it.",
                    "dim",
                ),
            )
        )
        self.set_class(True, "-failed")
        show_error(self.app, exc, context="Submit")
        self._finish_ui()

    def show_report(self, report: ApplyReport) -> None:
        self.report = report
        view = report_view(report)
        bar = self.query_one("#apply-bar", ProgressBar)
        total = max(len(view.rows), 1)
        bar.update(total=total, progress=total if not view.stopped else view.submitted)
        if view.stopped == "cancelled":
            title = "Cancelled between batches"
        elif view.stopped:
            title = f"Stopped: {STOP_TITLES.get(view.stopped, view.stopped)}"
        elif view.failed or view.not_sent:
            title = "Submitted with failures"
        else:
            title = "Submitted"
        self.query_one("#apply-title", Static).update(literal(title))
        counts = [f"{view.succeeded:,} sent", f"{view.failed:,} failed"]
        if view.not_sent:
            counts.append(f"{view.not_sent:,} not sent (still staged)")
        verified = ", ".join(f"{n} {k}" for k, n in view.verification.items() if n)
        counts.append(f"verification: {verified or 'none'}")
        lines = [literal(" · ".join(counts))]
        if view.stop_message:
            lines.append(literal(view.stop_message, limit=400, style="bold"))
        if view.stopped or view.failed or view.not_sent:
            lines.append(Content.styled(
                "Whatever was not acknowledged is still staged; submitting again never repeats what the server "
                "acknowledged.", "dim"))
        self.query_one("#apply-counts", Static).update(Content("\n").join(lines))
        self.query_one("#apply-outcome", Static).update(literal(f"Journal entry {view.journal_id}"))
        table = results_table(view.rows, max_rows=MAX_ROWS, limits=(36, 40, 60, 40), coloured=True)
        self.query_one("#apply-table", Static).update(table)
        self.set_class(bool(view.stopped and view.stopped != "cancelled") or bool(view.failed), "-failed")
        self._finish_ui()
        if view.stopped and view.stopped != "cancelled":
            # through the error router: credentials rejected opens a modal, the rest notify
            show_error(self.app, _stop_error(view.stopped, view.stop_message), context="Submit stopped")
        elif view.stopped == "cancelled":
            self.notify("Cancelled: what was not sent is still staged.", title="Submit cancelled", markup=False)

    def set_running(self, running: bool) -> None:
        """Show the screen as sending (Cancel offered) or as done (Close offered)."""
        self.running = running
        self._set_buttons()

    def _finish_ui(self) -> None:
        self.running = False
        self._set_buttons()
        self.query_one("#apply-close", Button).focus()

    def _set_buttons(self) -> None:
        self.query_one("#apply-cancel", Button).display = self.running
        self.query_one("#apply-close", Button).display = not self.running
        status = self.query_one("#apply-status", Static)
        if self.running:
            status.update("Cancelling after the current batch…" if self.cancel_event.is_set()
                          else "Sending — c cancels between batches.")
        else:
            status.update("Esc closes · j opens the journal.")
        self.refresh_bindings()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_apply":
            return self.running and not self.cancel_event.is_set()
        if action == "journal":
            return not self.running
        return True

    def action_cancel_apply(self) -> None:
        if not self.running:
            return
        self.cancel_event.set()
        self.query_one("#apply-cancel", Button).disabled = True
        self._set_buttons()
        self.notify("Cancelling after the current batch; nothing after it is sent.", title="Cancelling",
                    markup=False)

    def action_close(self) -> None:
        if self.running:
            self.action_cancel_apply()
            return
        self.dismiss(None)

    def action_journal(self) -> None:
        if self.running:
            return
        self.dismiss(JOURNAL)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply-cancel":
            self.action_cancel_apply()
        elif event.button.id == "apply-close":
            self.action_close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Submit")

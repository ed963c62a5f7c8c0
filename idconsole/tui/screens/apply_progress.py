"""Submitting a confirmed plan: progress (batches, counts, time left), cancel between batches, then results.

`ApplyProgressScreen(plan, acknowledge_warnings=..., allow_irreversible=...)` starts the submit when it is
shown. `start=False` only shows the screen (tests drive it with `show_progress(progress)` and
`show_report(report)`). One submit per workspace at a time: a second one is refused.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, ProgressBar, Static
from textual.worker import Worker

from idconsole.tui import staging_actions as sa
from idconsole.tui.errors import describe, route_worker_error, show_error
from idconsole.tui.text import literal
from idconsole.tui.widgets.status_bar import StatusBar

MAX_ROWS = 500

OUTCOME_STYLES = {"sent": "green", "rejected": "bold red", "unknown": "bold yellow", "not applied": "yellow",
                  "not sent": "yellow"}
VERIFY_STYLES = {"confirmed": "green", "pending": "yellow", "failed": "bold red", "unverifiable": "dim"}


#: the results table: change, who, what, how it went, what reading it back showed
RESULT_COLUMNS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Change", {"width": 8}),
    ("User / id", {"ratio": 3}),
    ("Detail", {"ratio": 3}),
    ("Outcome", {"ratio": 4}),
    ("Verification", {"ratio": 3}),
)

def results_table(rows: Any, *, max_rows: int, limits: tuple[int, int, int, int], coloured: bool) -> Table:
    """The per-change table of a submit (results screen) or of a journal entry (journal screen).

    `limits`: longest user / detail / outcome / verification text; `coloured` styles outcomes and
    verifications by how they went."""
    subject, detail, outcome, verification = limits
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold")
    for column, options in RESULT_COLUMNS:
        table.add_column(column, overflow="ellipsis", no_wrap=True, **options)
    for row in rows[:max_rows]:
        table.add_row(
            sa.cell(row.op, style="bold red" if row.irreversible else ""),
            sa.cell(row.subject, limit=subject),
            sa.cell(row.detail, limit=detail),
            sa.cell(row.outcome + (f": {row.error}" if row.error else ""), limit=outcome,
                    style=_style(OUTCOME_STYLES, row.outcome) if coloured else ""),
            sa.cell(row.verification or "—", limit=verification,
                    style=_style(VERIFY_STYLES, row.verification) if coloured else ""),
        )
    if len(rows) > max_rows:
        table.add_row(Text(f"… and {len(rows) - max_rows:,} more", style="dim"), "", "", "", "")
    return table


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


def _style(styles: dict[str, str], value: str) -> str:
    for word, style in styles.items():
        if value.startswith(word):
            return style
    return ""


class ApplyProgressScreen(Screen[None]):
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
        plan: Any,
        *,
        acknowledge_warnings: bool = False,
        allow_irreversible: bool = False,
        start: bool = True,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.acknowledge_warnings = acknowledge_warnings
        self.allow_irreversible = allow_irreversible
        self._start = start
        self.cancel_event = asyncio.Event()
        self.running = False
        self.report: Any = None
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        summary = sa.summarize_plan(self.plan)
        yield Header()
        with Vertical(id="apply-progress", classes="changes-body"):
            yield Static(
                f"Sending {sa.plural(summary.change_count, 'change')} in "
                f"{sa.plural(summary.batch_count, 'batch', 'batches')}…",
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
        ws = self.app.workspace  # type: ignore[attr-defined]
        if not sa.begin_submit(ws):
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
        ws = self.app.workspace  # type: ignore[attr-defined]
        try:
            report = await sa.apply_plan(
                ws,
                self.plan,
                acknowledge_warnings=self.acknowledge_warnings,
                allow_irreversible=self.allow_irreversible,
                progress=self.show_progress,
                cancel=self.cancel_event,
            )
        except Exception as exc:
            self.error = exc
            self.show_failure(exc)
            return
        finally:
            self.running = False
            sa.end_submit(ws)
        self.show_report(report)

    def show_progress(self, progress: Any) -> None:
        """Draw one progress update (called by the engine between batches, on the app's loop)."""
        p = sa.progress_view(progress)
        bar = self.query_one("#apply-bar", ProgressBar)
        bar.update(total=max(p.total, 1), progress=p.done)
        parts = [f"{p.done:,} of {p.total:,} changes answered"]
        if p.batches_total:
            current = min(p.batch + 1, p.batches_total) if p.phase == "sending" else p.batch
            parts.append(f"batch {current:,} of {p.batches_total:,}")
        parts.append(f"{p.succeeded:,} ok")
        if p.failed:
            parts.append(f"{p.failed:,} failed")
        parts.append(f"time left {sa.format_eta(p.eta_seconds)}")
        lines = [literal(" · ".join(parts))]
        if p.note:
            lines.append(literal(p.note, limit=200, style="dim"))
        self.query_one("#apply-counts", Static).update(Content("\n").join(lines))

    def show_failure(self, exc: BaseException) -> None:
        report = describe(exc)
        refused = getattr(exc, "reasons", None) is not None  # ApplyRefused: checked before sending anything
        title = "Not sent: the submit was refused" if refused else f"Submit stopped: {report.title}"
        self.query_one("#apply-title", Static).update(literal(title))
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

    def show_report(self, report: Any) -> None:
        self.report = report
        view = sa.report_view(report)
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
        # back past the plan (it describes a staged set that has changed) to the screen below it
        from idconsole.tui.screens.plan import PlanScreen

        self.dismiss(None)
        if isinstance(self.app.screen, PlanScreen):
            self.app.pop_screen()

    def action_journal(self) -> None:
        self.action_close()
        sa.open_journal(self.app)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply-cancel":
            self.action_cancel_apply()
        elif event.button.id == "apply-close":
            self.action_close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Submit")

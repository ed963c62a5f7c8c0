"""The plan: exactly what submitting the staged changes would do, before anything is sent.

`PlanScreen()` builds the plan of the active workspace's staged set in a worker (`PlanScreen(plan=...)` shows
a plan already built). Per user: before → after; warnings (blocking ones are errors that disable the submit,
the others each need their box ticked); the exact requests (endpoint, batches and their sizes); what cannot
be undone; the estimated time. `s` / Enter submits → the confirm dialog → the progress screen, whose
answer says what next: back past the plan (it describes a staged set that has changed), on to the journal,
or — when the engine refused the plan before sending anything — a fresh plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Header, Static
from textual.worker import Worker

from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.display import cell, format_eta, plural
from idconsole.tui.errors import route_worker_error, show_error
from idconsole.tui.staging.freshness import plan_is_stale, reload_if_changed_outside
from idconsole.tui.staging.plan_view import (
    PlanSummary,
    WarningRow,
    id_check_lines,
    not_read_notes,
    plan_effects,
    plan_requests,
    plan_warnings,
    summarize_plan,
)
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.ack_box import AckBox
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from idconsole.changes import Plan
    from idconsole.tui.screens.apply_progress import ApplyProgressScreen
    from idconsole.tui.screens.confirm import ConfirmSubmitScreen

#: rows shown per table; the rest is counted ("… and 1,234 more") — the CLI's `plan --json` has them all
MAX_ROWS = 200
#: said above a plan built again because staged.json changed under the one on screen
REBUILT_OUTSIDE = "The staged changes were changed outside this console: this plan was built again."


def _table(*columns: str | tuple[str, dict[str, Any]]) -> Table:
    """A borderless table; a column is a header or (header, rich column options such as width / ratio)."""
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        header, options = (column, {}) if isinstance(column, str) else column
        table.add_column(header, overflow="ellipsis", no_wrap=True, **options)
    return table


class PlanScreen(WriteActionsGuard[None]):
    """`PlanScreen()` builds and shows the plan of the staged changes; `PlanScreen(plan=p)` shows `p`."""

    CSS_PATH = "../styles/changes.tcss"
    TITLE = "Plan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s,enter", "submit", "Submit…", id="plan.submit",
                tooltip="Review the summary and confirm; nothing is sent before you do"),
        Binding("a", "acknowledge", "Acknowledge all", id="plan.acknowledge",
                tooltip="Tick every warning's Acknowledge box (each stays listed above)"),
        Binding("r", "rebuild", "Rebuild", id="plan.rebuild", tooltip="Build the plan again from the staged set"),
        Binding("escape", "back", "Back", id="plan.back", tooltip="Back to the staged changes"),
        Binding("C", "compare", "Compare", id="plan.compare", show=False,
                tooltip="The two users of the plan's first map or merge side by side"),
    ]
    WRITE_ACTIONS = frozenset({"submit"})
    HELP = """\
## The plan

What submitting the staged changes would do, computed from the current state of every user involved.
Nothing has been sent.

- **Effects**: each user's mapping or properties before → after.
- **Warnings**: each names the change it is about. *Blocking* ones (red) must be fixed in the staged
  changes — submit is refused while any remain. The others need acknowledging: **a** ticks every box at
  once after you have read them (they stay listed), or tick one with Tab and Space. Enter never unticks one.
- **Requests**: the exact endpoints, how many batches and their sizes.
- **Irreversible**: changes that can never be undone (Mixpanel merge); you will type their ids to confirm.

**s** or **Enter** opens the confirm dialog (on a plan that cannot be sent yet it says why), **r** rebuilds the
plan, **Esc** goes back to the staged changes.
"""

    def __init__(self, plan: Plan | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.warnings: list[WarningRow] = []
        self._building = plan is None
        #: why submit is not possible, as of the last `_update_submit()` (check_action runs often: it reads
        #: this instead of asking the engine's apply lock every time)
        self._reason = "The plan is not ready."
        #: said above the next plan shown (why it was built again)
        self._replan_note = ""

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="plan-body", classes="changes-body"):
            yield Static("Building the plan…", id="plan-summary", classes="changes-summary")
            yield Static("Effects", classes="changes-section")
            yield Static("", id="plan-effects")
            yield Static("Warnings", classes="changes-section")
            yield Vertical(id="plan-warnings")
            yield Static("Requests", classes="changes-section")
            yield Static("", id="plan-requests")
            yield Static("Irreversible", classes="changes-section")
            yield Static("", id="plan-irreversible")
        with Horizontal(id="plan-actions", classes="changes-actions"):
            yield Static("", id="plan-status", classes="changes-status")
            yield Button("Submit…", id="plan-submit", variant="primary", disabled=True)
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        if self.app.readonly:
            self.query_one("#plan-submit", Button).display = False
        self.query_one("#plan-body").focus()
        if self.plan is None:
            self.build()
        else:
            self.show_plan(self.plan)

    # -- building ----------------------------------------------------------------------------

    @work(group="plan", exclusive=True, exit_on_error=False)
    async def build(self) -> None:
        self._building = True
        self._reason = "The plan is not ready."
        self.query_one("#plan-submit", Button).disabled = True
        self.refresh_bindings()
        body = self.query_one("#plan-body")
        body.loading = True
        self.query_one("#plan-status", Static).update("Building the plan…")
        reload_if_changed_outside(self.app)  # the plan reads the file anyway; this says so when it moved
        from idconsole import changes

        try:
            plan = await changes.build_plan(self.app.active_workspace)
        except Exception as exc:
            self.query_one("#plan-summary", Static).update(
                literal("The plan could not be built. Nothing was sent; the staged changes are unchanged.")
            )
            self.query_one("#plan-status", Static).update(literal("Press r to try again."))
            show_error(self.app, exc, context="Plan")
            return
        finally:
            body.loading = False
            self._building = False
            self.refresh_bindings()
        self.show_plan(plan)

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        summary = summarize_plan(plan)
        text = self._summary_text(summary)
        if self._replan_note:
            text = Content.assemble(literal(self._replan_note, style="bold $warning"), "\n", text)
            self._replan_note = ""
        self.query_one("#plan-summary", Static).update(text)
        self.query_one("#plan-effects", Static).update(self._effects(plan))
        self.query_one("#plan-requests", Static).update(self._requests(plan))
        self.query_one("#plan-irreversible", Static).update(self._irreversible(summary))
        self._show_warnings(plan)
        self._update_submit()

    def _summary_text(self, s: PlanSummary) -> Content:
        if not s.change_count:
            return Content("Nothing is staged: there is nothing to submit.")
        parts = [
            f"{plural(s.change_count, 'change')} for {plural(s.user_count, 'user')}"
            + (f" ({s.held} held, not sent)" if s.held else ""),
            s.sending_text,
            f"estimated time {format_eta(s.eta_seconds)}",
        ]
        if s.blocking_count:
            parts.append(plural(s.blocking_count, "blocking problem"))
        if s.irreversible:
            parts.append(f"{len(s.irreversible)} irreversible")
        return Content(" · ".join(parts) + ".")

    def _effects(self, plan: Plan) -> Table | Text | Group:
        rows = plan_effects(plan)
        if not rows:
            return Text("No user changes.", style="dim")
        table = _table(("#", {"width": 3, "justify": "right"}), ("Change", {"width": 8}),
                       ("User / id", {"ratio": 3}), ("Before", {"ratio": 3}), ("", {"width": 1}),
                       ("After", {"ratio": 4}))
        for row in rows[:MAX_ROWS]:
            after_style = "bold yellow" if row.held else ("bold red" if row.irreversible else "bold")
            table.add_row(Text(str(row.n), style="dim"), cell(row.op), cell(row.user, limit=44),
                          cell(row.before, limit=44, style="dim"), Text("→", style="dim"),
                          cell(row.after, limit=56, style=after_style))
        if len(rows) > MAX_ROWS:
            table.add_row("", Text(f"… and {len(rows) - MAX_ROWS:,} more", style="dim"), "", "", "", "")
        notes = [*not_read_notes(plan), *id_check_lines(plan)]
        # a Text that ends its line (a table cell's `end=""` would be lost after the table)
        return Group(table, Text("\n".join(visible(n, limit=300) for n in notes), style="dim")) if notes else table

    def _requests(self, plan: Plan) -> Table | Text:
        rows = plan_requests(plan)
        if not rows:
            return Text("No requests.", style="dim")
        table = _table(("Method", {"width": 6}), ("Endpoint", {"ratio": 3}), ("Batches", {"width": 7}),
                       ("Batch sizes", {"ratio": 2}))
        for row in rows:
            sizes = ", ".join(str(n) for n in row.batch_sizes[:12])
            if len(row.batch_sizes) > 12:
                sizes += f", … ({len(row.batch_sizes)} batches)"
            table.add_row(cell(row.method), cell(row.endpoint, limit=60), str(row.batches),
                          cell(f"{sizes} {row.items}".strip()))
        return table

    def _irreversible(self, s: PlanSummary) -> Text:
        if not s.irreversible:
            return Text("Nothing in this plan is irreversible.", style="dim")
        text = Text()
        for index, line in enumerate(s.irreversible):
            if index:
                text.append("\n")
            text.append("⚠ cannot be undone: ", style="bold red")
            text.append(cell(line, limit=100))
        return text

    def _show_warnings(self, plan: Plan) -> None:
        self.warnings = plan_warnings(plan)
        box = self.query_one("#plan-warnings", Vertical)
        box.remove_children()
        if not self.warnings:
            box.mount(Static(Text("No warnings.", style="dim"), classes="plan-warning-none"))
            return
        widgets = []
        for index, warning in enumerate(self.warnings):
            label = Content.assemble(
                ({"blocking": "BLOCKING ", "warning": "Warning ", "info": "Note "}.get(warning.severity, ""), "bold"),
                literal(f"{warning.about} — " if warning.about else "", limit=200, style="italic"),
                literal(warning.message, limit=400),
            )
            row = Horizontal(classes=f"plan-warning -{warning.severity}")
            children: list[Widget] = [Static(label, classes="plan-warning-text")]
            if warning.needs_ack and not self.app.readonly:
                children.append(AckBox("Acknowledge", id=f"ack-{index}", classes="plan-ack", compact=True))
            widgets.append((row, children))
        for row, children in widgets:
            box.mount(row)
            row.mount_all(children)

    # -- submit ------------------------------------------------------------------------------

    def acknowledged(self) -> bool:
        return all(cb.value for cb in self.query(".plan-ack").results(Checkbox))

    def blocked_reason(self) -> str:
        """Why submit is not possible now ("" when it is)."""
        if self._building or self.plan is None:
            return "The plan is not ready."
        summary = summarize_plan(self.plan)
        if not summary.change_count:
            return "Nothing is staged."
        if not summary.to_send:
            return "Nothing in this plan can be sent (every change is held)."
        blocking = [w for w in self.warnings if w.blocking]
        if blocking:
            return f"{plural(len(blocking), 'blocking problem')}: fix the staged changes first."
        if not self.acknowledged():
            return "Acknowledge every warning to submit: a acknowledges them all."
        from idconsole.changes import apply_in_flight

        if apply_in_flight(self.app.active_workspace):  # the engine's lock: this console or another process
            return "A submit is already running."
        return ""

    def _update_submit(self) -> None:
        reason = self._reason = self.blocked_reason()
        self.query_one("#plan-submit", Button).disabled = bool(reason)
        status = self.query_one("#plan-status", Static)
        status.update(literal(reason or "Ready: press s to review and submit."))
        status.set_class(bool(reason), "-blocked")
        self.refresh_bindings()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._update_submit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        # submit stays enabled on a plan that cannot be sent: `s` then says why (action_submit)
        if action == "acknowledge" and (self.app.readonly or not any(True for _ in self.query(".plan-ack"))):
            return False
        if action == "rebuild" and self._building:
            return None
        return allowed

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "plan-submit":
            event.stop()
            self.action_submit()

    def action_submit(self) -> None:
        if not self.app.check_writable("Submitting changes"):
            return
        if plan_is_stale(self.app, self.plan):  # what this plan describes is no longer what is staged
            self._replan_note = REBUILT_OUTSIDE
            self.build()
            return
        reason = self.blocked_reason()
        plan = self.plan
        if reason or plan is None:
            self.notify(reason, title="Cannot submit yet", severity="warning", markup=False)
            return
        from idconsole.tui.screens.confirm import ConfirmSubmitScreen

        confirm = ConfirmSubmitScreen(plan)
        self.app.push_screen(confirm, lambda ok: self._confirmed(plan, ok, confirm))

    def _confirmed(self, plan: Plan, ok: bool | None, confirm: ConfirmSubmitScreen | None = None) -> None:
        if not ok:
            self.notify("Nothing was sent.", title="Submit cancelled", markup=False)
            return
        from idconsole.tui.screens.apply_progress import ApplyProgressScreen

        summary = summarize_plan(plan)
        progress = ApplyProgressScreen(plan, acknowledge_warnings=any(w.needs_ack for w in self.warnings),
                                       allow_irreversible=bool(summary.irreversible),
                                       ticket=confirm.ticket if confirm else None,
                                       note=confirm.note if confirm else None)
        self.app.push_screen(progress, lambda then: self._submitted(progress, then))

    def _submitted(self, progress: ApplyProgressScreen, then: str | None) -> None:
        """The progress screen closed; `then` says what next (see `apply_progress`)."""
        from idconsole.tui.screens.apply_progress import JOURNAL, REPLAN

        if then == REPLAN:
            # refused before anything was sent (e.g. the staged set changed since): plan again, from the file
            why = visible(str(progress.error or "The submit was refused. Nothing was sent."), limit=300)
            self._replan_note = f"{why} This plan was built again."
            self.build()
            return
        # back past the plan: it describes a staged set that has changed
        self.dismiss(None)
        if then == JOURNAL:
            self.app.open_journal()

    def action_acknowledge(self) -> None:
        """Tick every Acknowledge box; the warnings stay listed (scrolled into view)."""
        boxes = list(self.query(".plan-ack").results(Checkbox))
        for box in boxes:
            box.value = True
        self.query_one("#plan-warnings").scroll_visible()
        self.notify(f"{plural(len(boxes), 'warning')} acknowledged; each is still listed under Warnings.",
                    title="Acknowledged", markup=False)

    def action_compare(self) -> None:
        from idconsole.tui.screens.compare import open_compare_for_changes

        sending = [p for p in self.plan.changes if p.status == "send"] if self.plan is not None else []
        open_compare_for_changes(self.app, [p.change for p in sending], [p.n for p in sending])

    def action_rebuild(self) -> None:
        self.build()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_screen_resume(self) -> None:
        if plan_is_stale(self.app, self.plan) and not self._building:
            self._replan_note = REBUILT_OUTSIDE
            self.build()
            return
        self._update_submit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Plan")

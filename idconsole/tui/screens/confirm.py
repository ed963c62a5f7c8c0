"""The last word before anything is sent, and the small yes/no dialog the editor uses.

`ConfirmSubmitScreen(plan)` dismisses True only when Apply is pressed (or Enter in a typed confirmation).
For a plain plan Cancel has the focus when it opens, so Enter or Esc cancels; for irreversible changes (a
Mixpanel merge) the focus is in the box for the ids, and Apply is enabled only once every box matches. `AskDialog(title, message, yes_label)` is a generic "are you sure" with the same rule.
The optional Ticket and Note boxes go to the journal with the operator (`ticket`, `note` once confirmed);
a ticket or note the engine refuses (`journal_meta`) is said in one sentence and keeps Apply disabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from idconsole.tui.display import format_eta, plural
from idconsole.tui.screens.base import ConsoleModal
from idconsole.tui.staging.plan_view import summarize_plan
from idconsole.tui.text import literal

if TYPE_CHECKING:
    from idconsole.changes import Plan


def _normalise(text: str) -> str:
    return " ".join(text.split())


class ConfirmSubmitScreen(ConsoleModal[bool]):
    """Confirm a plan. Cancel is focused; Apply stays disabled until every irreversible change is typed."""

    CSS_PATH = "../styles/changes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]
    HELP = """\
## Confirm the submit

The summary of what will be sent. **Cancel** has the focus: Enter or Esc cancels and nothing is sent.
Move to **Apply** with Tab (or →) and press Enter to send.

An irreversible change (a Mixpanel merge) must be confirmed by typing its two ids, separated by a space: the
focus starts in that box, and **Enter** there sends once every typed pair matches (until then it says what
is still missing). **Esc** cancels.

**Ticket** and **Note** are optional: they are recorded in the journal with your name (the `operator`
setting, else the OS user), so the team can tell later who did what and why. Typing while a button has
the focus goes into the Ticket box; Enter there moves on and never sends.
"""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        #: what the journal records with this submit, set when it is confirmed
        self.ticket: str | None = None
        self.note: str | None = None
        self.summary = summarize_plan(plan)
        #: for each irreversible change, the ids to type
        self.expected: list[tuple[str, ...]] = [ids for ids in self.summary.irreversible_ids if ids]

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(id="confirm-dialog", classes="changes-dialog"):
            yield Static("Send these changes?", classes="changes-dialog-title", markup=False)
            # not a tab stop: Tab goes between the boxes and the buttons only
            with VerticalScroll(id="confirm-body", can_focus=False):
                lines = [
                    f"{plural(s.change_count, 'change')} for {plural(s.user_count, 'user')}: {s.sending_text}.",
                ]
                for endpoint, requests in s.endpoints:
                    lines.append(f"– {endpoint}: {plural(requests, 'request')}")
                lines.append(f"Estimated time: {format_eta(s.eta_seconds)}.")
                if s.warning_count:
                    lines.append(f"{plural(s.warning_count, 'warning')} acknowledged.")
                yield Static(Content("\n").join(literal(line) for line in lines), id="confirm-summary")
                if self.expected:
                    yield Static(
                        f"⚠ {plural(len(self.expected), 'change')} cannot be undone. "
                        "Type the ids of each, separated by a space, to enable Apply:",
                        id="confirm-irreversible-note",
                        classes="changes-irreversible",
                        markup=False,
                    )
                    for index, ids in enumerate(self.expected):
                        yield Static(literal("Mixpanel merge: " + "  +  ".join(ids)),
                                     classes="confirm-ids")
                        yield Input(placeholder="type both ids", id=f"confirm-type-{index}",
                                    classes="confirm-type")
                else:
                    yield Static("Nothing in this plan is irreversible.", classes="changes-help", markup=False)
                yield Static(literal(f"Recorded in the journal as {self._operator()}; ticket and note are "
                                     "optional: just type the ticket."), id="confirm-recorded", classes="changes-help")
                # not select-on-focus: the first character typed on a button lands here, the next must follow it
                yield Input(placeholder="Ticket (optional), e.g. SUP-1234", id="confirm-ticket",
                            classes="confirm-meta", select_on_focus=False)
                yield Input(placeholder="Note (optional): why", id="confirm-note", classes="confirm-meta")
                yield Static("", id="confirm-problem", classes="changes-irreversible")
            with Horizontal(classes="changes-dialog-buttons"):
                yield Button("Cancel", id="confirm-cancel", variant="primary")
                yield Button("Apply", id="confirm-apply", variant="error", disabled=bool(self.expected))

    def on_mount(self) -> None:
        self.query_one("#confirm-problem", Static).display = False
        # focus never starts on the destructive button: on Cancel, or in the first box to type ids in
        if self.expected:
            self.query_one("#confirm-type-0", Input).focus()
        else:
            self.query_one("#confirm-cancel", Button).focus()

    def _operator(self) -> str:
        from idconsole.changes.journal_meta import checked_operator

        return checked_operator(self.app.user_settings.operator)

    def meta_problem(self) -> str:
        """The engine's sentence for a ticket or note it would refuse, "" when both are fine."""
        from idconsole.api.errors import BadInput
        from idconsole.changes import check_note, check_ticket

        try:
            check_ticket(self.query_one("#confirm-ticket", Input).value)
            check_note(self.query_one("#confirm-note", Input).value)
        except BadInput as exc:
            return str(exc)
        return ""

    def ready(self) -> bool:
        """Every irreversible change typed, and a ticket and note the journal can keep."""
        return self.typed_ok() and not self.meta_problem()

    def _confirm(self) -> None:
        from idconsole.changes import check_note, check_ticket

        self.ticket = check_ticket(self.query_one("#confirm-ticket", Input).value)
        self.note = check_note(self.query_one("#confirm-note", Input).value)
        self.dismiss(True)

    def typed_ok(self) -> bool:
        for index, ids in enumerate(self.expected):
            typed = self.query_one(f"#confirm-type-{index}", Input).value
            if _normalise(typed) != _normalise(" ".join(ids)):
                return False
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        problem = self.meta_problem()
        line = self.query_one("#confirm-problem", Static)
        line.update(literal(problem))
        line.display = bool(problem)
        self.query_one("#confirm-apply", Button).disabled = bool(problem) or not self.typed_ok()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id in ("confirm-ticket", "confirm-note"):
            self.focus_next()  # Enter in the ticket or note never sends
            return
        # the typing is the confirmation: Enter sends once every pair matches, else says what is missing
        if self.ready():
            self._confirm()
            return
        if self.typed_ok():  # the ids match, the ticket or note does not fit: the problem line says why
            self.query_one("#confirm-ticket", Input).focus()
            return
        for index, ids in enumerate(self.expected):
            box = self.query_one(f"#confirm-type-{index}", Input)
            if _normalise(box.value) != _normalise(" ".join(ids)):
                box.focus()
                self.notify("Type both ids exactly as shown, separated by a space: " + " ".join(ids),
                            title="Not confirmed yet", severity="warning", markup=False)
                return

    def on_key(self, event: events.Key) -> None:
        # typing with a button focused goes into the ticket box: a ticket typed straight away is kept,
        # not lost on Cancel (Enter and space still press the button; ? is still Help)
        character = event.character
        if (isinstance(self.focused, Button) and character and character.isprintable()
                and not character.isspace() and character != "?"):
            ticket = self.query_one("#confirm-ticket", Input)
            ticket.focus()
            ticket.insert_text_at_cursor(character)
            event.prevent_default()
            event.stop()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm-apply" and self.ready():
            self._confirm()
        elif event.button.id == "confirm-cancel":
            self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


class AskDialog(ConsoleModal[bool]):
    """`AskDialog(title, message, yes_label)`: True only when the (non-focused) yes button is pressed."""

    CSS_PATH = "../styles/changes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ask.cancel"),
    ]
    HELP = "A question. **Cancel** has the focus: Enter or Esc cancels. Tab to the other button to go ahead."

    def __init__(self, title: str, message: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._yes = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-dialog", classes="changes-dialog"):
            yield Static(self._title, classes="changes-dialog-title", markup=False)
            yield Static(literal(self._message), id="ask-message")
            with Horizontal(classes="changes-dialog-buttons"):
                yield Button("Cancel", id="ask-cancel", variant="primary")
                yield Button(self._yes, id="ask-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#ask-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "ask-yes")

    def action_cancel(self) -> None:
        self.dismiss(False)


class ResolveHeldDialog(ConsoleModal[str | None]):
    """A held change (sent, outcome unknown): "applied" (it took effect: drop it), "resend" (it did not:
    stage it again), or None. Cancel has the focus."""

    CSS_PATH = "../styles/changes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="resolve.cancel"),
    ]
    HELP = """\
## Resolve a held change

It was sent, but no answer came back, and sending it again could apply it twice. Check the user first
(Lookup / Profile), then say what happened: **It took effect** drops it from the staged set; **It did
not** stages it again for the next submit. Both are recorded in the journal. **Esc** cancels.
"""

    def __init__(self, description: str) -> None:
        super().__init__()
        self._description = description

    def compose(self) -> ComposeResult:
        with Vertical(id="resolve-dialog", classes="changes-dialog"):
            yield Static("Resolve a change whose outcome is unknown", classes="changes-dialog-title", markup=False)
            yield Static(literal(self._description), id="resolve-change")
            yield Static(
                "It was sent but no answer came back. Check the user before you decide: re-sending a change "
                "that did take effect applies it twice.",
                classes="changes-help",
                markup=False,
            )
            with Horizontal(classes="changes-dialog-buttons"):
                yield Button("Cancel", id="resolve-cancel", variant="primary")
                yield Button("It took effect", id="resolve-applied")
                yield Button("It did not: re-stage", id="resolve-resend", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#resolve-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"resolve-applied": "applied", "resolve-resend": "resend"}.get(event.button.id or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)

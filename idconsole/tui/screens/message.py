"""A modal that shows one message (an error the user must act on) until it is dismissed."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from idconsole.tui.text import literal


class MessageScreen(ModalScreen[None]):
    """`MessageScreen(title, message)`: title is our own words, message is shown literally."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss_message", "Close", id="message.close"),
    ]
    HELP = "An error that needs your attention. **Enter** or **Esc** closes it."

    def __init__(self, title: str, message: str, *, severity: str = "error") -> None:
        super().__init__(classes=f"-{severity}")
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(literal(self._title), id="message-title", classes="dialog-title")
            yield Static(literal(self._message), id="message-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_dismiss_message(self) -> None:
        self.dismiss(None)


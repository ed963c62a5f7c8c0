"""Help for the screen that was in front (`?` / F1): its how-to (the screen's `HELP` markdown) and the
keys that work there right now (derived from its active bindings, so it stays true). Esc closes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

from idconsole.tui.commands import screen_commands

GENERAL_HELP = """\
**Esc** goes back, **ctrl+p** searches every action, **ctrl+o** opens connection profiles,
**q** quits (ctrl+q while typing).
"""


def screen_title(screen: Screen) -> str:
    title = getattr(screen, "HELP_TITLE", None) or screen.TITLE or type(screen).__name__.removesuffix("Screen")
    return str(title)


def keys_table(screen: Screen) -> Content:
    """Key, action and what it does, one line each, for the active bindings of `screen`."""
    commands = [c for c in screen_commands(screen) if c.keys]
    if not commands:
        return Content("No keys here.")
    key_width = max(len(c.keys) for c in commands)
    name_width = max(len(c.name) for c in commands)
    lines = [
        Content.assemble((c.keys.ljust(key_width), "bold $text-accent"), "  ", (c.name.ljust(name_width), "bold"),
                         "  ", (c.help, "dim"))
        for c in commands
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "close", "Close help", id="help.close"),
    ]
    HELP_TITLE = "Help"

    def __init__(self, for_screen: Screen) -> None:
        super().__init__()
        self._for = for_screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(Content.assemble(("Help – ", "bold"), (screen_title(self._for), "bold")),
                         classes="dialog-title")
            with VerticalScroll(id="help-body"):
                how_to = (self._for.HELP or "").strip()
                if how_to:
                    yield Markdown(how_to, id="help-how-to")
                yield Static(Content.styled("Keys", "bold"), classes="help-heading")
                yield Static(keys_table(self._for), id="help-keys")
                yield Markdown(GENERAL_HELP, id="help-general")
            yield Static(Content.styled("Esc closes", "dim"), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)

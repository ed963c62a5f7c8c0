"""Help for the screen that was in front (`?` / F1): its how-to (the screen's `HELP` markdown) and the
keys that work there right now (derived from its active bindings, so it stays true). Esc closes."""

from __future__ import annotations

import textwrap
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

from idconsole.tui.commands import PaletteCommand, screen_commands

GENERAL_HELP = """\
**Esc** goes back, **ctrl+p** searches every action, **ctrl+o** opens connection profiles,
**q** quits (ctrl+q while typing).
"""


def screen_title(screen: Screen) -> str:
    title = getattr(screen, "HELP_TITLE", None) or screen.TITLE or type(screen).__name__.removesuffix("Screen")
    return str(title)


def keys_table(screen: Screen, width: int = 88, commands: list[PaletteCommand] | None = None) -> Content:
    """Key, action and what it does for the bindings of `screen`, one row each; a long "what" wraps
    under itself (a hanging indent), never back under the keys. `width`: the columns the table has.
    `commands`: the screen's commands read while it was in front (once a dialog covers it, Textual
    reports only part of its bindings as active)."""
    if commands is None:
        commands = screen_commands(screen)
    commands = [c for c in commands if c.keys]
    if not commands:
        return Content("No keys here.")
    key_width = max(len(c.keys) for c in commands)
    name_width = max(len(c.name) for c in commands)
    indent = key_width + name_width + 4
    lines = []
    for c in commands:
        wrapped = textwrap.wrap(c.help, max(20, width - indent)) or [""]
        lines.append(Content.assemble((c.keys.ljust(key_width), "bold $text-accent"), "  ",
                                      (c.name.ljust(name_width), "bold"), "  ", (wrapped[0], "dim")))
        lines.extend(Content.assemble(" " * indent, (more, "dim")) for more in wrapped[1:])
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "close", "Close help", id="help.close"),
    ]
    HELP_TITLE = "Help"

    def __init__(self, for_screen: Screen) -> None:
        super().__init__()
        self._for = for_screen
        # read now, while `for_screen` is in front: under this dialog its bindings are no longer active
        self._commands = screen_commands(for_screen)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(Content.assemble(("Help – ", "bold"), (screen_title(self._for), "bold")),
                         classes="dialog-title")
            with VerticalScroll(id="help-body"):
                how_to = (self._for.HELP or "").strip()
                if how_to:
                    yield Markdown(how_to, id="help-how-to")
                yield Static(Content.styled("Keys", "bold"), classes="help-heading")
                # the dialog is 96 columns (at most 90% of the screen) less border, padding and scrollbar
                yield Static(keys_table(self._for, min(96, int(self.app.size.width * 0.9)) - 9,
                                        self._commands), id="help-keys")
                yield Markdown(GENERAL_HELP, id="help-general")
            yield Static(Content.styled("Esc closes", "dim"), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)

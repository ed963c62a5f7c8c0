"""The console's screen bases: Textual's `Screen` and `ModalScreen` with `self.app` typed as the
`IdConsoleApp`, so a screen reaches `self.app.active_workspace`, `self.app.readonly`,
`self.app.check_writable(...)` or `self.app.open_plan()` with the type checker's help.

The typing is `textual.getters.app`, declared under TYPE_CHECKING only: at run time `self.app` is Textual's
own property, and no screen imports `tui/app.py` (which imports the screens) — no cycle, no cost.

A console screen that comes back (a dialog closed, a screen above it popped) first checks whether
another process changed the staged set, and reloads it with a one-line notice (`staging.freshness`).
Textual runs this handler as well as a subclass's own `on_screen_resume` (after it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from idconsole.tui.staging.freshness import reload_if_changed_outside

if TYPE_CHECKING:
    from textual import getters

    from idconsole.tui.app import IdConsoleApp

ResultType = TypeVar("ResultType")


#: Help and Quit on every console screen, declared here so the footer shows them FIRST (a base class's
#: bindings come first; the app's own come last and are the first cut on a narrow terminal). Same ids as
#: the app's, so a keymap moves both; where a text box takes `?` / `q` the footer shows F1 / ^q instead.
HELP_AND_QUIT: list[BindingType] = [
    Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys and how-to for this screen"),
    Binding("f1", "help", "Help", id="app.help_f1", tooltip="Keys and how-to for this screen"),
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit idconsole"),
    Binding("ctrl+q", "quit", "Quit", id="app.force_quit", tooltip="Quit idconsole"),
]


class ConsoleScreen(Screen[ResultType]):
    """A full screen of the console."""

    BINDINGS: ClassVar[list[BindingType]] = HELP_AND_QUIT

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)

    def action_help(self) -> None:
        self.app.action_help()

    async def action_quit(self) -> None:
        await self.app.action_quit()

    def on_screen_resume(self) -> None:
        # after the frame: the first screen's first resume must not pay for reading staged.json (start-up)
        self.call_after_refresh(reload_if_changed_outside, self.app)


class ConsoleModal(ModalScreen[ResultType]):
    """A dialog of the console."""

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)

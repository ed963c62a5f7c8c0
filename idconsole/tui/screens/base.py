"""The console's screen bases: Textual's `Screen` and `ModalScreen` with `self.app` typed as the
`IdConsoleApp`, so a screen reaches `self.app.active_workspace`, `self.app.readonly`,
`self.app.check_writable(...)` or `self.app.open_plan()` with the type checker's help.

The typing is `textual.getters.app`, declared under TYPE_CHECKING only: at run time `self.app` is Textual's
own property, and no screen imports `tui/app.py` (which imports the screens) — no cycle, no cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual import getters

    from idconsole.tui.app import IdConsoleApp

ResultType = TypeVar("ResultType")


class ConsoleScreen(Screen[ResultType]):
    """A full screen of the console."""

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)


class ConsoleModal(ModalScreen[ResultType]):
    """A dialog of the console."""

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)

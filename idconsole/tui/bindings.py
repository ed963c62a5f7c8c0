"""Key bindings shared by the whole console, each with an id so a user keymap can remap it
(`app.set_keymap({"app.help": "f2"})`), and the read-only guard for actions that change data.

Binding ids are `<scope>.<action>`: `app.*` here, `connections.*`, `lookup.*`, ... on the screens.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType

from idconsole.tui.palette_bindings import bound_keys, declared_bindings
from idconsole.tui.screens.base import ConsoleScreen, ResultType

APP_BINDINGS: list[BindingType] = [
    Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys and how-to for this screen"),
    # F1 also works in dialogs and while typing (priority); `?` gives way to text inputs. Shown: the
    # footer shows one key per action, the first that works (`?`, or F1 while a text box has focus)
    Binding("f1", "help", "Help", id="app.help_f1", priority=True,
            tooltip="Keys and how-to for this screen"),
    # show=False: the Footer already shows the palette key at its right end
    Binding("ctrl+p", "command_palette", "Palette", id="app.palette", priority=True, show=False,
            tooltip="Every action of this screen, searchable"),
    # not in the footers (they must fit 120 columns): the help and the palette list it
    Binding("ctrl+o", "connections", "Connections", id="app.connections", show=False,
            tooltip="Connection profiles: add, edit, test, open"),
    Binding("f2", "staged", "Staged", id="app.staged",
            tooltip="Staged changes: review, edit, plan and submit them"),
    Binding("f3", "journal", "Journal", id="app.journal", tooltip="Everything submitted, and undo"),
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit idconsole"),
    # ctrl+q quits from anywhere, even while typing; `q` gives way to text inputs (then the footer shows ^q)
    Binding("ctrl+q", "quit", "Quit", id="app.force_quit", priority=True, tooltip="Quit idconsole"),
    Binding("escape", "back", "Back", id="app.back", show=False, tooltip="Close this screen"),
]


class WriteActionsGuard(ConsoleScreen[ResultType]):
    """Base for screens that change data: actions named in `WRITE_ACTIONS` are hidden from the footer,
    the help and the palette, and refused, while the app is read-only.

        class LookupScreen(WriteActionsGuard[None]):
            WRITE_ACTIONS = frozenset({"stage_map", "stage_unmap"})

    Actions should still start with `if not self.app.check_writable(): return` (defence in depth).
    Pressing such a key anyway is not silent: it says "read-only session" (`on_key`).
    """

    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    def on_key(self, event: events.Key) -> None:
        # the binding is disabled while read-only, so the key would do nothing: say why instead
        if not self.WRITE_ACTIONS or not self.app.readonly:
            return
        for binding in declared_bindings(self):
            if binding.action.split("(")[0] in self.WRITE_ACTIONS and event.key in bound_keys(self.app, binding):
                event.stop()
                self.app.check_writable(binding.description.rstrip("…") or "This action")
                return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITE_ACTIONS and self.app.readonly:
            return False
        return super().check_action(action, parameters)

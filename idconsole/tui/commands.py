"""The command palette (ctrl+p): every action of the screen it was opened from, with its key.

Commands are derived from the calling screen's bindings (`palette_bindings`: the active ones, then
every one the screen and the app declare, whatever has focus), never an action hidden by `check_action`
(read-only). A few commands without a key are added: Open demo, Connections, Help,
Quit, Change theme.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from idconsole.tui.palette_bindings import palette_bindings

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    keys: str
    run: Callable[[], Any]

    def prompt(self) -> Content:
        name = Content(self.name)
        if not self.keys:
            return name
        return Content.assemble(name, "  ", (self.keys, "bold $text-accent"))


# action (as bound on the app) -> (palette name, help); also the commands offered without a key
EXTRA_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("open_demo", "Open demo", "Switch to the embedded sandbox with demo data"),
    ("connections", "Connections", "Connection profiles: add, edit, test, open"),
    ("help", "Help", "Keys and how-to for this screen"),
    ("quit", "Quit", "Quit idconsole"),
    ("change_theme", "Change theme", "Pick another colour theme"),
)
_HIDDEN_ACTIONS = {"command_palette", "back", "help_quit"}


def screen_commands(screen: Screen[Any]) -> list[PaletteCommand]:
    """The palette's commands for `screen`: its active bindings grouped by action, then the extras."""
    app = screen.app
    grouped: dict[str, PaletteCommand] = {}
    for key, node, binding in palette_bindings(screen):
        if binding.action in _HIDDEN_ACTIONS or not binding.description:
            continue
        # what the screen and app offer (ours all have ids) and whatever the footer shows; not the
        # focused widget's cursor keys or tab
        if not (binding.show or binding.id):
            continue
        key_display = app.get_key_display(binding) or key
        # by action: Help / Quit are bound on the screen (footer order) and on the app: one command
        ident = binding.action
        if ident in grouped:
            known = grouped[ident]
            keys = known.keys if key_display in known.keys.split(" / ") else f"{known.keys} / {key_display}"
            grouped[ident] = PaletteCommand(known.name, known.help or binding.tooltip or "", keys, known.run)
            continue
        grouped[ident] = PaletteCommand(
            binding.description,
            binding.tooltip or "",
            key_display,
            partial(app.run_action, binding.action, node),
        )
    commands = list(grouped.values())
    bound_app_actions = {action.removeprefix("app.") for action in grouped}
    in_demo = getattr(getattr(app, "workspace", None), "is_demo", False)
    for action, name, help_text in EXTRA_COMMANDS:
        if action in bound_app_actions or (action == "open_demo" and in_demo):
            continue
        commands.append(PaletteCommand(name, help_text, "", partial(app.run_action, action, app)))
    return commands


def _help(command: PaletteCommand) -> str | None:
    # the palette parses help as markup: a tooltip with brackets must show as written
    return escape(command.help) if command.help else None


class IdConsoleCommands(Provider):
    """Context-aware commands: what the screen the palette was opened from can do right now."""

    def _commands(self) -> Iterator[PaletteCommand]:
        yield from screen_commands(self.screen)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.prompt(), command.run, text=command.name, help=_help(command))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            # match on the name and the key, so "ctrl+o" or "conn" both find Connections
            score = max(matcher.match(command.name), matcher.match(command.keys) * 0.8 if command.keys else 0)
            if score > 0:
                yield Hit(score, command.prompt(), command.run, text=command.name, help=_help(command))

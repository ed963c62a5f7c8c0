"""Which of the plan's maps and merges to compare: a short list (Enter compares the chosen one, Esc
closes). With one comparable change the plan opens its Compare view directly; this is for several."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from idconsole.tui.screens.base import ConsoleModal
from idconsole.tui.text import literal


class ComparePickScreen(ConsoleModal[int | None]):
    """`ComparePickScreen([(n, words), ...])`: dismisses with the chosen change's index in the list."""

    DEFAULT_CSS = """
    ComparePickScreen { align: center middle; }
    ComparePickScreen > Vertical {
        width: 112; max-width: 95%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ComparePickScreen OptionList { height: auto; max-height: 24; border: none; }
    ComparePickScreen #compare-pick-hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="compare_pick.close"),
    ]

    HELP = "The plan's maps and merges. **Enter** compares the two ids of the chosen one, **Esc** closes."

    def __init__(self, choices: list[tuple[int, str]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content("Compare which change?").stylize("bold"))
            yield OptionList(*(Option(literal(f"change {n}: {words}", limit=104), id=f"pick-{i}")
                               for i, (n, words) in enumerate(self.choices)), id="compare-pick-list")
            yield Label(Content("Enter: compare its two ids · Esc: close"), id="compare-pick-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()


def pick_then(app: Any, choices: list[tuple[int, str]], screens: list[Any]) -> None:
    """Ask which change, then push its Compare screen."""
    def chosen(index: int | None) -> None:
        if index is not None:
            app.push_screen(screens[index])

    app.push_screen(ComparePickScreen(choices), chosen)

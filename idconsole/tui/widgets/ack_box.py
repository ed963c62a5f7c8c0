"""The plan's Acknowledge box: a Checkbox that Space toggles but Enter does not — on the plan Enter
submits (as the help says), so Enter on a ticked box must never untick it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Checkbox


class AckBox(Checkbox, inherit_bindings=False):
    """`AckBox("Acknowledge", id=...)`: Space (or a click) toggles; Enter goes on to the screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_button", "Toggle", show=False)]

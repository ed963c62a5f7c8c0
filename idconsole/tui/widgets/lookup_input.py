"""The Lookup screen's box: an `Input` whose text is selected when it gets focus (the next id replaces
the last one instead of being appended to it), and where `?` on an EMPTY box opens the help.

The rule for `?` and `q`: both are valid characters in ids, so the box keeps them as text — except `?` as
the very first character (no id a support engineer types starts with it), which goes to the app's Help
binding, remappable like every binding. `q` is always text here (`quinn@globex.net` must be typeable):
ctrl+q quits and F1 opens the help from anywhere, and the footer shows them while the box has focus.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

#: the characters that act as keys (not text) on an empty box
_KEYS_WHEN_EMPTY = frozenset({"?"})


class LookupInput(Input):
    """`LookupInput(placeholder=..., id=...)`: selects all on focus; `?` on an empty box is a key."""

    def _acts_as_key(self, character: str | None) -> bool:
        return not self.value and character in _KEYS_WHEN_EMPTY

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # not consumed: the binding chain keeps the app's `?` (footer and palette show it, the key runs it)
        if self._acts_as_key(character):
            return False
        return super().check_consume_key(key, character)

    def on_key(self, event: events.Key) -> None:
        if self._acts_as_key(event.character):
            # skip Input's own handler (it would type the character); the key bubbles to the bindings
            event.prevent_default()

    def watch_value(self, old: str, new: str) -> None:
        # empty <-> not empty changes what `?` does: the footer and the palette follow
        if bool(old) != bool(new) and self.is_mounted:
            self.refresh_bindings()

"""Which bindings the command palette lists: what works right now (the screen's active bindings), then
every binding the screen and the app declare whose action is allowed there — also those a focused text
box hides from the footer (`r`, `m`, `?`... are text while the lookup box has focus, yet "recent" in the
palette must find Recent). Keys follow the user's keymap (config.toml), as the footer's do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.actions import parse
from textual.binding import Binding

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.screen import Screen


def declared_bindings(node: DOMNode) -> Iterator[Binding]:
    """The bindings `node`'s classes declare (BINDINGS along the MRO, base classes first)."""
    for cls in reversed(type(node).__mro__):
        yield from Binding.make_bindings(cls.__dict__.get("BINDINGS", ()))


def bound_keys(app: Any, binding: Binding) -> list[str]:
    """The keys that run `binding` now: the user's keymap entry for its id, else its own key."""
    keymap: dict[str, str] = dict(getattr(getattr(app, "user_settings", None), "keymap", None) or {})
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return [key.strip() for key in keys.split(",")]


def palette_bindings(screen: Screen[Any]) -> Iterator[tuple[str, DOMNode, Binding]]:
    """(key, node that runs the action, binding) for the palette of `screen`, active ones first."""
    for key, active in screen.active_bindings.items():
        if active.enabled:
            yield key, active.node, active.binding
    app = screen.app
    for node in (screen, app):
        for binding in declared_bindings(node):
            # a dialog stops the app's keys except the priority ones (F1, ctrl+q, the palette)
            if screen.is_modal and node is app and not binding.priority:
                continue
            _namespace, action, parameters = parse(binding.action)
            if not node.check_action(action, parameters):
                continue
            for key in bound_keys(app, binding):
                yield key, node, replace(binding, key=key)

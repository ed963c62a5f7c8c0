"""`f` in the identity tree: find a child among thousands by part of its id. The loaded nodes are searched
after the cursor first (so `f` + Enter again finds the next one), then the pages not shown yet ("show
more") are revealed up to the match. Ids are compared case-insensitively; the query is never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from idconsole.identity import graph as g
from idconsole.tui.screens.base import ConsoleModal

if TYPE_CHECKING:
    from idconsole.tui.widgets.identity_tree import IdentityTree, IdTreeNode


class FindInTreeDialog(ConsoleModal[str | None]):
    """Ask for the text to find; dismisses with it (None on Esc or an empty box)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="tree_find.cancel"),
    ]
    HELP = "Type part of an id and press **Enter**: the tree moves to the next node whose id contains it."

    def __init__(self, last: str = "") -> None:
        super().__init__()
        self._last = last

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static("Find in the tree", classes="dialog-title", markup=False)
            yield Input(self._last, placeholder="part of an id – Enter finds the next one", id="tree-find")

    def on_mount(self) -> None:
        box = self.query_one("#tree-find", Input)
        box.focus()
        box.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def find_next(tree: IdentityTree, text: str) -> IdTreeNode | None:
    """The next user node after the cursor whose id contains `text` (wrapping), revealing pages of a
    "show more" node when the match is among them; None when no id in the tree contains it."""
    needle = text.casefold()
    nodes = list(tree.iter_nodes())
    start = nodes.index(tree.cursor_node) + 1 if tree.cursor_node in nodes else 0
    for node in nodes[start:] + nodes[:start]:
        data = node.data
        if data is not None and data.kind in (g.USER, g.CYCLE) and needle in data.user_id.casefold():
            return node
    for node in nodes:  # not shown yet: reveal pages up to the first page holding a match
        data = node.data
        while data is not None and data.kind == g.MORE and any(needle in m.user_id.casefold()
                                                               for m in data.remaining):
            added = tree.show_more(node)
            for child in added:
                if child.data is not None and child.data.kind == g.USER and needle in child.data.user_id.casefold():
                    return child
            node = added[-1] if added else node
            data = node.data if added else None
    return None

"""`a` in the identity tree: the tree as it would be after the staged changes are submitted, and back.

The after-state is `identity.preview`'s (the plan's own replay over the mappings this tree read, the one
`idconsole lookup --after-staged` prints); this module only draws it: a border title that says it is a
preview and that nothing was sent, changed nodes tagged and coloured, users leaving a node listed under it.
The preview follows the staged set as it changes, like the marks do; a new lookup shows the current state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Tree

from idconsole.api.models import UserMappings
from idconsole.identity import graph as g
from idconsole.tui.text import visible

if TYPE_CHECKING:
    from idconsole.changes.staged import StagedEntry
    from idconsole.identity.lookup import Lookup
    from idconsole.identity.preview import AfterState
    from idconsole.tui.widgets.identity_tree import IdentityTree, IdTreeNode

#: how a changed node's tag is drawn, by NodeChange.kind
STYLES = {"added": "bold green", "moved": "bold cyan", "unmapped": "bold red"}
TAG_ID_LIMIT = 40


def _short(text: str) -> str:
    return visible(text, limit=TAG_ID_LIMIT)


class TreePreview:
    """What the tree read (the lookup's answers and every node expanded since) and, while the preview is
    shown, its after-state."""

    def __init__(self, tree: IdentityTree) -> None:
        self.tree = tree
        self.found: Lookup | None = None
        self.read: dict[str, UserMappings] = {}
        self.state: AfterState | None = None

    @property
    def shown(self) -> bool:
        return self.state is not None

    def new_lookup(self, found: Lookup | None) -> None:
        """Another lookup is drawn: its current state (the preview is asked for again)."""
        self.found = found
        self.read = {}
        self._set(None)

    def remember(self, mappings: UserMappings) -> None:
        """An answer the tree read when a node was expanded (the next preview knows it too)."""
        self.read[mappings.user_id] = mappings

    # --- toggling ----------------------------------------------------------------------------------

    def toggle(self) -> None:
        if self.state is not None:
            self._set(None)
            self._draw_current()
            return
        state = self._compute()
        if state is None:
            self.tree.notify("Look a user up first: the preview shows its tree after the staged changes.",
                             title="No user", severity="warning", markup=False)
            return
        self._set(state)
        self._draw_after(state)

    def staged_changed(self) -> bool:
        """The staged set changed: redraw the preview if the after-state did. True when redrawn."""
        old = self.state
        if old is None:
            return False
        state = self._compute()
        if state is None:
            return False
        self._set(state)
        if (state.targets, state.problems) == (old.targets, old.problems):
            return False
        self._draw_after(state)
        return True

    def _compute(self) -> AfterState | None:
        from idconsole.identity.preview import lookup_after_staged

        found = self.found
        if found is None or found.user_id is None or found.mappings is None or found.chain is None:
            return None
        return lookup_after_staged(found, self._entries(), self.read)

    def _entries(self) -> list[StagedEntry]:
        staged = self.tree._staged()
        try:
            return list(staged.entries) if staged is not None else []
        except Exception:  # a damaged staged.json: the staged screen says so; the preview shows nothing staged
            return []

    def _set(self, state: AfterState | None) -> None:
        from idconsole.identity.preview import preview_words

        self.state = state
        self.tree.border_title = Text(preview_words(state)) if state is not None else None
        self.tree.set_class(state is not None, "-preview")

    # --- drawing -----------------------------------------------------------------------------------

    def _draw_after(self, state: AfterState) -> None:
        self._redraw(*state.root_nodes(page_size=self.tree.page_size))

    def _draw_current(self) -> None:
        found = self.found
        if found is None or found.user_id is None or found.mappings is None or found.chain is None:
            return
        self._redraw(*g.root_nodes(found.user_id, found.mappings, found.chain, found.learned,
                                   amplitude_id=found.amplitude_id, page_size=self.tree.page_size))

    def _redraw(self, root: g.IdNode, children: list[g.IdNode]) -> None:
        """Draw, keeping the cursor on the same user where it is still shown."""
        tree = self.tree
        cursor = tree.cursor_node.data if tree.cursor_node is not None else None
        tree.draw(root, children)
        node = tree.find_user(cursor.user_id) if cursor is not None and cursor.kind == g.USER else None
        tree.call_after_refresh(self._highlight, node or tree.root)

    def _highlight(self, node: IdTreeNode) -> None:
        """The cursor on `node`, and the side panel told even when the line did not move (it showed the
        node of the other state)."""
        self.tree.move_cursor(node)
        if self.tree.cursor_node is not None:
            self.tree.post_message(Tree.NodeHighlighted(self.tree.cursor_node))

    def children(self, node: g.IdNode, mappings: UserMappings) -> list[g.IdNode]:
        """A user node's children: as they are now, or after the staged changes while previewing (laid
        over the node's answer as read, never over an after-state answer)."""
        if self.state is None:
            return g.expand_nodes(node, mappings, page_size=self.tree.page_size)
        current = self.state.read.get(node.user_id) or self.read.get(node.user_id) or mappings
        return self.state.expand_nodes(node, current, page_size=self.tree.page_size)

    def label(self, node: g.IdNode, label: Text) -> Text | None:
        """The label of a node the staged changes change (None: not previewing, or unchanged)."""
        state = self.state
        if state is None:
            return None
        change = state.changes.get(node.user_id)
        if change is None:
            return None
        style = STYLES.get(change.kind, "bold")
        if node.kind == g.NOTE:  # a user leaving this node: the note is the whole story
            return Text(label.plain, style=style)
        if node.kind != g.USER:
            return None
        label.append("  ◆ " + change.describe(node.via, _short), style=style)
        return label

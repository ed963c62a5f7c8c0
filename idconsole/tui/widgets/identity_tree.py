"""The identity tree: a Textual `Tree` of `idconsole.identity.graph.IdNode`s with lazy loading and paging.

- A user node's own mappings are fetched when it is first expanded (space, →, or a click on ▶), in a
  worker; the tree shows `loading` meanwhile. A failure collapses the node again (expand retries).
- "show more (N remaining)" adds the next page when selected (Enter).
- Cycle markers (↻) are leaves; Enter on one jumps to where that id is shown.
- Enter (or `p` on the screen) on a user node posts `IdentityTree.OpenProfile`.
- A node that a staged change touches says so after its label (`● staged: map → B`, `staged_marks`),
  following the staged set as it changes (in this console or, once reloaded, from outside).
- `a` shows the tree after the staged changes (nothing sent) and back (`tree_preview`).

Labels are Rich `Text` built from `visible()`: never markup, control characters escaped, long ids
shortened (the side panel shows them in full).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text, TextType
from textual import work
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from idconsole.api.models import UserMappings
from idconsole.identity import graph as g
from idconsole.identity.ids import junk_reason
from idconsole.tui.text import visible
from idconsole.tui.widgets.staged_marks import staged_marks
from idconsole.tui.widgets.status_bar import StatusBar
from idconsole.tui.widgets.tree_preview import TreePreview

if TYPE_CHECKING:
    from textual import getters

    from idconsole.identity.lookup import Lookup
    from idconsole.tui.app import IdConsoleApp

#: longest id shown in a tree label (the side panel has the full id)
LABEL_ID_LIMIT = 48
#: ids inside a chain summary
CHAIN_ID_LIMIT = 30

IdTreeNode = TreeNode[g.IdNode]
EXPAND_GROUP = "identity-expand"


def _amp(amplitude_id: int | None) -> str:
    return f"#{amplitude_id}" if amplitude_id is not None else "#?"


def node_label(node: g.IdNode) -> Text:
    """The one-line label of a node (plain Text pieces: nothing here is ever parsed as markup)."""
    if node.kind == g.USER:
        parts: list[tuple[str, str] | str] = []
        if node.role == g.CHAIN:
            parts.append(("→ ", "bold"))
        parts.append((visible(node.user_id, limit=LABEL_ID_LIMIT), "bold" if node.role == g.ROOT else ""))
        parts.append((f"  {_amp(node.amplitude_id)}", "dim"))
        if node.role == g.ROOT:
            parts.append(("  looked up", "italic dim"))
        if node.role == g.CHAIN and node.mappings is not None and not node.mappings.mapped_to:
            parts.append(("  end of chain (global id)", "italic dim"))
        if junk_reason(node.user_id):
            parts.append(("  ⚠ junk id", "bold red"))
        return Text.assemble(*parts)
    if node.kind == g.GROUP:
        if node.chain is not None:
            # the root is the line above: the label shows where it goes, "→ B → C", ids shortened to fit
            chain = node.chain
            hops = [s.user_id for s in chain.steps] + ([chain.cycle_to] if chain.cycle_to is not None else [])
            limit = max(12, min(CHAIN_ID_LIMIT, 60 // max(len(hops), 1)))
            short = " → ".join(visible(i, limit=limit) for i in hops)
            if chain.cycle_to is not None:
                short += " ↻"
            elif chain.truncated or chain.following:
                short += " → …"
            parts = [("maps into: → ", "bold"), short]
            if node.chain.cycle_to is not None:
                parts.append(("  cycle", "bold yellow"))
            elif node.chain.is_chain:
                parts.append(("  ⚠ chain", "bold yellow"))
            return Text.assemble(*parts)
        return Text.assemble((node.title, "bold"), (f" ({node.count})" if node.count is not None else "", "dim"))
    if node.kind == g.CYCLE:
        return Text.assemble(
            ("↻ cycle: ", "bold yellow"),
            (visible(node.user_id, limit=LABEL_ID_LIMIT), "yellow"),
            (f" {node.reason}", "yellow"),
        )
    if node.kind == g.MORE:
        return Text(f"… show more ({node.count} remaining)", style="italic cyan")
    return Text(visible(node.title), style="italic dim")


class IdentityTree(Tree[g.IdNode]):
    """`IdentityTree(id=...)`; `show_lookup(root, children)` replaces the content."""

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "expand_cursor", "Expand", id="tree.expand", show=False,
                tooltip="Expand the node (loads its mappings the first time)"),
        Binding("left", "collapse_cursor", "Collapse", id="tree.collapse", show=False,
                tooltip="Collapse the node, or go to its parent"),
        Binding("f", "find", "Find in tree", id="tree.find", show=False,
                tooltip="Go to the next node whose id contains a text (also in pages not shown yet)"),
        Binding("a", "after_staged", "After staged", id="tree.after_staged", show=False,
                tooltip="Preview the tree after the staged changes (nothing is sent); again: back to now"),
    ]

    class OpenProfile(Message):
        """Enter on a user node."""

        def __init__(self, node: g.IdNode) -> None:
            self.node = node
            super().__init__()

    class NodeLoaded(Message):
        """A user node's mappings arrived and its children were added."""

        def __init__(self, tree_node: IdTreeNode) -> None:
            self.tree_node = tree_node
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text("no lookup yet", style="dim"), id=id, classes=classes)
        self.auto_expand = False
        self.show_root = True
        self._populated: set[Any] = set()
        self.page_size = g.PAGE_SIZE
        #: user id -> what a staged change would do to it (staged_marks), shown after its label
        self._marks: dict[str, str] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._find_text = ""
        self.preview = TreePreview(self)

    # --- staged changes on the nodes they touch ----------------------------------------------------

    def on_mount(self) -> None:
        staged = self._staged()
        if staged is not None:
            self._unsubscribe = staged.subscribe(lambda _staged: self.call_later(self.refresh_marks))
        self._marks = self._read_marks()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _staged(self) -> Any:
        workspace = getattr(self.app, "workspace", None)
        try:
            return workspace.staged if workspace is not None else None
        except Exception:  # a damaged staged.json: the staged screen says so; the tree just shows no marks
            return None

    def _read_marks(self) -> dict[str, str]:
        staged = self._staged()
        try:
            return staged_marks(list(staged)) if staged is not None else {}
        except Exception:
            return {}

    def action_after_staged(self) -> None:
        self.preview.toggle()

    def refresh_marks(self) -> None:
        """Read the staged set again and relabel the nodes whose mark changed (a preview: redraw it)."""
        old, self._marks = self._marks, self._read_marks()
        if self.preview.staged_changed() or old == self._marks:
            return
        for tree_node in self.iter_nodes():
            data = tree_node.data
            if data is not None and data.kind == g.USER and old.get(data.user_id) != self._marks.get(data.user_id):
                tree_node.set_label(self._label(data))

    def _label(self, node: g.IdNode) -> Text:
        label = node_label(node)
        if (after := self.preview.label(node, label)) is not None:
            return after
        mark = self._marks.get(node.user_id) if node.kind == g.USER else None
        if mark:
            label.append("  " + mark, style="bold yellow")
        return label

    # --- labels: never markup ----------------------------------------------------------------------

    def process_label(self, label: TextType | Content) -> Text:
        if isinstance(label, Content):
            text = Text(label.plain)
        elif isinstance(label, str):
            text = Text(visible(label))
        else:
            text = label
        return text.split()[0] if "\n" in text.plain else text

    # --- content -----------------------------------------------------------------------------------

    def _reset(self) -> None:
        # an expansion still loading belongs to the old content: drop it
        self.workers.cancel_group(self, EXPAND_GROUP)
        self.loading = False
        self.clear()

    def show_lookup(self, root: g.IdNode, children: Iterable[g.IdNode], found: Lookup | None = None) -> None:
        """A lookup's tree as it is now (`found`: the answer it was drawn from, for the preview)."""
        self.preview.new_lookup(found)
        self.draw(root, children)

    def draw(self, root: g.IdNode, children: Iterable[g.IdNode]) -> None:
        self._reset()
        self._populated = set()
        self.root.set_label(self._label(root))
        self.root.data = root
        self.root.allow_expand = False  # always open: it is what was looked up
        self._populated.add(self.root.id)
        self.add_nodes(self.root, children)
        self.root.expand()
        self.move_cursor(self.root)

    def show_message(self, text: str) -> None:
        """Replace the tree by one line of our own words (e.g. "nothing found")."""
        self.preview.new_lookup(None)
        self._reset()
        self._populated = set()
        self.root.set_label(Text(text, style="dim"))
        self.root.data = None
        self.root.allow_expand = False

    def add_nodes(self, parent: IdTreeNode, nodes: Iterable[g.IdNode]) -> list[IdTreeNode]:
        added = []
        for node in nodes:
            label = self._label(node)
            if node.kind == g.GROUP:
                child = parent.add(label, node, expand=True, allow_expand=bool(node.children))
                self._populated.add(child.id)
                self.add_nodes(child, node.children)
            elif node.kind == g.USER:
                child = parent.add(label, node, expand=False, allow_expand=node.expandable)
            else:
                child = parent.add_leaf(label, node)
            added.append(child)
        return added

    def iter_nodes(self, start: IdTreeNode | None = None) -> Iterator[IdTreeNode]:
        """Every node added so far, depth first."""
        stack = [start or self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def find_user(self, user_id: str) -> IdTreeNode | None:
        for node in self.iter_nodes():
            if node.data is not None and node.data.kind == g.USER and node.data.user_id == user_id:
                return node
        return None

    # --- lazy loading ------------------------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[g.IdNode]) -> None:
        tree_node = event.node
        data = tree_node.data
        if data is None or data.kind != g.USER or tree_node.id in self._populated:
            return
        event.stop()
        if data.mappings is not None:  # known already (chain steps were fetched while following it)
            self._populate(tree_node, data.mappings)
        else:
            self.load_children(tree_node)

    def _populate(self, tree_node: IdTreeNode, mappings: UserMappings) -> None:
        data = tree_node.data
        try:
            current = self.get_node_by_id(tree_node.id)
        except UnknownNodeID:
            current = None
        if data is None or current is not tree_node:
            return  # the tree was replaced while this node's mappings loaded
        self._populated.add(tree_node.id)
        tree_node.remove_children()
        self.add_nodes(tree_node, self.preview.children(data, mappings))
        tree_node.set_label(self._label(data))
        self.post_message(self.NodeLoaded(tree_node))

    @work(group=EXPAND_GROUP, exclusive=True, exit_on_error=False)
    async def load_children(self, tree_node: IdTreeNode) -> None:
        data = tree_node.data
        assert data is not None
        self.loading = True
        try:
            answer = await self.app.active_workspace.client.amplitude.get_mappings([data.user_id])
        except asyncio.CancelledError:
            tree_node.collapse()
            raise
        except Exception as exc:
            tree_node.collapse()
            _show_error(self.app, exc, "Could not load the mappings of this node")
            return
        finally:
            self.loading = False
            for status in self.screen.query(StatusBar):
                status.refresh_status()  # budgets changed: show them now
        mappings = answer.get(data.user_id) or UserMappings(data.user_id)
        self.preview.remember(mappings)
        self._populate(tree_node, mappings)

    def show_more(self, more_node: IdTreeNode) -> list[IdTreeNode]:
        """Replace a "show more" node by the next page."""
        data = more_node.data
        parent = more_node.parent
        if data is None or data.kind != g.MORE or parent is None:
            return []
        more_node.remove()
        added = self.add_nodes(parent, g.next_page(data, page_size=self.page_size))
        if added:
            # the new nodes get their line numbers on the next refresh
            self.call_after_refresh(self.move_cursor, added[0])
        return added

    # --- keys --------------------------------------------------------------------------------------

    def on_tree_node_selected(self, event: Tree.NodeSelected[g.IdNode]) -> None:
        tree_node = event.node
        data = tree_node.data
        if data is None:
            return
        if data.kind == g.MORE:
            event.stop()
            self.show_more(tree_node)
        elif data.kind == g.CYCLE:
            event.stop()
            target = self.find_user(data.user_id)
            if target is not None:
                self.move_cursor(target)
        elif data.kind == g.GROUP:
            event.stop()
            tree_node.toggle()
        elif data.kind == g.USER:
            event.stop()
            self.post_message(self.OpenProfile(data))

    def action_find(self) -> None:
        from idconsole.tui.widgets.tree_find import FindInTreeDialog, find_next

        def found(text: str | None) -> None:
            if not text:
                return
            self._find_text = text
            node = find_next(self, text)
            if node is None:
                self.notify(f"No id in this tree contains {visible(text, limit=60)}.", title="Not found",
                            severity="warning", markup=False)
                return
            self.call_after_refresh(self._go_to, node)

        self.app.push_screen(FindInTreeDialog(self._find_text), found)

    def _go_to(self, node: IdTreeNode) -> None:
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self.move_cursor, node)

    def action_expand_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_collapse_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)


def _show_error(app: Any, exc: BaseException, context: str) -> None:
    """Through the shell's error router when there is one, else a literal notification."""
    router = getattr(app, "show_error", None)
    if callable(router):
        router(exc, context=context)
    else:
        app.notify(visible(str(exc), limit=600), title=context, severity="error", markup=False)

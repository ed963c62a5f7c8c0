"""The Lookup screen: type any id, get the identity tree.

Enter in the box runs the one lookup both faces share (`idconsole.identity.lookup.look_up`, also behind
`idconsole lookup`): the text as a user id first; if that user has no mappings, User search resolves it
(user id, device id, Amplitude id or an email property) and the screen says which match it used; several
matches are listed to choose from. The tree shows the chain upward ("maps into"), what maps into the user
("mapped from", paged), and loads deeper levels when expanded. This module only shows the answer.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from idconsole.api.models import SearchMatch, SearchResult
from idconsole.identity import graph as g
from idconsole.identity.lookup import Lookup, look_up, search_ahead_allowed, search_budget_of
from idconsole.identity.resolve import AMBIGUOUS, ANONYMOUS, BY_USER, UNKNOWN, Resolution
from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.clipboard import copy_text
from idconsole.tui.errors import route_worker_error
from idconsole.tui.screens import lookup_text as words
from idconsole.tui.screens.lookup_investigate import InvestigateActions
from idconsole.tui.staging import actions as staging_actions
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.identity_tree import IdentityTree
from idconsole.tui.widgets.lookup_input import LookupInput
from idconsole.tui.widgets.node_details import NodeDetails
from idconsole.tui.widgets.recent_lookups import RecentLookups, RecentLookupsScreen
from idconsole.tui.widgets.status_bar import StatusBar


def search_budget(workspace: Any) -> tuple[int, int] | None:
    """(remaining, limit) of the User search budget, or None when the client cannot say."""
    return search_budget_of(workspace.budgets)


class LookupScreen(WriteActionsGuard, InvestigateActions, Screen):
    """`LookupScreen()`: the console's main screen (the input is focused)."""

    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"stage_map", "stage_unmap"})

    CSS_PATH = "../styles/lookup.tcss"
    HELP_TITLE = "Lookup"
    HELP = """\
Look a user up by **user id**, **device id**, **Amplitude id** or **email**: type it and press **Enter**.

- The id is first tried as a user id (User Mapping API). If it has no mappings, **User search** resolves it
  (the screen says which match it used; several matches are listed – pick one with Enter). Search is limited
  to 360 queries an hour: the remaining budget is shown next to the box; repeated searches come from a cache.
- The **tree** shows the user, what it **maps into** (the whole chain: `A → B → C`, a cycle is marked ↻ and
  never followed twice), and what is **mapped from** it. Expand a node (**space** or **→**) to load its own
  mappings. Big lists come in pages of 200: select **show more** to add the next page.
- The **side panel** has the selected id in full, its Amplitude id, what it maps into, how many ids map into it,
  chain and cycle notes, and a warning for junk ids (`null`, `undefined`, `0`, `-1`, empty, very short).
- **Enter** or **p** opens the profile of the selected user, **m** its Mixpanel profile, **c** copies the
  selected id, **r** lists recent lookups, **/** goes back to the box.
- **M** / **U** stage a map / unmap of the selected user (nothing is sent until you review the plan and
  confirm; hidden in a read-only session); **a** in the tree draws it after the staged changes, and back.

Amplitude does not resolve chains transitively: after `A → B` and `B → C`, A's events show under B only.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_input", "Find", id="lookup.focus_input",
                tooltip="Go to the lookup box"),
        Binding("r", "recent", "Recent", id="lookup.recent", show=False, tooltip="Recent lookups of this profile"),
        Binding("c", "copy_id", "Copy id", id="lookup.copy", show=False, tooltip="Copy the selected id"),
        Binding("p", "open_profile", "Profile", id="lookup.profile",
                tooltip="Amplitude profile of the selected user"),
        Binding("m", "open_mixpanel", "Mixpanel", id="lookup.mixpanel_profile",
                tooltip="Mixpanel profile of the selected id"),
        Binding("M", "stage_map", "Map…", id="lookup.stage_map",
                tooltip="Stage a map of the selected user into another id (reviewed in the plan first)"),
        Binding("U", "stage_unmap", "Unmap…", id="lookup.stage_unmap",
                tooltip="Stage an unmap of the selected user (reviewed in the plan first)"),
        Binding("escape", "focus_input", "Lookup box", id="lookup.back_to_input", show=False,
                tooltip="Back to the lookup box"),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.recent: RecentLookups | None = None
        #: what the last lookup showed: (query, resolved user id) — tests and the palette read it
        self.last_query: str = ""
        self.resolved_user: str | None = None
        #: the whole answer of the last lookup (also when it found no user) — the faces-agree test reads it
        self.found: Lookup | None = None
        self._drawn_at_journal = 0
        self._matches: tuple[SearchMatch, ...] = ()
        self._match_query = ""

    # --- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="lookup-top"):
            with Horizontal(id="lookup-bar"):
                yield LookupInput(placeholder="user id, device id, Amplitude id or email – Enter looks it up",
                                  id="lookup-input")
                yield Static("", id="search-budget", markup=False)
            yield Static(Content("Type an id and press Enter.").stylize("dim"), id="lookup-status",
                         markup=False)
            yield OptionList(id="lookup-matches")
        with Horizontal(id="lookup-body"):
            yield IdentityTree(id="identity-tree")
            yield NodeDetails(id="node-details")
        yield StatusBar()
        yield Footer()

    @property
    def workspace(self) -> Any:
        return getattr(self.app, "workspace", None)

    @property
    def identity_tree(self) -> IdentityTree:
        return self.query_one("#identity-tree", IdentityTree)

    def on_mount(self) -> None:
        ws = self.workspace
        profile = ws.connection.name if ws is not None else "default"
        self.recent = RecentLookups(profile)
        self.query_one("#lookup-matches", OptionList).display = False
        self.identity_tree.show_message("No lookup yet – type an id above and press Enter.")
        # the budget lives on the client (httpx): read it after the first frame is drawn
        self.call_after_refresh(self._update_budget)
        self.query_one("#lookup-input", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ws = self.workspace
        vendors = ws.connection.vendors if ws is not None else ()
        if action == "open_mixpanel" and "mixpanel" not in vendors:
            return False
        if action == "open_profile" and "amplitude" not in vendors:
            return False
        return super().check_action(action, parameters)

    # --- messages ----------------------------------------------------------------------------------

    def set_status(self, content: Content | str, *, error: bool = False) -> None:
        status = self.query_one("#lookup-status", Static)
        status.set_class(error, "-error")
        status.update(content if isinstance(content, Content) else Content(content))

    def _update_budget(self, result: SearchResult | None = None) -> None:
        budget = search_budget(self.workspace) if self.workspace is not None else None
        widget = self.query_one("#search-budget", Static)
        if budget is None:
            widget.update(Content("search budget: n/a").stylize("dim"))
            return
        remaining, limit = budget
        widget.set_class(remaining < max(1, limit // 10), "-low")
        widget.update(words.budget_text(remaining, limit, cached=result is not None and result.cached))

    def _report(self, exc: BaseException, context: str) -> None:
        """The shell's error router shows it; the status line keeps it visible on this screen."""
        show = getattr(self.app, "show_error", None)
        if callable(show):
            show(exc, context=context)
        else:
            self.notify(visible(str(exc), limit=600), title=context, severity="error", markup=False)
        self.set_status(Content.assemble((f"{context}: ", "bold"), literal(str(exc), limit=400)), error=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # every expected failure is caught in the workers; this catches the unexpected ones
        route_worker_error(event, context="Lookup")

    # --- lookup ------------------------------------------------------------------------------------

    @on(Input.Submitted, "#lookup-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.lookup(event.value)

    def lookup(self, query: str) -> None:
        """Look `query` up (what Enter in the box does)."""
        query = query.strip()
        if not query:
            self.set_status(Content("Type a user id, device id, Amplitude id or email first.").stylize("dim"))
            return
        ws = self.workspace
        if ws is None:
            self.set_status("No connection: ctrl+o opens connection profiles.", error=True)
            return
        if self.asked_in_mixpanel(query):  # the box's vendor toggle (ctrl+t) is on Mixpanel
            return
        self.last_query = query
        self._hide_matches()
        if "amplitude" not in ws.connection.vendors:
            if "mixpanel" in ws.connection.vendors:
                self._remember(query)
                self._open(query, "mixpanel")
            else:
                self.set_status("This connection has no Amplitude credentials.", error=True)
            return
        self.run_lookup(query)

    @work(group="lookup", exclusive=True, exit_on_error=False)
    async def run_lookup(self, query: str, *, search: bool = True, note: Content | None = None) -> None:
        """`search=False` (a match chosen from a list, a redraw): the id is a user id, no search is spent.
        The tree is drawn after the first round trip and again after every hop of the chain."""
        tree = self.identity_tree
        amplitude = self.workspace.client.amplitude
        by = None if search else BY_USER
        self.set_status(Content.assemble(("Looking up ", "dim"), literal(query, limit=80), ("…", "dim")))
        tree.loading = True
        try:
            found = await look_up(amplitude, query, by=by,
                                  search_ahead=search_ahead_allowed(by, search_budget(self.workspace)),
                                  progress=lambda partial: self._show_found(partial, query, note))
        except Exception as exc:
            tree.show_message("Lookup failed – see the message above. Fix it and press Enter again.")
            self.query_one(NodeDetails).show(None)
            self._report(exc, "Lookup failed")
            return
        finally:
            tree.loading = False
            self._refresh_status()
        self.found = found
        resolution = found.resolution
        if resolution.search is not None:
            self._update_budget(resolution.search)
        if found.user_id is None or found.mappings is None or found.chain is None:
            self._show_unresolved(resolution)
            return
        self._show_found(found, query, note)

    def _show_found(self, found: Lookup, query: str, note: Content | None) -> None:
        """Draw a lookup's tree, side panel and status line: a partial one (`complete` False: the chain is
        still being followed) as soon as it is known, then the whole answer."""
        user_id, mappings, chain, tree = found.user_id, found.mappings, found.chain, self.identity_tree
        if user_id is None:
            return
        if found.resolution.search is not None and user_id != query:
            note = words.search_note(query, found.resolution)
        if mappings is None or chain is None:  # found by search, its own mappings still coming
            root, children = g.pending_nodes(user_id, found.amplitude_id)
        else:
            root, children = g.root_nodes(user_id, mappings, chain, found.learned, amplitude_id=found.amplitude_id)
        tree.loading = False
        tree.show_lookup(root, children, found)
        self.set_status(words.lookup_status(note, user_id, mappings, chain, complete=found.complete))
        self.query_one(NodeDetails).show(root)
        if found.complete:
            self.resolved_user = user_id
            self._drawn_at_journal = self._journal_size()
            self.call_after_refresh(self._remember, query)  # a file write: after the answer is drawn
            tree.focus()

    def _show_unresolved(self, resolution: Resolution) -> None:
        """No single user: say why (unknown, anonymous) or list the matches to choose from."""
        query = resolution.query
        if resolution.outcome == UNKNOWN:
            self.identity_tree.show_message("Nothing found.")
            self.query_one(NodeDetails).show(None)
            self.set_status(words.unknown_status(query), error=True)
            self.notify(words.unknown_notice(query), title="Unknown user", severity="warning", markup=False)
        elif resolution.outcome == ANONYMOUS:
            self.identity_tree.show_message("Anonymous user: no user id, so no mappings.")
            self.set_status(words.anonymous_status(query, resolution.amplitude_id))
        elif resolution.outcome == AMBIGUOUS:
            self._show_matches(query, resolution.matches, words.search_words(resolution))

    def _remember(self, query: str) -> None:
        if self.recent is not None:
            self.recent.add(query)

    # --- several matches ---------------------------------------------------------------------------

    def _show_matches(self, query: str, matches: tuple[SearchMatch, ...], how: str) -> None:
        self._matches = matches
        self._match_query = query
        options = self.query_one("#lookup-matches", OptionList)
        options.clear_options()
        options.add_options(
            Option(Content.assemble(literal(m.user_id or "", limit=80), (f"  #{m.amplitude_id}", "dim")),
                   id=f"match-{i}")
            for i, m in enumerate(matches)
        )
        options.display = True
        self.identity_tree.show_message("Several users match – choose one above.")
        self.set_status(words.matches_status(query, len(matches), how))
        options.highlighted = 0
        options.focus()

    def _hide_matches(self) -> None:
        options = self.query_one("#lookup-matches", OptionList)
        options.display = False
        options.clear_options()

    @on(OptionList.OptionSelected, "#lookup-matches")
    def _match_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        match = self._matches[event.option_index]
        query = self._match_query
        self._hide_matches()
        self.run_lookup(match.user_id or "", search=False, note=words.chosen_note(query, match.user_id or ""))

    # --- tree --------------------------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: IdentityTree.NodeHighlighted) -> None:
        self.query_one(NodeDetails).show(event.node.data)

    def on_identity_tree_node_loaded(self, event: IdentityTree.NodeLoaded) -> None:
        if self.identity_tree.cursor_node is event.tree_node:
            self.query_one(NodeDetails).show(event.tree_node.data)

    def on_identity_tree_open_profile(self, event: IdentityTree.OpenProfile) -> None:
        vendors = self.workspace.connection.vendors if self.workspace is not None else ()
        self._open(event.node.user_id, "amplitude" if "amplitude" in vendors else "mixpanel")

    def selected_id(self) -> str | None:
        node = self.identity_tree.cursor_node
        data = node.data if node is not None else None
        return data.user_id if data is not None and data.kind in (g.USER, g.CYCLE) else None

    # --- actions -----------------------------------------------------------------------------------

    def action_focus_input(self) -> None:
        box = self.query_one("#lookup-input", Input)
        box.focus()
        box.select_all()  # also when it already had focus: the next id replaces the last one

    def action_recent(self) -> None:
        items = self.recent.items if self.recent is not None else []

        def chosen(query: str | None) -> None:
            if query:
                self.query_one("#lookup-input", Input).value = query
                self.lookup(query)

        self.app.push_screen(RecentLookupsScreen(items), chosen)

    def action_copy_id(self) -> None:
        user_id = self.selected_id()
        if user_id is None:
            self.notify("Select a user in the tree first.", title="Nothing to copy", severity="warning",
                        markup=False)
            return
        copy_text(self.app, user_id, what="user id")

    def action_open_profile(self) -> None:
        self._open_selected("amplitude")

    def action_open_mixpanel(self) -> None:
        self._open_selected("mixpanel")

    def _selected_or_warn(self) -> str | None:
        user_id = self.selected_id()
        if user_id is None:
            self.notify("Select a user in the tree first.", title="No user selected", severity="warning",
                        markup=False)
        return user_id

    def action_stage_map(self) -> None:
        if (user_id := self._selected_or_warn()) is not None:
            staging_actions.stage_map(self.app, user_id)

    def action_stage_unmap(self) -> None:
        if (user_id := self._selected_or_warn()) is not None:
            staging_actions.stage_unmap(self.app, user_id)

    def _open_selected(self, vendor: str) -> None:
        if (user_id := self._selected_or_warn()) is not None:
            self._open(user_id, vendor)

    def _open(self, user_id: str, vendor: str) -> None:
        from idconsole.tui.screens.profile import ProfileScreen

        self.app.push_screen(ProfileScreen(user_id, vendor=vendor))

    def on_screen_resume(self) -> None:
        self._refresh_status()
        # a submit since the tree was drawn changed what it shows: draw it again from the server
        if self.resolved_user is not None and self._journal_size() != self._drawn_at_journal:
            self.run_lookup(self.resolved_user, search=False,
                            note=Content("Refreshed after a submit.").stylize("dim italic"))

    def _journal_size(self) -> int:
        """The journal only grows (append-only): its size tells whether anything was submitted."""
        try:
            return self.workspace.journal.path.stat().st_size
        except (AttributeError, OSError):
            return 0

    def _refresh_status(self) -> None:
        """Budgets changed: show them now (not at the status bar's next tick)."""
        self._update_budget()
        with contextlib.suppress(Exception):  # the status bar is the shell's; never fail over it
            self.query_one(StatusBar).refresh_status()

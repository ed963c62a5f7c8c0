"""The identity graph as it would be after the staged changes are submitted (nothing is sent or read).

Both faces show it from the same function: the Lookup screen's "after staged changes" preview (`a` in the
tree) and `idconsole lookup ID --after-staged`. The rules are the plan's: the staged entries are replayed
in order by `changes.plan_graph.MappingGraph.replay` (held and invalid changes skipped, a self-map refused,
only Amplitude map/unmap move an edge; identify and Mixpanel changes leave the graph as it is) on the
mappings the lookup read. This module only lays the replay's final targets over those answers.

What the lookup never read is not guessed: a staged user whose current mapping no answer shows is tagged
"(not read: staged)"; its old parent is unknown, and a target nobody read ends the chain (the tree loads it
when expanded and lays the same replay over it: `AfterState.after`).

Nodes that change are tagged by user id (`AfterState.changes`): added into a parent, moved from one, or
unmapped; users that leave a node are listed under it as notes, so nothing disappears silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idconsole.api.models import MappedUser, UserMappings
from idconsole.identity import graph as g

if TYPE_CHECKING:
    from idconsole.changes.staged import StagedEntry
    from idconsole.identity.lookup import Lookup

ADDED, MOVED, UNMAPPED = "added", "moved", "unmapped"
NOT_READ = "not read: staged"


@dataclass(frozen=True)
class NodeChange:
    """What the staged changes do to one user's own mapping (`before` None: not mapped, or not read)."""

    user_id: str
    kind: str
    before: str | None
    after: str | None
    #: False: no answer the lookup read shows where it maps now
    read: bool = True

    def describe(self, here: str | None = None, show: Callable[[str], str] = str) -> str:
        """Our words; `here` is the parent the node is listed under ("into here"), ids through `show`."""
        unread = f" ({NOT_READ})" if not self.read else ""
        if self.kind == UNMAPPED:
            was = f" (was → {show(self.before)})" if self.before is not None else ""
            return f"unmapped{was}{unread}"
        into = "here" if here is not None and here == self.after else show(self.after or "")
        if self.kind == MOVED and self.before is not None:
            return f"moved from {show(self.before)} into {into}"
        return f"added into {into}{unread}"

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "change": self.kind, "before": self.before, "after": self.after,
                "read": self.read, "text": self.describe()}


@dataclass(frozen=True)
class AfterState:
    """The after-state around `user_id`: every read answer with the staged maps/unmaps laid over it."""

    user_id: str
    #: staged changes the preview is after (held ones excluded: they are not sent)
    staged: int
    held: int
    #: user -> its final global id (None: unmapped), for every user a map/unmap touches
    targets: Mapping[str, str | None]
    changes: Mapping[str, NodeChange]
    #: what the lookup read, as it is now (the after-state is derived from it on demand)
    read: Mapping[str, UserMappings]
    amplitude_ids: Mapping[str, int]
    #: the plan's blocking words about the replayed changes (a cycle, a self-map, an invalid change)
    problems: tuple[str, ...] = ()
    _cache: dict[str, UserMappings] = field(default_factory=dict, compare=False, repr=False)

    def after(self, mappings: UserMappings) -> UserMappings:
        """One get-mappings answer (as read now) as it would be after the staged changes."""
        uid = mappings.user_id
        mapped_to = mappings.mapped_to
        if uid in self.targets:
            target = self.targets[uid]
            mapped_to = () if target is None else (self._user(target, mapped_to),)
        listed = {s.user_id for s in mappings.mapped_from}
        arriving = [self._user(u) for u, t in self.targets.items() if t == uid and u not in listed and u != uid]
        kept = [s for s in mappings.mapped_from if s.user_id not in self.targets or self.targets[s.user_id] == uid]
        if not arriving and len(kept) == len(mappings.mapped_from) and mapped_to is mappings.mapped_to:
            return mappings
        return UserMappings(uid, mapped_to, (*arriving, *kept))  # arrivals first: on the first page

    def mappings_of(self, user_id: str) -> UserMappings | None:
        """The after-state answer of a read id (None: never read)."""
        if user_id not in self._cache:
            current = self.read.get(user_id)
            if current is None:
                return None
            self._cache[user_id] = self.after(current)
        return self._cache[user_id]

    def answers(self) -> dict[str, UserMappings]:
        return {uid: m for uid in self.read if (m := self.mappings_of(uid)) is not None}

    @property
    def chain(self) -> g.Chain:
        return g.chain_from(self.user_id, self.answers())

    def touching(self) -> list[NodeChange]:
        """The changes this tree shows: of the user, its chain (now or after) and what maps into them, or
        into or out of an id of the chain (the changes of other lookups' trees are left out)."""
        around = {*self.chain.ids, *g.chain_from(self.user_id, self.read).ids}
        mentioned = set(around)
        for uid in around:
            for answer in (self.read.get(uid), self.mappings_of(uid)):
                if answer is not None:
                    mentioned.update(m.user_id for m in (*answer.mapped_to, *answer.mapped_from))
        return [c for c in self.changes.values()
                if c.user_id in mentioned or c.before in around or c.after in around]

    def leaving(self, parent: str, mappings: UserMappings | None = None) -> list[NodeChange]:
        """Users mapped into `parent` now that the staged changes take away from it."""
        current = mappings if mappings is not None else self.read.get(parent)
        if current is None:
            return []
        return [self.changes[s.user_id] for s in current.mapped_from
                if s.user_id in self.changes and self.targets.get(s.user_id) != parent]

    def root_nodes(self, *, page_size: int = g.PAGE_SIZE) -> tuple[g.IdNode, list[g.IdNode]]:
        """The tree's root and children in the after-state (the same node types the tree draws)."""
        answers = self.answers()
        mappings = answers.get(self.user_id, UserMappings(self.user_id))
        root, children = g.root_nodes(self.user_id, mappings, g.chain_from(self.user_id, answers), answers,
                                      amplitude_id=self.amplitude_ids.get(self.user_id), page_size=page_size)
        notes = self._leaving_notes(self.user_id, self.read.get(self.user_id))
        if notes:
            group = next((c for c in children if c.kind == g.GROUP and c.title == "mapped from"), None)
            if group is None:
                children = [c for c in children if c.kind != g.NOTE]
                group = g.IdNode(g.GROUP, self.user_id, title="mapped from", count=0)
                children.append(group)
            group.children.extend(notes)
        return root, children

    def expand_nodes(self, node: g.IdNode, current: UserMappings, *, page_size: int = g.PAGE_SIZE) -> list[g.IdNode]:
        """A user node's children in the after-state, from its answer as read now."""
        children = g.expand_nodes(node, self.after(current), page_size=page_size)
        notes = self._leaving_notes(node.user_id, current)
        if notes:
            children = [c for c in children if c.kind != g.NOTE or c.title != "nothing else is mapped into it"]
        return [*children, *notes]

    def _leaving_notes(self, parent: str, current: UserMappings | None) -> list[g.IdNode]:
        return [g.IdNode(g.NOTE, change.user_id, title=f"leaves: {change.user_id}, {change.describe(parent)}")
                for change in self.leaving(parent, current)]

    def _user(self, user_id: str, known: Sequence[MappedUser] = ()) -> MappedUser:
        for entry in known:
            if entry.user_id == user_id:
                return entry
        return MappedUser(user_id, self.amplitude_ids.get(user_id))

    def to_json(self) -> dict[str, Any]:
        """What `lookup --json --after-staged` adds under `"after_staged"`."""
        mappings = self.mappings_of(self.user_id) or UserMappings(self.user_id)
        chain = self.chain
        return {
            **mappings.to_json(),
            "chain": list(chain.ids),
            "cycle": chain.cycle_to is not None,
            "staged": self.staged,
            "held": self.held,
            "changes": [c.to_json() for c in self.touching()],
            "problems": list(self.problems),
            "sent": False,
        }


def current_targets(read: Mapping[str, UserMappings]) -> dict[str, str | None]:
    """user -> global id now, as far as the answers show it: an id's own answer first, else the answer of
    the id it is listed under (`mapped_from`). An id no answer mentions is left out (not read)."""
    current: dict[str, str | None] = {}
    for uid, answer in read.items():
        for source in answer.mapped_from:
            if source.user_id not in read:
                current.setdefault(source.user_id, uid)
    for uid, answer in read.items():
        current[uid] = answer.global_user_id
    return current


def _amplitude_ids(read: Mapping[str, UserMappings]) -> dict[str, int]:
    """Every Amplitude id the answers mention (one pass, a big mapped_from included)."""
    found: dict[str, int] = {}
    for answer in read.values():
        for entry in (*answer.mapped_to, *answer.mapped_from):
            if entry.amplitude_id is not None:
                found.setdefault(entry.user_id, entry.amplitude_id)
    return found


def after_staged(user_id: str, read: Mapping[str, UserMappings], entries: Sequence[StagedEntry],
                 *, amplitude_id: int | None = None) -> AfterState:
    """The after-state around `user_id`, given every answer read (`read`) and the staged entries in order.
    The replay is the plan's own (`MappingGraph.replay`): the same skips, the same order, the same
    blocking problems."""
    from idconsole.changes.plan_context import PlanContext
    from idconsole.changes.plan_graph import MappingGraph
    from idconsole.changes.plan_types import BLOCKING

    graph = MappingGraph()
    graph.current = current_targets(read)
    for uid, target in graph.current.items():
        if target is not None:
            graph.inbound[target].add(uid)
    for uid, answer in read.items():
        graph.inbound[uid].update(s.user_id for s in answer.mapped_from)
    ctx = PlanContext(list(entries))
    graph.replay(ctx)

    changes: dict[str, NodeChange] = {}
    for uid, target in graph.after.items():
        known = uid in graph.current
        before = graph.current.get(uid)
        if known and before == target:
            continue  # a no-op, or changes that cancel out
        kind = UNMAPPED if target is None else MOVED if before is not None else ADDED
        changes[uid] = NodeChange(uid, kind, before, target, read=known)
    amplitude_ids = _amplitude_ids(read)
    if amplitude_id is not None:
        amplitude_ids[user_id] = amplitude_id
    held = sum(1 for e in entries if e.held)
    problems = tuple(w.message for w in ctx.warnings if w.severity == BLOCKING)
    return AfterState(user_id, len(entries) - held, held, dict(graph.after), changes, dict(read),
                      amplitude_ids, problems)


def lookup_after_staged(found: Lookup, entries: Sequence[StagedEntry],
                        also_read: Mapping[str, UserMappings] | None = None) -> AfterState | None:
    """The after-state of a lookup that found one user (None otherwise); `also_read`: answers read since
    (the tree's expanded nodes)."""
    if found.user_id is None or found.mappings is None:
        return None
    read = {**found.learned, **(also_read or {}), found.user_id: found.mappings}
    return after_staged(found.user_id, read, entries, amplitude_id=found.amplitude_id)


def preview_words(state: AfterState) -> str:
    """The line above the preview: what it is after, and that nothing was sent."""
    s = "" if state.staged == 1 else "s"
    text = f"Preview: after {state.staged} staged change{s} (nothing sent)"
    if state.held:
        text += f", {state.held} held back"
    if state.problems:
        text += f" — the plan would block: {len(state.problems)} problem{'' if len(state.problems) == 1 else 's'}"
    return text

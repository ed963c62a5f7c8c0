"""The identity graph as data: the chain upward and the tree the Lookup screen shows, without any Textual.

Amplitude's get-mappings answers one hop at a time: for an id, what it is mapped into (`mapped_to`, at
most one id in practice) and what is mapped into it (`mapped_from`, possibly thousands). This module
turns those answers into tree nodes:

- the chain upward from the looked-up user (A → B → C), followed one request per hop, stopped at a
  cycle (A → B → A, or a self-map A → A) or after `MAX_CHAIN_HOPS`;
- children added in pages (`PAGE_SIZE`) with a "show more (N remaining)" node;
- cycle markers instead of nodes for ids already shown above on the same branch, so expanding never
  recurses forever.

Cost: a big `mapped_from` (100,000 ids) is walked once per answer (`distinct_sources`, remembered for
the answer); drawing, counting and paging after that cost one page, never the whole list.

Nothing here renders text: ids stay raw strings; the widgets make them literal and visible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from idconsole.api.models import MappedUser, UserMappings

PAGE_SIZE = 200
MAX_CHAIN_HOPS = 25

#: Node kinds
USER = "user"    # one user id (expandable: its own mappings load lazily)
GROUP = "group"  # a heading: "maps into", "mapped from"
MORE = "more"    # "show more (N remaining)"
CYCLE = "cycle"  # an id already shown above on this branch: a marker, never followed
NOTE = "note"    # a line of explanation (no mappings, chain stopped, ...)

#: User node roles
ROOT = "root"
CHAIN = "chain"  # a step of the chain upward from the root (root maps into it, directly or not)
FROM = "from"    # mapped into its parent

Fetch = Callable[[Sequence[str]], Awaitable[Mapping[str, UserMappings]]]
#: told the chain known so far (its end still being fetched) and every mapping learned, before each hop
OnHop = Callable[["Chain", Mapping[str, UserMappings]], None]

# ---------------------------------------------------------------------------------------------------
# Chains


@dataclass(frozen=True)
class Chain:
    """`start` maps into steps[0], which maps into steps[1], ... ."""

    start: str
    steps: tuple[MappedUser, ...] = ()
    #: the id the last step maps into that is already in the chain (a cycle), else None
    cycle_to: str | None = None
    #: stopped after MAX_CHAIN_HOPS with more to follow
    truncated: bool = False
    #: a partial chain shown early: what its end maps into is still being fetched
    following: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.start, *(s.user_id for s in self.steps))

    @property
    def is_chain(self) -> bool:
        """More than one hop (A → B → C): Amplitude resolves nothing transitively, worth a warning."""
        return len(self.steps) > 1

    @property
    def end(self) -> str:
        return self.ids[-1]

    def describe(self, shorten: Callable[[str], str] = lambda s: s) -> str:
        text = " → ".join(shorten(i) for i in self.ids)
        if self.cycle_to is not None:
            text += f" → {shorten(self.cycle_to)} ↻"
        elif self.truncated or self.following:
            text += " → …"
        return text


def chain_from(start: str, known: Mapping[str, UserMappings], *, max_hops: int = MAX_CHAIN_HOPS) -> Chain:
    """Follow `mapped_to` from `start` through `known` only (stops where an answer is missing)."""
    steps: list[MappedUser] = []
    seen = {start}
    current = start
    while True:
        entry = known.get(current)
        if entry is None or not entry.mapped_to:
            return Chain(start, tuple(steps))
        target = entry.mapped_to[0]
        if target.user_id in seen:
            return Chain(start, tuple(steps), cycle_to=target.user_id)
        if len(steps) >= max_hops:
            return Chain(start, tuple(steps), truncated=True)
        steps.append(target)
        seen.add(target.user_id)
        current = target.user_id


async def follow_chain(
    start: str,
    fetch: Fetch,
    *,
    known: Mapping[str, UserMappings] | None = None,
    max_hops: int = MAX_CHAIN_HOPS,
    on_hop: OnHop | None = None,
) -> tuple[Chain, dict[str, UserMappings]]:
    """Follow the chain upward, fetching one hop at a time what `known` lacks. Returns the chain and
    every mapping learned (including `known`). Never loops: a cycle or `max_hops` ends it. `on_hop`
    is told the partial chain (`following`) before each fetch, so a face can draw it meanwhile."""
    learned: dict[str, UserMappings] = dict(known or {})
    for _ in range(max_hops + 2):
        chain = chain_from(start, learned, max_hops=max_hops)
        missing = chain.end
        if chain.cycle_to is not None or chain.truncated or missing in learned:
            return chain, learned
        asked = asyncio.ensure_future(fetch([missing]))
        if on_hop is not None:
            try:
                await asyncio.sleep(0)  # let the request leave before the partial chain is drawn
                on_hop(replace(chain, following=True), learned)
            except BaseException:
                asked.cancel()
                raise
        answer = await asked
        learned.update(answer)
        learned.setdefault(missing, UserMappings(missing))
    return chain_from(start, learned, max_hops=max_hops), learned


# ---------------------------------------------------------------------------------------------------
# Tree nodes


@dataclass
class IdNode:
    """What one tree node stands for. Mutable: a user node fills `mappings` when it is expanded."""

    kind: str
    user_id: str = ""
    amplitude_id: int | None = None
    role: str = ""
    #: user ids shown above this node on its branch (cycle detection)
    path: tuple[str, ...] = ()
    #: the id this node was reached from (that edge is not repeated among its children)
    via: str | None = None
    mappings: UserMappings | None = None
    #: GROUP: heading; NOTE: text (our words; ids inside are raw)
    title: str = ""
    #: GROUP: how many entries it stands for (None: not a counted group)
    count: int | None = None
    #: GROUP: nodes built already (the widget adds them under the heading)
    children: list[IdNode] = field(default_factory=list)
    #: MORE: what is not shown yet, and how to build it
    remaining: tuple[MappedUser, ...] = ()
    #: CHAIN steps / root: the chain upward from the looked-up user
    chain: Chain | None = None
    #: CYCLE: why ("already shown above", "maps into itself")
    reason: str = ""

    @property
    def is_user(self) -> bool:
        return self.kind == USER

    @property
    def loaded(self) -> bool:
        return self.mappings is not None

    @property
    def expandable(self) -> bool:
        if self.kind == GROUP:
            return bool(self.children)
        return self.kind == USER and self.role != ROOT

    @property
    def mapped_to(self) -> tuple[MappedUser, ...] | None:
        """What it maps into, if known: loaded mappings, or the parent it was listed under."""
        if self.mappings is not None:
            return self.mappings.mapped_to
        if self.role == FROM and self.via is not None:
            return (MappedUser(self.via),)
        return None


def user_nodes(
    sources: Sequence[MappedUser],
    *,
    parent_path: tuple[str, ...],
    parent_id: str,
    page_size: int = PAGE_SIZE,
) -> list[IdNode]:
    """Nodes for users mapped into `parent_id`: one page, cycle markers for ids shown above, and a
    MORE node for the rest."""
    nodes: list[IdNode] = []
    for source in sources[:page_size]:
        if source.user_id == parent_id:
            nodes.append(IdNode(CYCLE, source.user_id, source.amplitude_id, reason="maps into itself"))
        elif source.user_id in parent_path:
            nodes.append(IdNode(CYCLE, source.user_id, source.amplitude_id, reason="already shown above"))
        else:
            nodes.append(
                IdNode(
                    USER,
                    source.user_id,
                    source.amplitude_id,
                    role=FROM,
                    path=(*parent_path, parent_id),
                    via=parent_id,
                )
            )
    rest = tuple(sources[page_size:])
    if rest:
        nodes.append(
            IdNode(MORE, parent_id, path=parent_path, remaining=rest, count=len(rest), via=parent_id)
        )
    return nodes


def next_page(more: IdNode, *, page_size: int = PAGE_SIZE) -> list[IdNode]:
    """The nodes that replace a MORE node: the next page (and a new MORE node if still more)."""
    return user_nodes(more.remaining, parent_path=more.path, parent_id=more.user_id, page_size=page_size)


def _dedupe(entries: Iterable[MappedUser]) -> list[MappedUser]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            out.append(entry)
    return out


#: answers at least this long are remembered by `distinct_sources` (shorter ones cost less than a lookup)
_REMEMBER_FROM = PAGE_SIZE
#: how many big answers are remembered (the one on screen and the one before it)
_REMEMBER = 2
_remembered: list[tuple[Sequence[MappedUser], Sequence[MappedUser]]] = []


def distinct_sources(entries: Sequence[MappedUser]) -> Sequence[MappedUser]:
    """`entries` without repeated user ids (the first kept), `entries` itself when none repeats. A big
    answer is walked once: the tree, the status line and the side panel all count and page the same
    `mapped_from`, so the result is remembered for that very tuple (by identity, not by value)."""
    for seen, distinct in _remembered:
        if seen is entries:
            return distinct
    ids = {entry.user_id for entry in entries}
    result: Sequence[MappedUser] = entries if len(ids) == len(entries) else tuple(_dedupe(entries))
    if len(entries) >= _REMEMBER_FROM:
        _remembered.insert(0, (entries, result))
        del _remembered[_REMEMBER:]
    return result


def distinct_count(mappings: UserMappings) -> int:
    """How many different ids are mapped into the user (one walk per answer, see `distinct_sources`)."""
    return len(distinct_sources(mappings.mapped_from))


def root_nodes(
    user_id: str,
    mappings: UserMappings,
    chain: Chain,
    learned: Mapping[str, UserMappings] | None = None,
    *,
    amplitude_id: int | None = None,
    page_size: int = PAGE_SIZE,
) -> tuple[IdNode, list[IdNode]]:
    """The root node and its children: a "maps into" group (the chain, step by step) and a
    "mapped from" group (one page of what maps into the root), or a note that there are no mappings."""
    learned = learned or {}
    if amplitude_id is None:
        amplitude_id = _amplitude_id_of(user_id, mappings, {user_id: mappings, **learned})
    root = IdNode(USER, user_id, amplitude_id, role=ROOT, mappings=mappings, chain=chain)
    children: list[IdNode] = []
    shown = chain.ids  # the root and every chain step appear above anything listed under the root

    if chain.steps or chain.cycle_to is not None:
        group = IdNode(GROUP, user_id, title="maps into", chain=chain, count=len(chain.steps))
        previous = user_id
        for step in chain.steps:
            group.children.append(
                IdNode(
                    USER,
                    step.user_id,
                    step.amplitude_id,
                    role=CHAIN,
                    # the whole chain is on screen: none of it is listed again under a step
                    path=tuple(i for i in shown if i != step.user_id),
                    via=previous,
                    mappings=learned.get(step.user_id),
                    chain=chain,
                )
            )
            previous = step.user_id
        if chain.cycle_to is not None:
            reason = "maps into itself" if chain.cycle_to == previous else "already shown above"
            group.children.append(
                IdNode(CYCLE, chain.cycle_to, _amplitude_id_of(chain.cycle_to, mappings, learned),
                       reason=reason, path=shown)
            )
        elif chain.truncated:
            group.children.append(
                IdNode(NOTE, title=f"chain continues: stopped after {MAX_CHAIN_HOPS} hops")
            )
        children.append(group)

    sources = distinct_sources(mappings.mapped_from)
    if sources:
        group = IdNode(GROUP, user_id, title="mapped from", count=len(sources))
        group.children = user_nodes(sources, parent_path=tuple(i for i in shown if i != user_id),
                                    parent_id=user_id, page_size=page_size)
        children.append(group)

    if not children:
        children.append(IdNode(NOTE, title="no mappings: not mapped into any id, and no id is mapped into it"))
    return root, children


def pending_nodes(user_id: str, amplitude_id: int | None = None) -> tuple[IdNode, list[IdNode]]:
    """The root of a user search found, drawn while its own mappings are still being asked."""
    return (IdNode(USER, user_id, amplitude_id, role=ROOT),
            [IdNode(NOTE, title="found by search: asking for its mappings…")])


def expand_nodes(node: IdNode, mappings: UserMappings, *, page_size: int = PAGE_SIZE) -> list[IdNode]:
    """Children of a user node once its own mappings are known (lazy expansion)."""
    node.mappings = mappings
    children: list[IdNode] = []
    path = node.path
    # what it maps into, unless that is the edge we came along or the chain already shows it
    if node.role == FROM:
        for target in mappings.mapped_to:
            if target.user_id == node.via:
                continue
            if target.user_id == node.user_id:
                children.append(IdNode(CYCLE, target.user_id, target.amplitude_id, reason="maps into itself"))
            elif target.user_id in path:
                children.append(
                    IdNode(CYCLE, target.user_id, target.amplitude_id, reason="already shown above (maps into it)")
                )
            else:
                children.append(
                    IdNode(NOTE, title=f"now maps into {target.user_id} (changed since the parent was loaded)")
                )
    sources = [s for s in distinct_sources(mappings.mapped_from) if s.user_id != node.via]
    children.extend(user_nodes(sources, parent_path=path, parent_id=node.user_id, page_size=page_size))
    if not children:
        children.append(IdNode(NOTE, title="nothing else is mapped into it"))
    return children


def _amplitude_id_of(user_id: str, mappings: UserMappings, learned: Mapping[str, UserMappings]) -> int | None:
    """Amplitude ids come from the other side of an edge: look for `user_id` in what maps into or from it.
    The short lists first (every `mapped_to`, then the answer of what it maps into); a long `mapped_from`
    is read only as a last resort, and never the user's own (it does not list the user itself)."""
    for entry in learned.values():
        for other in entry.mapped_to:
            if other.user_id == user_id and other.amplitude_id is not None:
                return other.amplitude_id
    own = learned.get(user_id, mappings)
    first = [t.user_id for t in (*own.mapped_to, *mappings.mapped_to) if t.user_id in learned]
    rest = [k for k in learned if k != user_id and k not in first]
    for key in dict.fromkeys((*first, *rest)):
        for other in learned[key].mapped_from:
            if other.user_id == user_id and other.amplitude_id is not None:
                return other.amplitude_id
    return None


def amplitude_id_from(user_id: str, *answers: Mapping[str, UserMappings]) -> int | None:
    """The Amplitude id of `user_id` as any get-mappings answer mentions it."""
    for answer in answers:
        found = _amplitude_id_of(user_id, UserMappings(user_id), answer)
        if found is not None:
            return found
    return None

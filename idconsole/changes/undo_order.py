"""The order an undo restores mappings in, so that no step of it closes a mapping cycle.

Pure data, no server: `order_restore(targets, state)` takes the mapping each user must get back
(`targets`: user -> global id, None = unmapped) and every mapping known now (`state`: id -> global id
or None; the users in `targets` must be in it). An id missing from `state` is *opaque*: it may be
mapped somewhere, but nobody knows where; it is never changed by the undo.

The rule (each step is checked by following mappings from the step's target, as the plan does):

1. **Unmaps first.** Removing a mapping never closes a cycle, and it frees every user it pointed at.
2. **Re-pointings** (a user mapped now, to be mapped elsewhere) next, one at a time, each only when it is
   provably safe: following mappings from its target ends without reaching the user (at an unmapped
   id or on a loop elsewhere) without leaving the known graph — or, when the walk does leave it, no
   other re-pointing is still pending (then nothing beyond the known graph can lead back: what lies
   there holds before-state mappings only, and the before-state had no cycle through the user).
   Among safe ones, the lowest in the before-state graph goes first. When none is provably safe, every
   pending re-pointing but one is *split*: unmapped in step 1 and mapped back in step 3.
3. **Maps** of users unmapped now, in increasing height in the before-state graph (a user's target gets
   its own mapping back before anyone is mapped into it). At that point every id holds either its
   before-state mapping or none, so a map could reach the user again only if the before-state had
   that cycle itself.

A user whose mapping back would re-close a cycle the before-state had (as far as it is known) is left
as it is (`cycles`): the plan refuses cycles, and unmapping it instead would be no undo either.

So no step closes a cycle (the plan's blocking check), and every chain a step creates is one the
before-state has — except that a re-pointing may for a moment point into a user whose own mapping is
not back yet (the plan warns of that chain; it is gone by the last step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: how far a walk follows mappings before it gives up (the plan follows fewer hops)
WALK_LIMIT = 200

_ENDS, _LOOP, _REACHES, _OPAQUE = "ends", "loop", "reaches", "opaque"


@dataclass(frozen=True)
class Step:
    """Set `user_id`'s mapping to `target` (None = unmap)."""

    user_id: str
    target: str | None


@dataclass
class RestoreOrder:
    steps: list[Step] = field(default_factory=list)
    #: re-pointings sent as "unmap, then map back" because no safe direct order could be proven
    split: list[str] = field(default_factory=list)
    #: users left out: mapping them back would close a cycle the before-state itself had
    cycles: list[str] = field(default_factory=list)


def order_restore(targets: Mapping[str, str | None], state: Mapping[str, str | None]) -> RestoreOrder:
    """The steps that take `state` to `targets` (see the module docstring for the rule). Users already
    at their target get no step. Ties keep the order of `targets`."""
    now: dict[str, str | None] = dict(state)
    for user in targets:
        now.setdefault(user, None)
    rank = {user: i for i, user in enumerate(targets)}
    pending = [u for u in targets if now[u] != targets[u]]
    final = {**now, **{u: targets[u] for u in pending}}
    result = RestoreOrder()
    # a cycle of the before-state is not re-closed: one user on it stays as it is, preferably one that
    # is unmapped now (keeping a mapping could close a cycle of its own with the others)
    while True:
        looped = next((u for u in pending if _walk(final, final[u], u) == _REACHES), None)
        if looped is None:
            break
        on_cycle = [looped, *_path(final, final[looped], looped)]
        left = next((u for u in on_cycle if u in pending and now[u] is None), looped)
        result.cycles.append(left)
        pending.remove(left)
        final[left] = now[left]
    height = _heights(final, pending)
    by_height = sorted(pending, key=lambda u: (height[u], rank[u]))

    # 1. unmaps (split re-pointings join them, below)
    unmaps = [u for u in pending if targets[u] is None]
    for user in unmaps:
        now[user] = None
    # 2. re-pointings, while each can be proven safe
    repoints = [u for u in by_height if now[u] is not None]
    direct: list[Step] = []
    while repoints:
        waiting = set(repoints)
        for user in list(repoints):
            verdict = _walk(now, targets[user], user)
            if verdict == _REACHES or (verdict == _OPAQUE and len(waiting) > 1):
                continue
            direct.append(Step(user, targets[user]))
            now[user] = targets[user]
            waiting.discard(user)
        if len(waiting) == len(repoints):  # stuck: split all but one that leaves the known graph
            survivor = next((u for u in repoints if _walk(now, targets[u], u) == _OPAQUE), None)
            for user in repoints:
                if user != survivor:
                    result.split.append(user)
                    now[user] = None
            waiting = {survivor} if survivor is not None else set()
        repoints = [u for u in repoints if u in waiting]
    # 3. maps into place, lowest first
    maps: list[Step] = []
    for user in by_height:
        if now[user] is not None or targets[user] is None:
            continue
        maps.append(Step(user, targets[user]))
        now[user] = targets[user]

    split_first = sorted(result.split, key=rank.__getitem__)
    result.split = split_first
    result.steps = [Step(u, None) for u in unmaps] + [Step(u, None) for u in split_first] + direct + maps
    return result


def _walk(graph: Mapping[str, str | None], start: str | None, user: str) -> str:
    """Follow mappings from `start`: `reaches` `user`, `ends` at an unmapped id, runs into a `loop`
    elsewhere, or reaches an `opaque` id whose mapping is not known."""
    node = start
    seen: set[str] = set()
    for _ in range(WALK_LIMIT):
        if node is None:
            return _ENDS
        if node == user:
            return _REACHES
        if node in seen:
            return _LOOP
        if node not in graph:
            return _OPAQUE
        seen.add(node)
        node = graph[node]
    return _OPAQUE  # too long to tell: treat it like an id whose mapping is not known


def _path(graph: Mapping[str, str | None], start: str | None, user: str) -> list[str]:
    """The ids from `start` up to (not including) `user`, on a walk known to reach it."""
    path: list[str] = []
    node = start
    while node is not None and node != user and len(path) < WALK_LIMIT:
        path.append(node)
        node = graph.get(node)
    return path


def _heights(graph: Mapping[str, str | None], users: list[str]) -> dict[str, int]:
    """How many known mappings lead on from each user in `graph`: 0 for an unmapped or opaque id, one
    more than its target for a mapped one; a user on a loop (or a walk too long to tell) sorts last."""
    memo: dict[str, int] = {}
    for user in users:
        path: list[str] = []
        index: dict[str, int] = {}
        node: str | None = user
        base = 0
        while node is not None:
            if node in memo:
                base = memo[node]
                break
            if graph.get(node) is None:  # unmapped, or not known
                break
            if node in index or len(path) >= WALK_LIMIT:
                loop = path[index.get(node, 0):]
                for item in loop:
                    memo[item] = WALK_LIMIT
                path = path[: len(path) - len(loop)]
                base = WALK_LIMIT
                break
            index[node] = len(path)
            path.append(node)
            node = graph[node]
        for item in reversed(path):
            base += 1
            memo[item] = base
    return {u: memo.get(u, 0) for u in users}

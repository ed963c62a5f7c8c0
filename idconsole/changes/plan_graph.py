"""The identity graph a plan works on: read the current Amplitude mappings of every id involved
(batched, following chains a few hops), then replay the staged maps and unmaps on it in order — each
change's effect, and the chains, cycles, no-ops, replacements and cancellations it would make."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.plan_context import PlanContext
from idconsole.changes.plan_types import BLOCKING, INFO, WARNING, Effect

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

#: how many hops of existing mappings the plan follows to find chains and cycles
CHAIN_LOOKUP_ROUNDS = 4


class MappingGraph:
    def __init__(self) -> None:
        #: user -> global id now (None: not mapped), for every id read
        self.current: dict[str, str | None] = {}
        #: global id -> users mapped into it now
        self.inbound: dict[str, set[str]] = defaultdict(set)
        self.effects: dict[str, list[Effect]] = defaultdict(list)
        self.before: dict[str, str | None] = {}
        self.after: dict[str, str | None] = {}

    async def read(self, ws: Workspace, ctx: PlanContext) -> None:
        """The current mappings of every id the staged maps/unmaps touch, following targets upward."""
        mapping_changes = [c for c in ctx.valid_sendable if c.op in (model.MAP, model.UNMAP)]
        if not mapping_changes or ws.connection.amplitude is None:
            return
        wanted: set[str] = set()
        for change in mapping_changes:
            wanted.update(i for i in change.ids if i)
        looked: set[str] = set()
        for _ in range(CHAIN_LOOKUP_ROUNDS):
            batch = sorted(wanted - looked)
            if not batch:
                break
            result = await ws.client.amplitude.get_mappings(batch)
            looked.update(batch)
            follow: set[str] = set()
            for uid in batch:
                um = result.get(uid)
                target = um.global_user_id if um is not None else None
                self.current[uid] = target
                if um is not None:
                    for src in um.mapped_from:
                        self.inbound[uid].add(src.user_id)
                if target is not None and target not in looked:
                    follow.add(target)
            wanted = follow
        for uid, target in list(self.current.items()):
            if target is not None:
                self.inbound[target].add(uid)

    def replay(self, ctx: PlanContext) -> None:
        """Apply the staged maps/unmaps in order to a copy of the graph: effects, chains, cycles."""
        sim = dict(self.current)
        inbound = {k: set(v) for k, v in self.inbound.items()}
        last_map_change: dict[str, Change] = {}
        seen: dict[tuple[Any, ...], Change] = {}
        for entry in ctx.entries:
            change = entry.change
            key = change.content_key()
            if key in seen and not entry.held:
                first = seen[key]
                extra = " — it would be applied twice" if not change.idempotent else ""
                ctx.warn("duplicate", WARNING,
                          f"changes {ctx.n(first)} and {ctx.n(change)} are the same: {change.description()}{extra}",
                          [first, change])
            seen.setdefault(key, change)
            if entry.held or change.id in ctx.invalid or change.op not in (model.MAP, model.UNMAP):
                continue
            u = change.user_id
            old = sim.get(u)
            prev = last_map_change.get(u)
            if change.op == model.MAP:
                g = change.target_id or ""
                if prev is not None and prev.op == model.MAP:
                    ctx.warn("cancels", WARNING,
                              f"change {ctx.n(change)} overrides staged change {ctx.n(prev)} ({prev.description()})",
                              [prev, change])
                if u == g:
                    ctx.warn("self_map", BLOCKING, f"change {ctx.n(change)} maps {u} to itself", [change])
                    continue
                if old == g:
                    ctx.warn("no_op", INFO, f"change {ctx.n(change)}: {u} is already mapped to {g}", [change])
                elif old is not None:
                    ctx.warn("replaces_mapping", WARNING,
                              f"change {ctx.n(change)} replaces the existing mapping {u} → {old} with {u} → {g}",
                              [change])
                path = walk(sim, g, stop=u)
                if path is None:
                    ctx.warn("chain", WARNING,
                              f"change {ctx.n(change)} maps {u} into {g}, which is on an existing mapping cycle",
                              [change])
                elif path[-1] == u:
                    shown = " → ".join([u, *path])
                    ctx.warn("cycle", BLOCKING, f"change {ctx.n(change)} would create the cycle {shown}", [change])
                elif len(path) > 1:
                    shown = " → ".join([u, *path])
                    ctx.warn("chain", WARNING,
                              f"change {ctx.n(change)} creates the chain {shown}: {g} is itself mapped", [change])
                srcs = sorted(inbound.get(u, set()) - {u})
                if srcs:
                    shown = ", ".join(srcs[:3]) + (f" and {len(srcs) - 3} more" if len(srcs) > 3 else "")
                    ctx.warn("chain", WARNING,
                              f"change {ctx.n(change)} creates a chain: {shown} → {u} → {g} ({u} has users mapped into it)",
                              [change])
                if old is not None:
                    inbound.get(old, set()).discard(u)
                sim[u] = g
                inbound.setdefault(g, set()).add(u)
                self.effects[change.id].append(Effect(u, old, g))
            else:
                if prev is not None and prev.op == model.MAP:
                    ctx.warn("cancels", WARNING,
                              f"change {ctx.n(change)} (unmap {u}) cancels staged change {ctx.n(prev)} ({prev.description()})",
                              [prev, change])
                if old is None and u in self.current:
                    ctx.warn("no_op", INFO, f"change {ctx.n(change)}: {u} is not mapped; unmap does nothing", [change])
                if old is not None:
                    inbound.get(old, set()).discard(u)
                sim[u] = None
                self.effects[change.id].append(Effect(u, old, None))
            self.before.setdefault(u, self.current.get(u))
            self.after[u] = sim.get(u)
            last_map_change[u] = change

    def users(self) -> dict[str, dict[str, Any]]:
        """Users whose global id the plan touches: user -> {"before", "after"}."""
        return {u: {"before": self.before.get(u), "after": self.after.get(u)} for u in self.after}


def walk(graph: dict[str, str | None], start: str, *, stop: str | None, limit: int = 50) -> list[str] | None:
    """The path start → graph[start] → ... until it ends, reaches `stop`, or loops (None on a loop
    that does not contain `stop`)."""
    path = [start]
    seen = {start}
    node = start
    while len(path) <= limit:
        if node == stop:
            return path
        nxt = graph.get(node)
        if nxt is None:
            return path
        if nxt in seen:
            return None
        seen.add(nxt)
        path.append(nxt)
        node = nxt
    return path

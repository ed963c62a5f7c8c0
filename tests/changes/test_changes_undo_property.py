"""Property: for any set of maps and unmaps the plan lets through, undoing it plans without a blocking
problem and puts back exactly the mappings recorded before it — first on plain data (many cases, the
ordering rule alone), then against the served sandbox (apply, undo, apply)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sandbox_helpers import SandboxServer
from test_changes_undo import mappings_of, replay, workspace_on

from idconsole.changes import BLOCKING, Change, build_plan, undo, undo_with_lookup
from idconsole.changes import apply as apply_plan
from idconsole.changes.undo_order import order_restore

IDS = [f"undo-prop-{i}" for i in range(5)]  # no demo id starts like this
RATE = (100_000, 1.0)  # the server's and the client's usermap budget: the test is about order, not pace

pair = st.tuples(st.integers(0, len(IDS) - 1), st.integers(0, len(IDS) - 1)).filter(lambda p: p[0] != p[1])
#: an entry: ("map", user, target) or ("unmap", user, user)
operation = st.tuples(st.sampled_from(["map", "map", "unmap"]), pair)


def closes_cycle(world: dict[str, str | None], user: str, target: str) -> bool:
    node, seen = target, set()
    while node is not None and node not in seen:
        if node == user:
            return True
        seen.add(node)
        node = world.get(node)
    return False


def build_world(pairs: list[tuple[int, int]], *, allow_cycles: bool = False) -> dict[str, str | None]:
    """The mappings before the entry: the pairs in order, each skipped if it would close a cycle."""
    world: dict[str, str | None] = {}
    for u, g in pairs:
        if allow_cycles or not closes_cycle(world, IDS[u], IDS[g]):
            world[IDS[u]] = IDS[g]
    return world


def run_entry(world: dict[str, str | None], ops: list[tuple[str, tuple[int, int]]]):
    """(after-state, the entry's changes in order, previous mapping of each user), or None when the
    entry would close a cycle (its plan blocks it: never applied)."""
    now = dict(world)
    changes: list[tuple[str, str | None]] = []
    for kind, (u, g) in ops:
        user, target = IDS[u], (IDS[g] if kind == "map" else None)
        if target is not None and closes_cycle(now, user, target):
            return None
        now[user] = target
        changes.append((user, target))
    previous = {user: world.get(user) for user, _ in changes}
    return now, changes, previous


# --- the ordering rule on plain data: hundreds of cases in a second -------------------------------


@settings(max_examples=400, deadline=None)
@given(setup=st.lists(pair, max_size=6), ops=st.lists(operation, min_size=1, max_size=6),
       known=st.booleans(), cycles=st.booleans())
def test_order_restore_never_closes_a_cycle_and_ends_at_the_before_state(setup, ops, known, cycles):
    world = build_world(setup, allow_cycles=cycles and known)
    entry = run_entry(world, ops)
    assume(entry is not None)
    after, _, previous = entry
    targets = {u: b for u, b in previous.items() if after.get(u) != b}
    # what undo knows: the entry's users only (journal), or every id (the server was read)
    state = {**{i: None for i in IDS}, **after} if known else {u: after.get(u) for u in previous}
    order = order_restore(targets, state)
    restored = replay(after, order.steps)  # asserts no step closes a cycle
    expected = {**after, **previous}
    left_out = set(order.cycles)
    assert {k: v for k, v in restored.items() if v is not None and k not in left_out} == \
        {k: v for k, v in expected.items() if v is not None and k not in left_out}
    # left as they are only where the before-state had a cycle (mapping them back would re-close it)
    if left_out:
        assert any(closes_cycle(world, u, g) for u, g in world.items() if g is not None)
    assert len({s.user_id for s in order.steps}) + len(order.split) == len(order.steps)


# --- the same against the served sandbox ---------------------------------------------------------


@pytest.fixture(scope="module")
def undo_server() -> Iterator[SandboxServer]:
    """A sandbox of this module's own, with a usermap budget no example comes near."""
    server = SandboxServer.start("--usermap-rate", f"{RATE[0]}/{RATE[1]:g}")
    try:
        yield server
    finally:
        server.stop()


async def round_trip(server: SandboxServer, state_dir: Path, world: dict[str, str | None],
                     ops: list[tuple[str, tuple[int, int]]], how: str) -> bool:
    """Apply the entry, undo it, apply the undo; False when the entry's own plan is blocked."""
    server.reset()
    server.seed_users(mappings=[(u, g) for u, g in world.items() if g is not None])
    ws = workspace_on(server, state_dir, rate=RATE)
    try:
        for kind, (u, g) in ops:
            ws.staged.add(Change.map(IDS[u], IDS[g]) if kind == "map" else Change.unmap(IDS[u]))
        plan = await build_plan(ws)
        if plan.blocking:
            return False
        before = mappings_of(server)
        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()

        entry = ws.journal.require(report.journal_id)
        recorded = entry.pre_state["mappings"]
        inverse, notes = undo(entry) if how == "journal" else await undo_with_lookup(ws, entry)
        assert not any("not undone" in n or "cannot" in n for n in notes), notes
        ws.staged.extend(inverse)
        plan = await build_plan(ws)
        assert [w for w in plan.warnings if w.severity == BLOCKING] == [], [w.message for w in plan.warnings]
        if inverse:
            report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
            assert report.exit_code == 0, report.to_json()
        restored = mappings_of(server)
        assert {u: restored.get(u) for u in recorded} == recorded
        assert restored == before
        return True
    finally:
        await ws.aclose()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(setup=st.lists(pair, max_size=5), ops=st.lists(operation, min_size=1, max_size=5),
       how=st.sampled_from(["journal", "lookup"]))
# the README's story: 0 → 1 fixed as unmap 0, map 1 → 0
@example(setup=[(0, 1)], ops=[("unmap", (0, 1)), ("map", (1, 0))], how="journal")
# 0 → 1 → 2 → 3, re-pointed 0 → 4 and 2 → 0: undoing 0 first would close 0 → 1 → 2 → 0
@example(setup=[(0, 1), (1, 2), (2, 3)], ops=[("map", (0, 4)), ("map", (2, 0))], how="journal")
@example(setup=[(0, 1), (1, 2), (2, 3)], ops=[("map", (0, 4)), ("map", (2, 0))], how="lookup")
def test_undo_of_any_applied_set_plans_clean_and_restores_the_before_state(undo_server, setup, ops, how):
    world = build_world(setup)
    assume(run_entry(world, ops) is not None)  # cheap pre-check; the plan decides below
    with tempfile.TemporaryDirectory() as tmp:
        applied = asyncio.run(round_trip(undo_server, Path(tmp), world, ops, how))
    assume(applied)

"""Undo restores mappings in an order the plan accepts: the ordering rule on plain data, undo() on
hand-written journal entries, and the README's story end to end against the served sandbox."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import closed_port_url

from idconsole.api.client import ApiClient
from idconsole.api.transport import RetryPolicy
from idconsole.changes import BLOCKING, Change, Journal, build_plan, undo, undo_with_lookup
from idconsole.changes import apply as apply_plan
from idconsole.changes.undo_order import RestoreOrder, Step, order_restore
from idconsole.sandbox import SandboxConfig
from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER
from idconsole.workspace import Workspace, demo_connection


def workspace_on(server: Any, state_dir: Path, *, rate: tuple[int, float] | None = None,
                 base_url: str | None = None) -> Workspace:
    """A Workspace on a served sandbox (real HTTP), its state in `state_dir`."""
    connection = demo_connection(SandboxConfig(), base_url=base_url or server.base_url, name="undo")
    client = ApiClient(connection, limits={"usermap": rate} if rate else None, retry=RetryPolicy.fast())
    return Workspace(connection, client, state_dir=state_dir / "state")


def mappings_of(server: Any) -> dict[str, str]:
    """Every mapping the served sandbox holds: user -> global."""
    mappings = server.state()["amplitude"]["mappings"]
    return dict(mappings) if not isinstance(mappings, dict) else mappings


def replay(world: Mapping[str, str | None], plan_steps: Iterable[Step]) -> dict[str, str | None]:
    """Apply the steps to a copy of `world` (every mapping that exists), asserting that none of them closes
    a cycle (as the plan checks each map: follow mappings from its target; an id not in `world` is
    unmapped)."""
    now = dict(world)
    for step in plan_steps:
        node, seen = step.target, set()
        while node is not None and node not in seen:
            assert node != step.user_id, f"{step} closes a cycle in {now}"
            seen.add(node)
            node = now.get(node)
        now[step.user_id] = step.target
    return now


def steps(order: RestoreOrder) -> list[tuple[str, str | None]]:
    return [(s.user_id, s.target) for s in order.steps]


# --- the ordering rule, on plain data -------------------------------------------------------------


def test_the_story_inverse_unmaps_before_it_maps():
    # after the fix: phone → hank, hank unmapped; before it: hank → phone
    after = {"hank": None, "phone": "hank"}
    order = order_restore({"hank": "phone", "phone": None}, after)
    assert steps(order) == [("phone", None), ("hank", "phone")]
    assert order.split == [] and order.cycles == []
    assert replay(after, order.steps) == {"hank": "phone", "phone": None}


def test_a_swap_of_two_globals_is_split_only_when_nothing_is_known_about_them():
    after = {"a": "g2", "b": "g1"}
    targets = {"a": "g1", "b": "g2"}
    blind = order_restore(targets, after)  # g1, g2: mappings unknown
    assert steps(blind) == [("b", None), ("a", "g1"), ("b", "g2")]
    assert blind.split == ["b"]
    known = order_restore(targets, {**after, "g1": None, "g2": None})
    assert steps(known) == [("a", "g1"), ("b", "g2")] and known.split == []


def test_a_chain_of_three_is_rebuilt_from_its_end():
    # before: a → b → c; the entry unmapped a and b and mapped c → a
    after = {"a": None, "b": None, "c": "a"}
    order = order_restore({"a": "b", "b": "c", "c": None}, after)
    assert steps(order) == [("c", None), ("b", "c"), ("a", "b")]
    assert replay(after, order.steps) == {"a": "b", "b": "c", "c": None}


def test_a_reversed_chain_of_three():
    # before: a → b → c; the entry reversed it: c → b → a
    after = {"a": None, "b": "a", "c": "b"}
    order = order_restore({"a": "b", "b": "c", "c": None}, after)
    assert steps(order)[0] == ("c", None)  # frees b's target first
    assert replay(after, order.steps) == {"a": "b", "b": "c", "c": None}


def test_a_hidden_path_back_is_avoided_when_known_and_split_when_not():
    # before: u → g → h → k; the entry re-pointed u → z, then h → u. Undoing u first would close
    # u → g → h → u, through g, which the entry never touched (so the journal has no mapping for it).
    after = {"u": "z", "h": "u"}
    targets = {"u": "g", "h": "k"}
    world = {"u": "z", "g": "h", "h": "u", "z": None, "k": None}
    blind = order_restore(targets, after)
    assert blind.split == ["h"]
    assert replay(world, blind.steps) == {**world, "u": "g", "h": "k"}
    known = order_restore(targets, world)
    assert steps(known) == [("h", "k"), ("u", "g")] and known.split == []


def test_users_already_in_place_get_no_step_and_a_before_cycle_is_left_out():
    assert order_restore({"a": "x"}, {"a": "x"}).steps == []
    # before: a ↔ b (a cycle); the entry broke it by unmapping a; mapping a back would re-close it
    order = order_restore({"a": "b"}, {"a": None, "b": "a"})
    assert order.steps == [] and order.cycles == ["a"]


def test_of_a_before_cycle_the_user_left_as_it_is_is_one_unmapped_now():
    # before: a → b, b ↔ c; the entry re-pointed a → c, b → a, and unmapped c
    after = {"a": "c", "b": "a", "c": None}
    order = order_restore({"a": "b", "b": "c", "c": "b"}, after)
    assert order.cycles == ["c"]  # keeping b → a instead would make a → b → a out of a's undo
    assert replay(after, order.steps) == {"a": "b", "b": "c", "c": None}


def test_replay_refuses_a_step_that_closes_a_cycle():
    with pytest.raises(AssertionError, match="cycle"):
        replay({"hank": None, "phone": "hank"}, [Step("hank", "phone"), Step("phone", None)])


# --- undo() on journal entries --------------------------------------------------------------------


def write_entry(journal: Journal, jid: str, changes: list[Change], pre: dict[str, str | None]) -> None:
    journal.append({"type": "begin", "journal_id": jid, "profile": "p", "region": "us",
                    "changes": [c.to_json() for c in changes],
                    "requests": [{"index": 1, "kind": "usermap", "changes": [c.id for c in changes]}],
                    "pre_state": {"mappings": pre, "mappings_read": True}})
    journal.append({"type": "intent", "journal_id": jid, "request": 1})
    journal.append({"type": "ack", "journal_id": jid, "request": 1})
    journal.append({"type": "end", "journal_id": jid, "summary": {}})


def described(changes: list[Change]) -> list[str]:
    return [c.description() for c in changes]


def test_undo_of_the_story_entry_is_ordered(tmp_path: Path):
    journal = Journal(tmp_path / "journal.jsonl")
    fix = [Change.unmap(STORY_USER), Change.map(STORY_PHONE_USER, STORY_USER)]
    write_entry(journal, "j1", fix, {STORY_USER: STORY_PHONE_USER, STORY_PHONE_USER: None})
    inverse, notes = undo(journal.require("j1"))
    assert described(inverse) == [f"unmap {STORY_PHONE_USER}", f"map {STORY_USER} → {STORY_PHONE_USER}"]
    assert notes == []


def test_undo_of_unmap_then_map_of_one_user_is_one_map_back(tmp_path: Path):
    journal = Journal(tmp_path / "journal.jsonl")
    write_entry(journal, "j1", [Change.unmap("user-aaaa"), Change.map("user-aaaa", "global-new")],
                {"user-aaaa": "global-old"})
    write_entry(journal, "j2", [Change.map("user-bbbb", "global-new"), Change.unmap("user-bbbb")],
                {"user-bbbb": None})
    inverse, notes = undo(journal.require("j1"))
    assert described(inverse) == ["map user-aaaa → global-old"] and notes == []
    inverse, notes = undo(journal.require("j2"))
    assert inverse == [] and "already back" in notes[0]


def test_undo_says_why_it_splits_and_what_it_leaves_out(tmp_path: Path):
    journal = Journal(tmp_path / "journal.jsonl")
    write_entry(journal, "swap", [Change.map("user-aaaa", "global-2222"), Change.map("user-bbbb", "global-1111")],
                {"user-aaaa": "global-1111", "user-bbbb": "global-2222"})
    write_entry(journal, "cycle", [Change.unmap("user-aaaa")], {"user-aaaa": "user-bbbb"})
    inverse, notes = undo(journal.require("swap"))
    assert described(inverse) == ["unmap user-bbbb", "map user-aaaa → global-1111", "map user-bbbb → global-2222"]
    assert "user-bbbb: unmapped first and mapped back afterwards" in notes[0]
    # the server's current mappings make the split unnecessary, and show a user changed since
    entry = journal.require("swap")
    inverse, notes = undo(entry, current={"user-aaaa": "global-2222", "user-bbbb": "global-1111",
                                          "global-1111": None, "global-2222": None})
    assert described(inverse) == ["map user-aaaa → global-1111", "map user-bbbb → global-2222"] and notes == []
    inverse, notes = undo(entry, current={"user-aaaa": "global-1111", "user-bbbb": "global-3333",
                                          "global-2222": None})
    assert described(inverse) == ["map user-bbbb → global-2222"]
    assert "user-aaaa: already back to global-1111 on the server" in notes[0]
    assert "user-bbbb changed since this entry: mapped to global-3333 now" in notes[1]
    inverse, notes = undo(journal.require("cycle"), current={"user-bbbb": "user-aaaa"})
    assert inverse == [] and "re-create the mapping cycle" in notes[0]


async def test_undo_with_lookup_falls_back_to_the_journal_when_the_server_is_unreachable(tmp_path: Path):
    ws = workspace_on(None, tmp_path, base_url=closed_port_url())
    try:
        write_entry(ws.journal, "swap", [Change.map("user-aaaa", "global-2222"),
                                         Change.map("user-bbbb", "global-1111")],
                    {"user-aaaa": "global-1111", "user-bbbb": "global-2222"})
        entry = ws.journal.require("swap")
        inverse, notes = await undo_with_lookup(ws, entry)
        assert described(inverse) == described(undo(entry)[0])
        assert notes[-1].startswith("could not read the current mappings (unavailable")
        assert "worked out from the journal alone" in notes[-1]
    finally:
        await ws.aclose()


# --- the README's story, end to end against the served sandbox -------------------------------------


@pytest.mark.parametrize("how", ["journal", "lookup"])
async def test_undo_of_the_story_fix_plans_clean_and_restores_the_world(sandbox_clean, tmp_path, how):
    ws = workspace_on(sandbox_clean, tmp_path)
    try:
        world_before = mappings_of(sandbox_clean)
        assert world_before[STORY_USER] == STORY_PHONE_USER
        ws.staged.add(Change.unmap(STORY_USER))
        ws.staged.add(Change.map(STORY_PHONE_USER, STORY_USER))
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()
        assert mappings_of(sandbox_clean)[STORY_PHONE_USER] == STORY_USER

        entry = ws.journal.require(report.journal_id)
        recorded = entry.pre_state["mappings"]
        assert recorded == {STORY_USER: STORY_PHONE_USER, STORY_PHONE_USER: None}
        inverse, notes = undo(entry) if how == "journal" else await undo_with_lookup(ws, entry)
        assert notes == []
        ws.staged.extend(inverse)
        plan = await build_plan(ws)
        assert [w for w in plan.warnings if w.severity == BLOCKING] == []
        assert not [w for w in plan.warnings if w.code in ("cycle", "chain")], plan.warnings
        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()

        world_after = mappings_of(sandbox_clean)
        assert {u: world_after.get(u) for u in recorded} == recorded
        assert world_after == world_before
    finally:
        await ws.aclose()

"""identity.preview: the identity graph after the staged changes, on data (no network): the plan's own replay
(MappingGraph.replay) laid over the answers a lookup read, nodes tagged, nothing guessed."""

from __future__ import annotations

from dataclasses import replace

from idconsole.api.models import MappedUser, UserMappings
from idconsole.changes.model import Change
from idconsole.changes.staged import UNKNOWN, StagedEntry
from idconsole.identity import graph as g
from idconsole.identity.preview import ADDED, MOVED, UNMAPPED, after_staged, preview_words


def _m(user_id: str, to: str | None = None, *sources: str) -> UserMappings:
    return UserMappings(user_id, (MappedUser(to, 9),) if to else (), tuple(MappedUser(s, n) for n, s in enumerate(sources)))


def _staged(*changes: Change) -> list[StagedEntry]:
    return [StagedEntry(c) for c in changes]


def _ids(users) -> list[str]:
    return [u.user_id for u in users]


# A → B (B is a global id with A and C mapped into it); D maps into nothing
READ = {"A": _m("A", "B"), "B": _m("B", None, "A", "C"), "D": _m("D")}


def test_map_into_the_root_adds_the_user_under_it_first():
    state = after_staged("B", READ, _staged(Change.map("D", "B")))
    assert _ids(state.mappings_of("B").mapped_from) == ["D", "A", "C"]  # the arrival on the first page
    assert _ids(state.mappings_of("D").mapped_to) == ["B"]
    change = state.changes["D"]
    assert (change.kind, change.before, change.after, change.read) == (ADDED, None, "B", True)
    assert change.describe("B") == "added into here"
    root, children = state.root_nodes()
    group = next(c for c in children if c.title == "mapped from")
    assert [n.user_id for n in group.children] == ["D", "A", "C"] and group.count == 3
    assert READ["B"].mapped_from == (MappedUser("A", 0), MappedUser("C", 1))  # the read answers are untouched


def test_unmap_takes_the_user_out_and_lists_it_as_leaving():
    state = after_staged("B", READ, _staged(Change.unmap("A")))
    assert _ids(state.mappings_of("B").mapped_from) == ["C"]
    assert state.mappings_of("A").mapped_to == ()
    assert state.changes["A"].kind == UNMAPPED and state.changes["A"].describe() == "unmapped (was → B)"
    _, children = state.root_nodes()
    group = next(c for c in children if c.title == "mapped from")
    users = [n.user_id for n in group.children if n.kind == g.USER]
    notes = [n for n in group.children if n.kind == g.NOTE]
    assert users == ["C"]
    assert [(n.user_id, n.title) for n in notes] == [("A", "leaves: A, unmapped (was → B)")]


def test_re_point_moves_the_root_and_its_chain():
    state = after_staged("A", READ, _staged(Change.map("A", "D")))
    assert state.chain.ids == ("A", "D")
    change = state.changes["A"]
    assert (change.kind, change.before, change.after) == (MOVED, "B", "D")
    assert change.describe() == "moved from B into D"
    assert _ids(state.mappings_of("B").mapped_from) == ["C"]
    assert _ids(state.mappings_of("D").mapped_from) == ["A"]
    root, children = state.root_nodes()
    chain_group = next(c for c in children if c.chain is not None)
    assert [n.user_id for n in chain_group.children] == ["D"]


def test_a_staged_chain_and_a_staged_cycle_are_what_the_plan_says():
    chain = after_staged("A", READ, _staged(Change.map("B", "D")))
    assert chain.chain.ids == ("A", "B", "D") and chain.chain.is_chain and not chain.problems
    cycle = after_staged("A", READ, _staged(Change.map("B", "A")))
    assert cycle.chain.cycle_to == "A"
    assert cycle.problems and "would create the cycle" in cycle.problems[0]  # the plan's own words
    assert "the plan would block: 1 problem" in preview_words(cycle)


def test_the_replay_is_the_plans_last_change_wins_and_cancelled_changes_tag_nothing():
    state = after_staged("B", READ, _staged(Change.map("D", "A"), Change.map("D", "B")))
    assert state.targets == {"D": "B"} and state.changes["D"].after == "B"
    undone = after_staged("B", READ, _staged(Change.unmap("A"), Change.map("A", "B")))
    assert undone.changes == {}  # back where it was: nothing to tag
    assert _ids(undone.mappings_of("B").mapped_from) == ["A", "C"]


def test_held_self_map_identify_and_mixpanel_changes_leave_the_graph_alone():
    entries = [StagedEntry(Change.unmap("A"), status=UNKNOWN), *_staged(
        replace(Change.map("C", "D"), target_id="C"), Change.identify("A", "$set", {"plan": "pro"}), Change.mp_identify("$device:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D", "A"))]
    state = after_staged("B", READ, entries)
    assert state.changes == {} and state.targets == {}
    assert state.mappings_of("B") == READ["B"]
    assert (state.staged, state.held) == (3, 1)
    assert preview_words(state) == ("Preview: after 3 staged changes (nothing sent), 1 held back"
                                    " — the plan would block: 1 problem")  # a self-map edited into the file


def test_a_user_no_answer_shows_is_not_guessed():
    state = after_staged("B", READ, _staged(Change.map("stranger", "B"), Change.map("C", "elsewhere")))
    stranger = state.changes["stranger"]
    assert (stranger.read, stranger.before) == (False, None)
    assert stranger.describe("B") == "added into here (not read: staged)"
    assert stranger.to_json()["read"] is False
    # C was never read itself, but B's answer lists it: its current mapping is known, not guessed
    moved = state.changes["C"]
    assert (moved.kind, moved.before, moved.read) == (MOVED, "B", True)


def test_a_node_loaded_later_gets_the_same_replay():
    state = after_staged("B", READ, _staged(Change.map("E", "F"), Change.unmap("G")))
    later = UserMappings("F", (), (MappedUser("G", 5),))  # read when the tree expands F
    node = g.IdNode(g.USER, "F", role=g.FROM, via="X", path=("X",))
    children = state.expand_nodes(node, later)
    assert [(c.kind, c.user_id) for c in children] == [(g.USER, "E"), (g.NOTE, "G")]
    assert _ids(state.after(later).mapped_from) == ["E"]
    assert state.after(state.after(later)) == state.after(later)  # laying it twice changes nothing


def test_to_json_lists_only_the_changes_of_this_tree():
    state = after_staged("A", READ, _staged(Change.map("A", "D"), Change.map("far", "away")))
    doc = state.to_json()
    assert doc["chain"] == ["A", "D"] and doc["cycle"] is False and doc["sent"] is False
    assert [c["user_id"] for c in doc["changes"]] == ["A"]
    assert doc["changes"][0] == {"user_id": "A", "change": "moved", "before": "B", "after": "D", "read": True,
                                 "text": "moved from B into D"}
    assert "far" in state.changes  # known, just not this tree's

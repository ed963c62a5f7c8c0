"""idconsole.identity.graph and .ids: the identity tree as data (no Textual): chains, cycles, self-maps, paging, junk ids."""

from __future__ import annotations

import pytest

from idconsole.api.models import MappedUser, UserMappings
from idconsole.identity import graph as g
from idconsole.identity.ids import junk_reason, query_kind


def graph(edges: dict[str, str]) -> dict[str, UserMappings]:
    """get-mappings answers for a whole graph given as {user: global}; amplitude ids are 1000 + index."""
    ids = sorted(set(edges) | set(edges.values()))
    amp = {u: 1000 + i for i, u in enumerate(ids)}
    out = {}
    for u in ids:
        to = (MappedUser(edges[u], amp[edges[u]]),) if u in edges else ()
        frm = tuple(MappedUser(s, amp[s]) for s, t in edges.items() if t == u)
        out[u] = UserMappings(u, to, frm)
    return out


class Fetcher:
    def __init__(self, answers: dict[str, UserMappings]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    async def __call__(self, ids):
        self.calls.append(list(ids))
        return {i: self.answers.get(i, UserMappings(i)) for i in ids}


def test_chain_from_follows_mapped_to_upward():
    chain = g.chain_from("a", graph({"a": "b", "b": "c"}))
    assert chain.ids == ("a", "b", "c")
    assert chain.is_chain and chain.cycle_to is None and not chain.truncated
    assert chain.describe() == "a → b → c"


def test_single_hop_is_not_a_chain():
    chain = g.chain_from("a", graph({"a": "b"}))
    assert chain.ids == ("a", "b") and not chain.is_chain


def test_two_cycle_is_marked_and_not_followed():
    chain = g.chain_from("a", graph({"a": "b", "b": "a"}))
    assert chain.ids == ("a", "b")
    assert chain.cycle_to == "a"
    assert chain.describe() == "a → b → a ↻"


def test_self_map_is_a_cycle():
    chain = g.chain_from("a", graph({"a": "a"}))
    assert chain.steps == () and chain.cycle_to == "a"


def test_long_chain_stops_after_max_hops():
    edges = {f"u{i:03d}": f"u{i + 1:03d}" for i in range(100)}
    chain = g.chain_from("u000", graph(edges), max_hops=10)
    assert len(chain.steps) == 10 and chain.truncated
    assert chain.describe().endswith("→ …")


async def test_follow_chain_fetches_one_hop_at_a_time_and_terminates_on_cycles():
    fetch = Fetcher(graph({"a": "b", "b": "c", "c": "a"}))
    chain, learned = await g.follow_chain("a", fetch)
    assert chain.ids == ("a", "b", "c") and chain.cycle_to == "a"
    assert fetch.calls == [["a"], ["b"], ["c"]]
    assert set(learned) == {"a", "b", "c"}


async def test_follow_chain_uses_what_is_known():
    answers = graph({"a": "b"})
    fetch = Fetcher(answers)
    chain, _ = await g.follow_chain("a", fetch, known={"a": answers["a"]})
    assert chain.ids == ("a", "b")
    assert fetch.calls == [["b"]]


async def test_follow_chain_unknown_user_is_one_request():
    fetch = Fetcher({})
    chain, learned = await g.follow_chain("ghost", fetch)
    assert chain.ids == ("ghost",) and fetch.calls == [["ghost"]]
    assert learned["ghost"] == UserMappings("ghost")


def test_root_nodes_show_chain_steps_and_mapped_from():
    answers = graph({"phone": "web", "web": "main", "tablet": "phone"})
    chain = g.chain_from("phone", answers)
    root, children = g.root_nodes("phone", answers["phone"], chain, answers)
    assert root.role == g.ROOT and root.amplitude_id == answers["web"].mapped_from[0].amplitude_id
    into, frm = children
    assert into.kind == g.GROUP and into.title == "maps into"
    assert [c.user_id for c in into.children] == ["web", "main"]
    assert all(c.role == g.CHAIN for c in into.children)
    assert into.children[0].loaded  # the chain's answers were fetched while following it
    assert frm.title == "mapped from" and frm.count == 1
    assert [(c.kind, c.user_id, c.role) for c in frm.children] == [(g.USER, "tablet", g.FROM)]
    assert frm.children[0].mapped_to == (MappedUser("phone"),)


def test_root_with_no_mappings_gets_a_note():
    root, children = g.root_nodes("lonely", UserMappings("lonely"), g.Chain("lonely"), amplitude_id=7)
    assert root.amplitude_id == 7
    assert [c.kind for c in children] == [g.NOTE]


def test_cycle_in_chain_is_a_marker_and_mapped_from_marks_chain_members():
    answers = graph({"a": "b", "b": "a"})
    chain = g.chain_from("a", answers)
    _, (into, frm) = g.root_nodes("a", answers["a"], chain, answers)
    assert [(c.kind, c.user_id) for c in into.children] == [(g.USER, "b"), (g.CYCLE, "a")]
    assert into.children[-1].reason == "already shown above"
    # b maps into a and is already shown in the chain: a marker, not another expandable node
    assert [(c.kind, c.user_id) for c in frm.children] == [(g.CYCLE, "b")]


def test_self_map_root():
    answers = graph({"a": "a"})
    chain = g.chain_from("a", answers)
    _, (into, frm) = g.root_nodes("a", answers["a"], chain, answers)
    assert [(c.kind, c.reason) for c in into.children] == [(g.CYCLE, "maps into itself")]
    assert [(c.kind, c.reason) for c in frm.children] == [(g.CYCLE, "maps into itself")]


def test_expanding_walks_down_and_marks_cycles_instead_of_recursing():
    # x -> root, y -> x, root -> y would be a cycle root -> y -> x -> root
    answers = graph({"x": "root", "y": "x", "root": "y"})
    chain = g.chain_from("root", answers)
    _, (into, frm) = g.root_nodes("root", answers["root"], chain, answers)
    assert [c.user_id for c in into.children if c.kind == g.USER] == ["y", "x"]
    assert into.children[-1].kind == g.CYCLE
    # x maps into root, but x is in the chain shown above
    assert [(c.kind, c.user_id) for c in frm.children] == [(g.CYCLE, "x")]


def test_expand_from_node_lists_its_sources_not_the_parent_again():
    answers = graph({"b": "a", "c": "b", "d": "b"})
    _, (frm,) = g.root_nodes("a", answers["a"], g.chain_from("a", answers), answers)
    b = frm.children[0]
    assert b.expandable and not b.loaded
    kids = g.expand_nodes(b, answers["b"])
    assert b.loaded
    assert [(k.kind, k.user_id, k.path) for k in kids] == [(g.USER, "c", ("a", "b")), (g.USER, "d", ("a", "b"))]
    assert g.expand_nodes(kids[0], answers["c"])[0].kind == g.NOTE


def test_expand_marks_an_ancestor_deeper_down():
    b = g.IdNode(g.USER, "b", role=g.FROM, path=("a",), via="a")
    # a maps into b too (stale parent) -> b's sources include a: a is above, marker
    kids = g.expand_nodes(b, UserMappings("b", (MappedUser("a"),), (MappedUser("a"), MappedUser("z"))))
    assert [(k.kind, k.user_id) for k in kids] == [(g.USER, "z")]
    b2 = g.IdNode(g.USER, "b", role=g.FROM, path=("q", "a"), via="a")
    kids = g.expand_nodes(b2, UserMappings("b", (MappedUser("a"),), (MappedUser("q"),)))
    assert [(k.kind, k.user_id) for k in kids] == [(g.CYCLE, "q")]


def test_paging_first_page_then_more_nodes():
    sources = tuple(MappedUser(f"u{i}", i) for i in range(450))
    nodes = g.user_nodes(sources, parent_path=(), parent_id="big", page_size=200)
    assert len(nodes) == 201 and nodes[-1].kind == g.MORE and nodes[-1].count == 250
    page2 = g.next_page(nodes[-1], page_size=200)
    assert [n.user_id for n in page2[:2]] == ["u200", "u201"]
    assert page2[-1].kind == g.MORE and page2[-1].count == 50
    page3 = g.next_page(page2[-1], page_size=200)
    assert len(page3) == 50 and all(n.kind == g.USER for n in page3)
    assert page3[-1].path == ("big",) and page3[-1].via == "big"


def test_ten_thousand_children_build_one_page():
    mappings = UserMappings("big", (), tuple(MappedUser(f"u{i}", i) for i in range(10_000)))
    _, (frm,) = g.root_nodes("big", mappings, g.Chain("big"))
    assert frm.count == 10_000 and len(frm.children) == g.PAGE_SIZE + 1
    assert frm.children[-1].count == 10_000 - g.PAGE_SIZE


@pytest.mark.parametrize(
    "value, junk",
    [("null", True), ("undefined", True), ("0", True), ("-1", True), ("", True), ("   ", True),
     ("abc", True), (" padded-id ", True), ("NULL", True), ("user-12345", False), ("63629@hmail.com", False)],
)
def test_junk_ids(value, junk):
    assert (junk_reason(value) is not None) is junk


@pytest.mark.parametrize(
    "query, kind",
    [("a@b.com", "email"), ("100000001", "number"), ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "device"),
     ("user-42", "user")],
)
def test_query_kind(query, kind):
    assert query_kind(query) == kind

"""Round trips of a lookup (issue 13): what is asked together, what is drawn before the answer is whole.

At a real vendor's 200-500 ms a request, what a support engineer feels is the number of sequential round
trips. Nothing here times anything: the sandbox's request log and its in-flight peaks
(`/_sandbox/concurrency`) show what went out together, and the partial answers a lookup reports show what
was known after each round.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cli_helpers import amplitude_env, json_out, run_cli
from sandbox_helpers import SandboxServer
from textual.widgets import Input
from tui_support import TUI_SIZE, make_app, settle, tui_env  # noqa: F401  (tui_env: a fixture)

from idconsole.api.client import ApiClient
from idconsole.api.errors import BadInput
from idconsole.api.models import MappedUser, UserMappings
from idconsole.api.ratelimit import reset_budgets
from idconsole.api.transport import RetryPolicy
from idconsole.identity import graph as g
from idconsole.identity import resolve as r
from idconsole.identity.batching import BatchedMappings
from idconsole.identity.lookup import Lookup, look_up, look_up_many, search_ahead_allowed
from idconsole.sandbox import SandboxConfig, demo
from idconsole.workspace import Workspace, demo_connection

SEARCH, USERMAP = "/api/2/usersearch", "/api/2/usermap"
#: a user found only through its email property, two hops below the top of its chain
EMAIL, ACCOUNT = "pat.search@example.org", "acct-55021"


def client_for(sb: SandboxServer) -> ApiClient:
    reset_budgets()  # process-wide budgets: start full, so a search may be sent ahead
    return ApiClient(demo_connection(SandboxConfig(), base_url=sb.base_url, name="rounds-test"),
                     retry=RetryPolicy.fast())


@pytest.fixture
async def amp(sandbox_clean: SandboxServer) -> AsyncIterator[Any]:
    sandbox_clean.clear_requests()
    client = client_for(sandbox_clean)
    try:
        yield client.amplitude
    finally:
        await client.aclose()


def calls(sb: SandboxServer, path: str) -> int:
    return sum(1 for e in sb.requests() if e["path"] == path)


def peak(sb: SandboxServer) -> int:
    return int(sb.http.get("/_sandbox/concurrency").json()["amplitude_rest"]["peak"])


def seed_email_user(sb: SandboxServer) -> None:
    sb.seed_users(users=[{"user_id": ACCOUNT, "user_properties": {"email": EMAIL}}],
                  mappings=[(ACCOUNT, demo.CHAIN[1])])
    sb.clear_requests()


# --- the first paint comes after the first round trip ----------------------------------------------


async def test_a_chain_is_reported_after_each_hop_while_it_is_followed(amp, sandbox_clean):
    a, b, c = demo.CHAIN
    seen: list[tuple[int, Lookup]] = []
    found = await look_up(amp, a, progress=lambda p: seen.append((calls(sandbox_clean, USERMAP), p)))
    # after one request the root and its first hop are known; after two, the chain up to c
    assert [(n, p.chain_ids, p.complete, p.chain.following) for n, p in seen] == [
        (1, (a, b), False, True), (2, (a, b, c), False, True)]
    assert seen[1][1].amplitude_id == found.amplitude_id  # b's answer names a's Amplitude id
    assert found.complete and not found.chain.following and found.chain_ids == (a, b, c)
    assert calls(sandbox_clean, USERMAP) == 3  # one per id of the chain: nothing more on the path


async def test_a_global_id_is_drawn_before_its_amplitude_id_is_asked_of_a_child(amp, sandbox_clean):
    seen: list[Lookup] = []
    found = await look_up(amp, demo.CHAIN[2], progress=seen.append)
    assert [(p.chain_ids, p.amplitude_id, p.chain.following) for p in seen] == [((demo.CHAIN[2],), None, False)]
    assert found.complete and found.amplitude_id is not None


async def test_a_lookup_with_nothing_more_to_ask_is_only_reported_whole(amp, sandbox_clean):
    seen: list[Lookup] = []
    found = await look_up(amp, demo.CONTROL_GROUP_USER, progress=seen.append)
    assert seen == [] and found.complete and found.amplitude_id is not None


# --- a search sent together with the mapping lookup -------------------------------------------------


async def test_an_email_that_needs_search_asks_mappings_and_search_together(start_sandbox):
    sb = start_sandbox("--latency-ms", "150")
    seed_email_user(sb)
    client = client_for(sb)
    try:
        found = await look_up(client.amplitude, EMAIL, search_ahead=True)
    finally:
        await client.aclose()
    assert found.user_id == ACCOUNT and found.resolution.by == r.BY_SEARCH and found.searched
    assert found.chain_ids == (ACCOUNT, demo.CHAIN[1], demo.CHAIN[2])
    # the email as a user id and the search were in flight at once (the same round), and only once each
    assert peak(sb) == 2
    # the email (with the search), then one per id of the chain: the account, chain-b, chain-c
    assert calls(sb, SEARCH) == 1 and calls(sb, USERMAP) == 4


async def test_the_user_a_search_found_is_reported_before_its_mappings_are_asked(amp, sandbox_clean):
    seed_email_user(sandbox_clean)
    seen: list[tuple[int, Lookup]] = []
    await look_up(amp, EMAIL, search_ahead=True,
                  progress=lambda p: seen.append((len(sandbox_clean.requests()), p)))
    asked, first = seen[0]
    # after the first round (the email's mappings and its search): who it is, nothing else yet
    assert asked == 2 and first.user_id == ACCOUNT and first.mappings is None and not first.complete
    assert [p.chain_ids for _, p in seen[1:]] == [(ACCOUNT, demo.CHAIN[1]), (ACCOUNT, *demo.CHAIN[1:])]


async def test_without_search_ahead_the_search_waits_for_the_mappings(start_sandbox):
    sb = start_sandbox("--latency-ms", "150")
    seed_email_user(sb)
    client = client_for(sb)
    try:
        found = await look_up(client.amplitude, EMAIL)
    finally:
        await client.aclose()
    assert found.user_id == ACCOUNT and peak(sb) == 1


async def test_an_id_with_mappings_answers_the_same_with_a_search_ahead(amp, sandbox_clean):
    plain = await look_up(amp, demo.CHAIN[0])
    ahead = await look_up(amp, demo.CHAIN[0], search_ahead=True)
    assert ahead.to_json() == plain.to_json()
    assert ahead.resolution.by == r.BY_USER and ahead.searched and not plain.searched


async def test_a_global_ids_amplitude_id_comes_from_the_search_sent_ahead(amp, sandbox_clean):
    found = await look_up(amp, demo.BIG_PARENT, search_ahead=True)
    expected = sandbox_clean.user(demo.BIG_PARENT)
    assert expected is not None and found.amplitude_id == expected["amplitude_id"]
    # one round: its mappings and the search; no request to one of its children for the id
    assert calls(sandbox_clean, USERMAP) == 1 and calls(sandbox_clean, SEARCH) == 1


def test_a_search_goes_ahead_only_for_one_id_and_a_comfortable_budget():
    assert search_ahead_allowed(None, (360, 360))
    assert search_ahead_allowed(None, (180, 360))
    assert not search_ahead_allowed(None, (179, 360))        # below half: keep what is left for real needs
    assert not search_ahead_allowed(None, None)              # unknown budget
    assert not search_ahead_allowed(r.BY_USER, (360, 360))   # forced methods say what to ask
    assert not search_ahead_allowed(r.BY_DEVICE, (360, 360))
    assert not search_ahead_allowed(None, (360, 360), ids=2)  # a script's batch: mappings first


# --- several ids: each round's requests together ---------------------------------------------------


async def test_several_lookups_ask_each_rounds_next_hops_in_one_request(amp, sandbox_clean):
    found = await look_up_many(amp, [demo.CHAIN[0], demo.CYCLE[0], demo.CHAIN[0]])
    assert list(found) == [demo.CHAIN[0], demo.CYCLE[0]]
    assert found[demo.CHAIN[0]].chain_ids == demo.CHAIN and found[demo.CYCLE[0]].cycle
    # (a, x) then (b, y) then (c): three requests, not one per hop of each chain in turn
    queried = [e["query"] for e in sandbox_clean.requests() if e["path"] == USERMAP]
    assert len(queried) == 3, queried


def test_the_cli_looks_several_ids_up_side_by_side(sandbox_clean):
    sandbox_clean.clear_requests()
    result = run_cli("lookup", demo.CHAIN[0], demo.CYCLE[0], "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert doc[demo.CHAIN[0]]["chain"] == list(demo.CHAIN) and doc[demo.CYCLE[0]]["cycle"] is True
    assert calls(sandbox_clean, USERMAP) == 3 and calls(sandbox_clean, SEARCH) == 0


def test_the_cli_sends_the_search_of_a_single_id_ahead(start_sandbox):
    sb = start_sandbox("--latency-ms", "150")
    seed_email_user(sb)
    result = run_cli("lookup", EMAIL, "--json", env=amplitude_env(sb))
    assert result.returncode == 0, result.stderr
    assert json_out(result)[EMAIL]["resolved"]["user_id"] == ACCOUNT
    # the email as a user id and its search in flight together, as in the console
    assert peak(sb) == 2 and calls(sb, SEARCH) == 1
    assert "User search budget" in result.stderr


async def test_a_batch_failure_reaches_every_lookup_waiting_for_it():
    class Refusing:
        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        async def get_mappings(self, user_ids):
            self.asked.append(list(user_ids))
            raise BadInput("refused")

        async def search(self, query, *, use_cache=True):
            raise AssertionError("not asked")

    refusing = Refusing()
    batched = BatchedMappings(refusing)
    results = await asyncio.gather(batched.get_mappings(["a"]), batched.get_mappings(["a", "b"]),
                                   return_exceptions=True)
    assert all(isinstance(x, BadInput) for x in results)
    assert refusing.asked == [["a", "b"]]  # one request for both callers, "a" asked once


async def test_a_cancelled_lookup_does_not_cancel_the_answer_another_waits_for(amp, sandbox_clean):
    batched = BatchedMappings(amp)
    first = asyncio.ensure_future(batched.get_mappings([demo.CHAIN[0]]))
    second = asyncio.ensure_future(batched.get_mappings([demo.CHAIN[0]]))
    await asyncio.sleep(0)
    first.cancel()
    answer = await second
    assert answer[demo.CHAIN[0]].mapped_to[0].user_id == demo.CHAIN[1]


# --- a big answer is walked once ---------------------------------------------------------------------


def test_distinct_sources_drop_repeats_and_remember_a_big_answer():
    entries = tuple(MappedUser(f"kid-{i % 300}", i) for i in range(600))
    distinct = g.distinct_sources(entries)
    assert [e.user_id for e in distinct] == [f"kid-{i}" for i in range(300)]
    assert g.distinct_sources(entries) is distinct  # remembered: the status line and panel ask again
    assert g.distinct_count(UserMappings("p", (), entries)) == 300
    unique = tuple(MappedUser(f"u{i}") for i in range(5))
    assert g.distinct_sources(unique) is unique  # nothing repeated: no copy


def test_the_amplitude_id_of_a_big_parent_is_found_without_reading_its_own_children():
    kids = tuple(MappedUser(f"kid-{i}", 10 + i) for i in range(1000))
    learned = {"parent": UserMappings("parent", (), kids),
               "kid-0": UserMappings("kid-0", (MappedUser("parent", 7),), ())}
    assert g.amplitude_id_from("parent", learned) == 7
    assert g.amplitude_id_from("kid-5", learned) == 15


# --- the console draws the chain while it is followed ------------------------------------------------


async def test_the_console_draws_the_tree_after_the_first_round_trip(tmp_path):
    a, b, c = demo.CHAIN
    ws = Workspace.demo(sandbox_config=SandboxConfig(latency_ms=300), state_dir=tmp_path / "state")
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        box = screen.query_one("#lookup-input", Input)
        box.focus()
        box.value = a
        await pilot.press("enter")
        tree = screen.identity_tree
        for _ in range(500):  # up to 5 s; the first of three 300 ms rounds draws it
            await pilot.pause(0.01)
            if tree.root.data is not None and tree.root.data.user_id == a:
                break
        status = str(screen.query_one("#lookup-status").render())
        # drawn while the rest of the chain is still asked: the root, its first hop, and a word about it
        assert screen.found is None and "following the chain" in status, status
        group = tree.root.children[0]
        assert group.label.plain.startswith(f"maps into: → {b}") and group.label.plain.endswith("→ …")
        await settle(pilot, app)
        status = str(screen.query_one("#lookup-status").render())
        assert screen.found is not None and screen.found.chain_ids == (a, b, c)
        assert "following" not in status and "maps into a chain" in status
        assert f"→ {c}" in tree.root.children[0].label.plain and "…" not in tree.root.children[0].label.plain

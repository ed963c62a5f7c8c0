"""idconsole.identity.resolve and .lookup over real HTTP against the sandbox server (demo data): which user an
id stands for, the chain upward from it, and what it costs (User search only when mappings say nothing,
cached answers). The sandbox's request log counts every call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sandbox_helpers import SandboxServer

from idconsole.api.client import ApiClient
from idconsole.api.errors import BadInput
from idconsole.api.ratelimit import reset_budgets
from idconsole.api.transport import RetryPolicy
from idconsole.identity import resolve as r
from idconsole.identity.lookup import look_up
from idconsole.sandbox import SandboxConfig, demo
from idconsole.workspace import demo_connection

SEARCH, USERMAP = "/api/2/usersearch", "/api/2/usermap"


@pytest.fixture
async def amp(sandbox_clean: SandboxServer) -> AsyncIterator[object]:
    reset_budgets()  # budgets are process-wide: every test starts with a full search budget
    sandbox_clean.clear_requests()
    client = ApiClient(demo_connection(SandboxConfig(), base_url=sandbox_clean.base_url, name="identity-test"),
                       retry=RetryPolicy.fast())
    try:
        yield client.amplitude
    finally:
        await client.aclose()


def calls(sb: SandboxServer, path: str) -> int:
    return sum(1 for e in sb.requests() if e["path"] == path)


def amplitude_id_of(sb: SandboxServer, user_id: str) -> int:
    found = sb.user(user_id)
    assert found is not None, user_id
    return int(found["amplitude_id"])


# --- chains and cycles -------------------------------------------------------------------------------


async def test_chain_of_three_is_followed_to_its_end_without_search(amp, sandbox_clean):
    a, b, c = demo.CHAIN
    found = await look_up(amp, a)
    assert found.resolution.outcome == r.RESOLVED and found.user_id == a and found.resolution.by == r.BY_USER
    assert found.chain_ids == (a, b, c) and found.chain is not None and found.chain.is_chain
    assert not found.cycle
    assert found.amplitude_id == amplitude_id_of(sandbox_clean, a)
    doc = found.to_json()
    assert doc["chain"] == [a, b, c] and doc["cycle"] is False
    assert doc["resolved"] == {"user_id": a, "amplitude_id": found.amplitude_id, "by": "user"}
    assert [m["user_id"] for m in doc["mapped_to"]] == [b] and doc["mapped_from"] == []
    # one request per hop (a, b, c), nothing spent on search
    assert calls(sandbox_clean, USERMAP) == 3 and calls(sandbox_clean, SEARCH) == 0


async def test_the_middle_of_the_chain_sees_the_rest_upward(amp):
    a, b, c = demo.CHAIN
    found = await look_up(amp, b)
    assert found.chain_ids == (b, c)
    assert [m.user_id for m in found.mappings.mapped_from] == [a]


@pytest.mark.parametrize("start", [0, 1])
async def test_the_demo_cycle_is_marked_and_followed_once(amp, sandbox_clean, start):
    x, y = demo.CYCLE[start], demo.CYCLE[1 - start]
    found = await look_up(amp, x)
    assert found.chain_ids == (x, y) and found.cycle and found.chain.cycle_to == x
    assert found.to_json()["cycle"] is True
    assert calls(sandbox_clean, USERMAP) == 2  # x, then y (which maps back into x): never a third


async def test_a_global_ids_amplitude_id_comes_from_one_child(amp, sandbox_clean):
    found = await look_up(amp, demo.BIG_PARENT)
    assert found.chain_ids == (demo.BIG_PARENT,) and not found.cycle
    assert len(found.mappings.mapped_from) == len(demo.BIG_PARENT_CHILDREN)
    assert found.amplitude_id == amplitude_id_of(sandbox_clean, demo.BIG_PARENT)
    assert calls(sandbox_clean, USERMAP) == 2 and calls(sandbox_clean, SEARCH) == 0


# --- search fallback -----------------------------------------------------------------------------------


async def test_an_amplitude_id_resolves_by_search(amp, sandbox_clean):
    hank = amplitude_id_of(sandbox_clean, demo.STORY_USER)
    found = await look_up(amp, str(hank))
    assert found.user_id == demo.STORY_USER and found.resolution.by == r.BY_AMPLITUDE
    assert found.amplitude_id == hank
    assert found.chain_ids == (demo.STORY_USER, demo.STORY_PHONE_USER)
    assert found.to_json()["resolved"] == {"user_id": demo.STORY_USER, "amplitude_id": hank, "by": "amplitude"}
    assert calls(sandbox_clean, SEARCH) == 1


@pytest.mark.parametrize("device, user", [(demo.STORY_WEB_DEVICE, demo.STORY_USER),
                                          (demo.STORY_PHONE_DEVICE, demo.STORY_PHONE_USER)])
async def test_a_device_id_resolves_to_its_user(amp, sandbox_clean, device, user):
    found = await look_up(amp, device)
    assert found.user_id == user and found.resolution.by == r.BY_DEVICE
    assert found.amplitude_id == amplitude_id_of(sandbox_clean, user)
    assert found.mappings.user_id == user  # the user's own mappings, not the device's (empty) answer
    assert found.chain_ids[0] == user


async def test_an_email_property_needs_search(amp, sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "acct-77120", "user_properties": {"email": "pat@example.org"}}],
                             mappings=[("acct-77120", demo.STORY_USER)])
    sandbox_clean.clear_requests()
    found = await look_up(amp, "pat@example.org")
    assert found.user_id == "acct-77120" and found.resolution.by == r.BY_SEARCH
    assert found.chain_ids == ("acct-77120", demo.STORY_USER, demo.STORY_PHONE_USER)
    assert calls(sandbox_clean, SEARCH) == 1


async def test_a_user_without_mappings_is_confirmed_by_search(amp, sandbox_clean):
    found = await look_up(amp, demo.CONTROL_GROUP_USER)
    assert found.user_id == demo.CONTROL_GROUP_USER and found.resolution.by == r.BY_USER
    assert found.chain_ids == (demo.CONTROL_GROUP_USER,)
    assert found.amplitude_id == amplitude_id_of(sandbox_clean, demo.CONTROL_GROUP_USER)
    assert calls(sandbox_clean, SEARCH) == 1 and calls(sandbox_clean, USERMAP) == 1


async def test_searches_are_cached_and_budgeted(amp, sandbox_clean):
    first = await look_up(amp, demo.STORY_WEB_DEVICE)
    again = await look_up(amp, demo.STORY_WEB_DEVICE)
    assert first.resolution.search is not None and not first.resolution.search.cached
    assert again.resolution.search is not None and again.resolution.search.cached
    assert again.user_id == first.user_id and again.chain_ids == first.chain_ids
    assert calls(sandbox_clean, SEARCH) == 1


async def test_an_unknown_id_is_unknown(amp, sandbox_clean):
    found = await look_up(amp, "nobody-ever@example.com")
    assert found.resolution.outcome == r.UNKNOWN and not found.resolution.known
    assert found.user_id is None and found.chain is None
    assert found.to_json() == {"mapped_to": [], "mapped_from": [], "resolved": None, "chain": [], "cycle": False}


async def test_an_anonymous_device_is_known_without_a_user(amp, sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": None, "device_ids": ["anon-device-5521"]}])
    found = await look_up(amp, "anon-device-5521")
    assert found.resolution.outcome == r.ANONYMOUS and found.resolution.known
    assert found.user_id is None and isinstance(found.resolution.amplitude_id, int)
    assert found.to_json()["resolved"] == {"user_id": None, "amplitude_id": found.resolution.amplitude_id,
                                           "by": "device"}


async def test_several_users_are_ambiguous_and_listed(amp, sandbox_clean):
    sandbox_clean.seed_users(users=[
        {"user_id": "twin-one-1", "user_properties": {"email": "twins@example.com"}},
        {"user_id": "twin-two-2", "user_properties": {"email": "twins@example.com"}},
    ])
    found = await look_up(amp, "twins@example.com")
    assert found.resolution.outcome == r.AMBIGUOUS and found.user_id is None
    assert [m.user_id for m in found.resolution.matches] == ["twin-one-1", "twin-two-2"]
    doc = found.to_json()
    assert doc["resolved"] is None and [m["user_id"] for m in doc["matches"]] == ["twin-one-1", "twin-two-2"]


# --- forced methods ------------------------------------------------------------------------------------


async def test_by_user_never_searches(amp, sandbox_clean):
    found = await look_up(amp, "nobody-ever@example.com", by=r.BY_USER)
    assert found.user_id == "nobody-ever@example.com" and found.resolution.by == r.BY_USER
    assert found.chain_ids == ("nobody-ever@example.com",) and found.amplitude_id is None
    assert calls(sandbox_clean, SEARCH) == 0


@pytest.mark.parametrize("by", [r.BY_SEARCH, r.BY_DEVICE])
async def test_forced_search_skips_the_mapping_lookup_of_the_query(amp, sandbox_clean, by):
    found = await look_up(amp, demo.STORY_WEB_DEVICE, by=by)
    assert found.user_id == demo.STORY_USER and found.resolution.by == r.BY_DEVICE
    # search, then the user's mappings, then its chain step: the device id itself is never asked as a user
    queried = [e["query"] for e in sandbox_clean.requests() if e["path"] == USERMAP]
    assert calls(sandbox_clean, SEARCH) == 1 and len(queried) == 2
    assert not any("3f6c2a9e" in q for q in queried)


async def test_forced_search_of_a_user_id_finds_the_user_itself(amp):
    found = await look_up(amp, demo.CHAIN[0], by=r.BY_SEARCH)
    assert found.user_id == demo.CHAIN[0] and found.resolution.by == r.BY_USER
    assert found.chain_ids == demo.CHAIN


async def test_a_shared_cache_saves_requests_between_lookups(amp, sandbox_clean):
    learned: dict = {}
    first = await look_up(amp, demo.CHAIN[0], learned=learned)
    second = await look_up(amp, demo.CHAIN[1], learned=learned)
    assert first.chain_ids == demo.CHAIN and second.chain_ids == demo.CHAIN[1:]
    assert calls(sandbox_clean, USERMAP) == 3  # chain-b and chain-c were known from the first walk


# --- ids that can break things -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", [*demo.MARKUP_IDS, demo.CONTROL_CHAR_ID, demo.BIDI_ID, *demo.ZERO_WIDTH_IDS,
                                     demo.LONG_ID, *demo.UNICODE_IDS, "null"], ids=lambda h: repr(h[:14]))
async def test_hostile_demo_ids_resolve_to_themselves(amp, hostile):
    found = await look_up(amp, hostile)
    assert found.user_id == hostile and found.chain_ids[0] == hostile


async def test_the_markup_id_chain_keeps_its_brackets(amp):
    found = await look_up(amp, demo.MARKUP_IDS[0])
    assert found.chain_ids == (demo.MARKUP_IDS[0], demo.MARKUP_IDS[1])


@pytest.mark.parametrize("hostile", ["$(rm -rf /)", "; DROP TABLE users;--", "x" * 2000, "a&user_ids=b",
                                     "%00%0a", "\u202eevil"], ids=lambda h: repr(h[:14]))
async def test_unknown_hostile_ids_are_just_unknown(amp, hostile):
    found = await look_up(amp, hostile)
    assert found.resolution.outcome == r.UNKNOWN


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
async def test_an_empty_id_is_refused_before_anything_is_sent(amp, sandbox_clean, query):
    with pytest.raises(BadInput, match="empty id"):
        await look_up(amp, query)
    assert sandbox_clean.requests() == []


async def test_an_unknown_method_is_refused(amp):
    with pytest.raises(BadInput, match="method"):
        await r.resolve(amp, demo.STORY_USER, by="phone")

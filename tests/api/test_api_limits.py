"""The vendors' shared limits, kept by the client against the served sandbox (API.md "Limits shared
across endpoints"): Mixpanel's Query API is its own family (60/hour, 5 in flight) and engage reads are a
POST with a form body; every Amplitude Dashboard REST call (`/api/2/*`) shares one cap of 5 in flight;
user search and user activity share the 360/hour budget.

The sandbox answers 429 beyond 5 in flight, as the vendors do, and counts the peak per family
(`/_sandbox/concurrency`), so "never more than 5" is measured on the server, not assumed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from api_support import api_log, fresh_budgets, make_client  # noqa: F401
from sandbox_helpers import SandboxServer

from idconsole.api.errors import Throttled
from idconsole.sandbox import demo

ENGAGE = "/api/query/engage"
LATENCY = ("--latency-ms", "250")


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[SandboxServer]:
    """Every request takes 250 ms, so concurrent requests overlap on the server."""
    server = SandboxServer.start(*LATENCY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow(slow_sandbox: SandboxServer) -> SandboxServer:
    slow_sandbox.reset()
    return slow_sandbox


def caps(sb: SandboxServer) -> dict:
    return sb.http.get("/_sandbox/concurrency").json()


async def amplitude_id(client, user_id: str) -> int:
    found = await client.amplitude.search(user_id)
    return found.matches[0].amplitude_id


# -- Mixpanel Query API ---------------------------------------------------------------------------------

async def test_an_engage_read_spends_the_query_budget_not_ingestion(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        await client.mixpanel.profile(demo.STORY_USER)
        assert client.budget("mpquery").remaining() == 59
        assert (client.budget("mpquery").limit, client.budget("mpquery").window_s) == (60, 3600.0)
        assert client.budget("mixpanel").remaining() == client.budget("mixpanel").limit


async def test_an_engage_read_is_a_post_with_a_form_body(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        profile = await client.mixpanel.profile(demo.STORY_MP_WEB_ANON)
        sent = client.transport._http._transport.sent  # type: ignore[attr-defined]
    assert profile.distinct_id == demo.STORY_USER
    (request,) = [r for r in sent if r.url.path == ENGAGE]
    assert request.method == "POST" and request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"distinct_id": [demo.STORY_MP_WEB_ANON]}
    assert "distinct_id" not in request.url.query.decode() and "project_id=1" in request.url.query.decode()
    assert [(e["method"], e["status"]) for e in api_log(sandbox_clean, ENGAGE)] == [("POST", 200)]


async def test_the_61st_query_in_an_hour_is_refused_before_it_is_sent(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        for _ in range(60):
            await client.mixpanel.profile(demo.STORY_USER)
        with pytest.raises(Throttled, match="mpquery budget") as info:
            await client.mixpanel.profile(demo.STORY_USER)
    assert info.value.retry_after is not None and info.value.retry_after > 3000
    assert len(api_log(sandbox_clean, ENGAGE)) == 60


async def test_never_more_than_5_queries_in_flight(slow):
    async with make_client(slow) as client:
        found = await asyncio.gather(*(client.mixpanel.profile(demo.STORY_USER) for _ in range(12)))
        gate = client.gate("mixpanel_query")
    assert {p.distinct_id for p in found} == {demo.STORY_USER}
    server = caps(slow)["mixpanel_query"]
    assert server["refused"] == 0 and server["peak"] == 5 and server["admitted"] == 12
    assert gate.peak == 5 and gate.queued == 7


# -- Amplitude Dashboard REST ---------------------------------------------------------------------------

async def test_get_mappings_fans_out_at_most_5_at_a_time(slow):
    ids = [f"fan-{n:04d}" for n in range(1000)]   # 10 requests of 100 ids
    async with make_client(slow) as client:
        found = await client.amplitude.get_mappings(ids)
    assert len(found) == 1000
    server = caps(slow)["amplitude_rest"]
    assert (server["admitted"], server["refused"], server["peak"]) == (10, 0, 5)
    assert all(e["status"] == 200 for e in api_log(slow, "/api/2/usermap"))


async def test_every_api_2_family_shares_one_cap_of_5(slow):
    ids = [f"mix-{n:04d}" for n in range(700)]    # 7 get-mappings requests
    async with make_client(slow) as client:
        hank = await amplitude_id(client, demo.STORY_USER)
        await asyncio.gather(
            client.amplitude.get_mappings(ids),
            *(client.amplitude.search(u, use_cache=False) for u in demo.CHAIN),
            *(client.amplitude_activity.page(hank, limit=10) for _ in range(4)),
        )
        assert client.gate("amplitude_rest").peak == 5
    server = caps(slow)["amplitude_rest"]
    assert server["refused"] == 0 and server["peak"] == 5 and server["admitted"] == 1 + 7 + 3 + 4


async def test_the_cap_is_configurable(slow):
    ids = [f"cfg-{n:04d}" for n in range(600)]
    async with make_client(slow, concurrency={"amplitude_rest": 2}) as client:
        await client.amplitude.get_mappings(ids)
    assert caps(slow)["amplitude_rest"]["peak"] == 2


async def test_user_search_and_user_activity_share_one_budget(sandbox_clean):
    async with make_client(sandbox_clean, limits={"usersearch": (3, 3600.0)}) as client:
        hank = await amplitude_id(client, demo.STORY_USER)
        await client.amplitude_activity.page(hank, limit=5)
        await client.amplitude.search(demo.STORY_PHONE_USER)
        assert client.budget("usersearch").remaining() == 0
        with pytest.raises(Throttled):
            await client.amplitude_activity.page(hank, limit=5)
        with pytest.raises(Throttled):
            await client.amplitude.search(demo.CHAIN[0])
    assert len(api_log(sandbox_clean, "/api/2/useractivity")) == 1
    assert len(api_log(sandbox_clean, "/api/2/usersearch")) == 2


async def test_a_stream_spends_one_unit_per_page(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        phone = await amplitude_id(client, demo.STORY_PHONE_USER)
        before = client.budget("usersearch").remaining()
        whole = await client.amplitude_activity.stream(phone, page_size=100)
        spent = before - client.budget("usersearch").remaining()
    assert whole.pages == spent == client.amplitude_activity.pages_needed(whole.user.num_events, 100)
    assert whole.pages >= 3 and len(whole.events) == whole.user.num_events

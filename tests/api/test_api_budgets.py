"""Shared rate budgets against a sandbox with a scaled-down usermap window: the client paces itself so the
server never throttles, budgets are shared by clients on one project, and an hourly budget fails fast.

Assertions are on what the budget decided (how many callers it made wait) and on the sandbox's request
log, never on elapsed wall-clock time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from api_support import api_log, connection, fresh_budgets, make_client  # noqa: F401
from sandbox_helpers import SandboxServer

from idconsole.api.client import ApiClient
from idconsole.api.errors import Throttled
from idconsole.api.models import Mapping
from idconsole.api.transport import RetryPolicy
from idconsole.sandbox import SandboxConfig, create_app

RATE = (100, 0.5)   # the sandbox's usermap window: 100 mappings per rolling half second


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer.start("--usermap-rate", f"{RATE[0]}/{RATE[1]}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow(slow_sandbox: SandboxServer) -> SandboxServer:
    slow_sandbox.reset()
    return slow_sandbox


def batch(tag: str, n: int = 60) -> list[Mapping]:
    return [Mapping(f"{tag}-{i}", f"{tag}-g") for i in range(n)]


async def test_budget_spreads_batches_so_the_server_never_throttles(slow):
    async with make_client(slow, limits={"usermap": RATE}) as client:
        await asyncio.gather(*(client.amplitude.map_batch(batch(t)) for t in ("p1", "p2", "p3")))
        budget = client.budget("usermap")
        assert budget.paced == 2          # 60 fits, 60+60 > 100 waits, and so does the third
        assert client.transport.retries == 0
    log = api_log(slow, "/usermap")
    assert [(e["status"], e["items"]) for e in log] == [(200, 60)] * 3
    assert len(slow.state()["amplitude"]["mappings"]) >= 180


async def test_without_pacing_the_same_load_is_throttled_then_recovers(slow):
    limits = {"usermap": (1_000_000, RATE[1])}
    async with make_client(slow, limits=limits, retry=RetryPolicy.fast(attempts=5)) as client:
        await asyncio.gather(*(client.amplitude.map_batch(batch(t)) for t in ("q1", "q2", "q3")))
        assert client.budget("usermap").paced == 0
    statuses = [e["status"] for e in api_log(slow, "/usermap")]
    assert 429 in statuses and statuses.count(200) == 3   # Retry-After honoured, every batch applied once


async def test_two_clients_on_one_project_share_the_budget(slow):
    one = make_client(slow, limits={"usermap": RATE})
    two = make_client(slow, limits={"usermap": RATE})
    try:
        assert one.budget("usermap") is two.budget("usermap")
        await asyncio.gather(one.amplitude.map_batch(batch("s1")), two.amplitude.map_batch(batch("s2")),
                             one.amplitude.map_users(batch("s3")))
        assert one.budget("usermap").paced == 2
    finally:
        await one.aclose()
        await two.aclose()
    assert [e["status"] for e in api_log(slow, "/usermap")] == [200, 200, 200]


async def test_hourly_search_budget_fails_fast_and_the_cache_still_answers(sandbox_clean):
    async with make_client(sandbox_clean, limits={"usersearch": (2, 3600.0)}) as client:
        await client.amplitude.search("a")
        await client.amplitude.search("b")
        with pytest.raises(Throttled, match="usersearch budget .* is spent") as info:
            await client.amplitude.search("c")
        assert info.value.retry_after > 3000
        assert (await client.amplitude.search("a")).cached
        assert {b.family: b.remaining for b in client.budgets()}["usersearch"] == 0
    assert len(api_log(sandbox_clean, "/api/2/usersearch")) == 2


async def test_profile_budget_paces_requests(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "paced-u"}])
    async with make_client(sandbox_clean, limits={"profile": (2, 0.3)}) as client:
        await asyncio.gather(*(client.amplitude.profile("paced-u") for _ in range(3)))
        assert client.budget("profile").paced == 1
    assert [e["status"] for e in api_log(sandbox_clean, "/v1/userprofile")] == [200, 200, 200]


async def test_asgi_transport_passes_through_for_the_in_process_demo():
    config = SandboxConfig()
    app = create_app(config)
    conn = connection("http://sandbox.idconsole.invalid")
    async with ApiClient(conn, transport=httpx.ASGITransport(app=app), retry=RetryPolicy.fast()) as client:
        await client.amplitude.map_users([Mapping("asgi-u", "asgi-g")])
        got = await client.amplitude.get_mappings(["asgi-u"])
    assert got["asgi-u"].global_user_id == "asgi-g"
    assert app.state.sandbox.state.amplitude.mappings["asgi-u"] == "asgi-g"

"""AmplitudeApi over real HTTP against the sandbox subprocess: every route, batch edges (checked in the
sandbox's request log), both profile shapes, and no retry of non-idempotent identifies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from api_support import api_log, fresh_budgets, make_client, settle  # noqa: F401
from sandbox_helpers import API_KEY, SandboxServer

from idconsole.api import amplitude as amp
from idconsole.api.errors import BadInput, NotFound, NotOffered, ServerRejected, UnknownOutcome
from idconsole.api.models import Mapping

FAST_RATE = ("--usermap-rate", "1000000/1")
FAST_LIMITS = {"usermap": (1_000_000, 1.0)}


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[SandboxServer]:
    """A sandbox whose usermap window does not get in the way of batch-size tests."""
    server = SandboxServer.start(*FAST_RATE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fast(fast_sandbox: SandboxServer) -> SandboxServer:
    fast_sandbox.reset()
    return fast_sandbox


def user(sb: SandboxServer, user_id: str) -> dict:
    found = sb.user(user_id)
    assert found is not None, user_id
    return found


# -- map / unmap -------------------------------------------------------------------------------------

async def test_map_then_unmap_round_trip(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        sent = await client.amplitude.map_users([Mapping("api-u1", "api-g"), Mapping("api-u2", "api-g")])
        assert sent == 1
        got = await client.amplitude.get_mappings(["api-g", "api-u1"])
        assert {m.user_id for m in got["api-g"].mapped_from} == {"api-u1", "api-u2"}
        assert got["api-u1"].global_user_id == "api-g"
        await client.amplitude.map_batch([Mapping("api-u1", unmap=True)])
        assert "api-u1" not in sandbox_clean.state()["amplitude"]["mappings"]
        urls = [str(r.url) for r in client.transport._http._transport.sent]  # type: ignore[attr-defined]
    posts = api_log(sandbox_clean, "/usermap")
    assert [(e["method"], e["status"], e["items"], e["query"]) for e in posts] == [
        ("POST", 200, 2, ""), ("POST", 200, 1, "")]
    assert all(API_KEY not in u for u in urls)


async def test_2000_vs_2001_mappings_is_1_vs_2_requests(fast):
    maps = [Mapping(f"bulk-{i}", f"bulk-g{i % 7}") for i in range(2001)]
    async with make_client(fast, limits=FAST_LIMITS) as client:
        assert await client.amplitude.map_users(maps[:2000]) == 1
        assert [e["items"] for e in api_log(fast, "/usermap")] == [2000]
        fast.clear_requests()
        assert await client.amplitude.map_users(maps) == 2
    log = api_log(fast, "/usermap")
    assert [(e["items"], e["status"]) for e in log] == [(2000, 200), (1, 200)]
    assert fast.state()["amplitude"]["mappings"]["bulk-2000"] == "bulk-g5"


async def test_map_users_sizes_batches_to_a_scaled_usermap_budget(fast):
    # a client budget of 3000 per window: two 1500-mapping batches fill it (2000 + 1000 would not)
    maps = [Mapping(f"scaled-{i}", "scaled-g") for i in range(4000)]
    async with make_client(fast, limits={"usermap": (3000, 0.5)}) as client:
        assert client.amplitude.usermap_batch_size() == 1500
        assert await client.amplitude.map_users(maps) == 3
    assert [(e["items"], e["status"]) for e in api_log(fast, "/usermap")] == [(1500, 200), (1500, 200), (1000, 200)]


def sized(total: int) -> list[Mapping]:
    maps = [Mapping(f"big-{i}-" + "x" * 40_000, f"big-g{i}") for i in range(24)]
    size = amp.usermap_body_size(maps, API_KEY)
    maps[-1] = Mapping(maps[-1].user_id + "y" * (total - size), maps[-1].global_user_id)
    return maps


async def test_just_under_and_just_over_1_mb_is_1_vs_2_requests(fast):
    async with make_client(fast, limits=FAST_LIMITS) as client:
        assert await client.amplitude.map_users(sized(amp.USERMAP_MAX_BYTES)) == 1
        log = api_log(fast, "/usermap")
        # the sandbox counts the bytes it received: our measure is the real encoded size
        assert [(e["status"], e["body_bytes"]) for e in log] == [(200, amp.USERMAP_MAX_BYTES)]
        fast.clear_requests()
        assert await client.amplitude.map_users(sized(amp.USERMAP_MAX_BYTES + 1)) == 2
    log = api_log(fast, "/usermap")
    assert [e["status"] for e in log] == [200, 200]
    assert sum(e["items"] for e in log) == 24
    assert all(e["body_bytes"] <= amp.USERMAP_MAX_BYTES for e in log)


async def test_oversized_batch_is_refused_before_sending(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(BadInput, match="split"):
            await client.amplitude.map_batch([Mapping(f"u{i}", "g") for i in range(2001)])
        with pytest.raises(BadInput, match="too large"):
            await client.amplitude.map_users([Mapping("u", "g" * 1_100_000)])
    assert api_log(sandbox_clean) == []


async def test_400_reason_is_shown_and_not_retried(sandbox_clean):
    sandbox_clean.fault(path="/usermap", status=400, body="mapping[0]: global_user_id must be a non-empty string")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected) as info:
            await client.amplitude.map_batch([Mapping("u", "g")])
    assert info.value.status == 400 and "global_user_id must be a non-empty string" in str(info.value)
    assert len(api_log(sandbox_clean, "/usermap")) == 1


async def test_map_is_idempotent_so_resets_and_5xx_are_retried(sandbox_clean):
    sandbox_clean.fault(path="/usermap", reset=True, after_apply=True)
    sandbox_clean.fault(path="/usermap", status=503)
    async with make_client(sandbox_clean, retry=amp_retry(4)) as client:
        await client.amplitude.map_batch([Mapping("retry-u", "retry-g")])
    assert [e["status"] for e in api_log(sandbox_clean, "/usermap")] == [None, 503, 200]
    assert sandbox_clean.state()["amplitude"]["mappings"]["retry-u"] == "retry-g"


def amp_retry(attempts: int):
    from idconsole.api.transport import RetryPolicy

    return RetryPolicy.fast(attempts=attempts)


# -- get mappings ------------------------------------------------------------------------------------

async def test_100_vs_101_ids_is_1_vs_2_requests(sandbox_clean):
    ids = [f"nobody-{i}" for i in range(101)]
    async with make_client(sandbox_clean) as client:
        got = await client.amplitude.get_mappings(ids[:100] + ids[:50])   # duplicates are asked once
        assert len(got) == 100
        assert [e["items"] for e in api_log(sandbox_clean, "/api/2/usermap")] == [100]
        sandbox_clean.clear_requests()
        got = await client.amplitude.get_mappings(ids)
    assert list(got) == ids and all(m.mapped_to == () for m in got.values())
    assert sorted(e["items"] for e in api_log(sandbox_clean, "/api/2/usermap")) == [1, 100]


async def test_1000_ids_fan_out_to_10_requests_and_merge(sandbox_clean):
    sandbox_clean.seed_users(mappings=[(f"fan-{i}", "fan-global") for i in range(0, 1000, 10)])
    ids = [f"fan-{i}" for i in range(1000)]
    async with make_client(sandbox_clean) as client:
        got = await client.amplitude.get_mappings(ids)
    log = api_log(sandbox_clean, "/api/2/usermap")
    assert len(log) == 10 and all(e["status"] == 200 and e["items"] == 100 for e in log)
    assert sum(1 for m in got.values() if m.global_user_id == "fan-global") == 100
    assert got["fan-1"].mapped_to == ()


async def test_long_ids_stay_correct(sandbox_clean):
    ids = [f"auth0|{i:03d}" + "7f3e9c1a0b2d4e6f" * 18 for i in range(100)]   # ~300 chars each
    sandbox_clean.seed_users(mappings=[(ids[0], ids[1])])
    async with make_client(sandbox_clean) as client:
        got = await client.amplitude.get_mappings(ids)
    assert got[ids[0]].global_user_id == ids[1]
    assert got[ids[1]].mapped_from[0].user_id == ids[0]
    log = api_log(sandbox_clean, "/api/2/usermap")
    assert all(e["status"] == 200 for e in log) and sum(e["items"] for e in log) == 100


TRICKY_IDS = ["a&user_ids=b", "x=y", "plus+sign", "hash#tag", "100%", "two words", "mail@example.com",
              "urn:id/7", "ünï-côdé", "q?r", "semi;colon", "tilde~dot.dash-under_"]


async def test_tricky_ids_travel_intact_in_a_query_encoded_once(sandbox_clean):
    sandbox_clean.seed_users(mappings=[(u, "tricky-global") for u in TRICKY_IDS])
    async with make_client(sandbox_clean) as client:
        got = await client.amplitude.get_mappings(TRICKY_IDS)
        sent = client.transport._http._transport.sent  # type: ignore[attr-defined]
    assert {u: got[u].global_user_id for u in TRICKY_IDS} == dict.fromkeys(TRICKY_IDS, "tricky-global")
    [(ids, query)] = amp.id_queries(TRICKY_IDS)
    assert ids == TRICKY_IDS
    # the query on the wire is the one id_queries built and measured: httpx did not encode it again
    assert [r.url.query.decode("ascii") for r in sent] == [query]
    assert all(API_KEY not in str(r.url) for r in sent)


async def test_mappings_wrapper_shape_is_parsed(sandbox_clean):
    body = {"a": {"mappings": {"mapped_to": [{"user_id": "b", "amplitude_id": 7}], "mapped_from": []}}}
    sandbox_clean.fault(path="/api/2/usermap", status=200, body=json.dumps(body), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        got = await client.amplitude.get_mappings(["a", "c"])
    assert got["a"].global_user_id == "b" and got["a"].mapped_to[0].amplitude_id == 7
    assert got["c"].mapped_to == ()


@pytest.mark.parametrize(("body", "ctype"), [
    ("<html>gateway says hi</html>", "text/html"),
    ('["a", "list"]', "application/json"),
    ('{"a": "not an object"}', "application/json"),
])
async def test_unexpected_mapping_bodies_are_server_rejected(sandbox_clean, body, ctype):
    sandbox_clean.fault(path="/api/2/usermap", status=200, body=body, content_type=ctype)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="unexpected response"):
            await client.amplitude.get_mappings(["a"])


async def test_a_failing_chunk_fails_the_lookup(sandbox_clean):
    sandbox_clean.fault(path="/api/2/usermap", status=400, body="user_ids is required")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="user_ids is required"):
            await client.amplitude.get_mappings([f"x{i}" for i in range(300)])


# -- user search -------------------------------------------------------------------------------------

async def test_search_is_cached_and_spends_budget_only_on_real_requests(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "searched@example.com", "device_ids": ["dev-1"]}])
    async with make_client(sandbox_clean) as client:
        first = await client.amplitude.search("searched@example.com")
        again = await client.amplitude.search("searched@example.com")
        remaining = {b.family: b.remaining for b in client.budgets()}["usersearch"]
        fresh = await client.amplitude.search("searched@example.com", use_cache=False)
        by_device = await client.amplitude.search("dev-1")
        nomatch = await client.amplitude.search("no-such-user-anywhere")
        after = {b.family: b.remaining for b in client.budgets()}["usersearch"]
    assert first.matches[0].user_id == "searched@example.com" and not first.cached
    assert again.cached and again.matches == first.matches and not fresh.cached
    assert by_device.matches[0].user_id == "searched@example.com"
    assert nomatch.type == "nomatch" and nomatch.matches == ()
    assert remaining == 359 and after == 356
    assert len(api_log(sandbox_clean, "/api/2/usersearch")) == 4


@pytest.mark.parametrize("body", ["not json at all", '{"unexpected": true}'])
async def test_search_bad_bodies(sandbox_clean, body):
    sandbox_clean.fault(path="/api/2/usersearch", status=200, body=body)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="unexpected response") as info:
            await client.amplitude.search("x")
    assert "KeyError" not in str(info.value) and "JSONDecodeError" not in repr(info.value)


# -- user profile ------------------------------------------------------------------------------------

PROFILE_USER = {
    "user_id": "prof-u", "device_ids": ["prof-d"], "user_properties": {"plan": "pro", "city": "Oslo"},
    "computed_properties": {"12": "3", "13": "x"}, "cohort_ids": ["c1", "c2"],
    "recommendations": {"r1": {"items": ["sku1", "sku2", "sku3"], "is_control": False,
                               "recommendation_source": "model", "child_rec_id": "r1a"}},
    "propensities": {"pred-1": {"score": 0.7, "pct": 70}},
}


async def test_profile_real_shape_with_every_parameter(sandbox_clean):
    sandbox_clean.seed_users(users=[PROFILE_USER])
    async with make_client(sandbox_clean) as client:
        p = await client.amplitude.profile(
            "prof-u", computations=True, comp_ids=["12"], rec_ids=["r1"], rec_type="model", propensity=True,
            prediction_id="pred-1", propensity_type="score", limit=2)
        by_device = await client.amplitude.profile(device_id="prof-d", cohort_ids=False)
    assert p.user_properties == {"plan": "pro", "city": "Oslo"}
    assert p.computed_properties == {"computed-prop-12": "3"}
    assert p.cohort_ids == ("c1", "c2")
    rec = p.recommendations[0]
    assert (rec.rec_id, rec.items, rec.source, rec.child_rec_id) == ("r1", ("sku1", "sku2"), "model", "r1a")
    assert p.propensities[0]["prop"] == 0.7
    assert by_device.user_properties["plan"] == "pro" and by_device.cohort_ids == ()
    query = api_log(sandbox_clean, "/v1/userprofile")[0]["query"]
    for part in ("user_id=prof-u", "get_amp_props=true", "get_cohort_ids=true", "get_computations=true",
                 "comp_id=12", "get_recs=true", "rec_id=r1", "rec_type=model", "get_propensity=true",
                 "prediction_id=pred-1", "propensity_type=score", "limit=2"):
        assert part in query


async def test_profile_seed_shape(sandbox_clean):
    seed = {"userData": {"user_id": "s1", "user_properties": {"a": 1}, "computed_properties": {"c": 2},
                         "cohort_ids": ["k"], "amplitude_id": 42,
                         "recommendations": [{"rec_id": "r", "child_ids": ["i1"], "is_control": True,
                                              "recommendation_type": "model", "title": "Picks"}]}}
    sandbox_clean.fault(path="/v1/userprofile", status=200, body=json.dumps(seed), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        p = await client.amplitude.profile("s1")
    assert (p.user_properties, p.computed_properties, p.amplitude_id) == ({"a": 1}, {"c": 2}, 42)
    assert p.recommendations[0].items == ("i1",) and p.recommendations[0].title == "Picks"
    assert p.to_json()["recommendations"][0]["source"] == "model"


async def test_profile_in_eu_is_not_offered_and_sends_nothing(sandbox_clean):
    async with make_client(sandbox_clean, region="eu") as client:
        with pytest.raises(NotOffered, match="not offered in Amplitude's EU region"):
            await client.amplitude.profile("prof-u")
    assert api_log(sandbox_clean) == []


@pytest.mark.parametrize("status", [None, 404, 200])
async def test_unknown_user_is_not_found(sandbox_clean, status):
    if status is not None:  # the real sandbox answers 400; script the other documented variants
        sandbox_clean.fault(path="/v1/userprofile", status=status, content_type="application/json",
                            body=json.dumps({"error": "User id and device id not seen before"}))
    async with make_client(sandbox_clean) as client:
        with pytest.raises(NotFound, match="has not seen"):
            await client.amplitude.profile("never-seen-user")
    assert len(api_log(sandbox_clean, "/v1/userprofile")) == 1


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({}, "user_id or a device_id"),
    ({"user_id": "u", "rec_type": "model"}, "rec_id"),
    ({"user_id": "u", "rec_ids": ["r"], "rec_type": "best"}, "rec_type"),
    ({"user_id": "u", "propensity": True}, "prediction_id"),
    ({"user_id": "u", "prediction_id": "p", "propensity_type": "odds"}, "propensity_type"),
    ({"user_id": "u", "limit": 0}, "limit"),
])
async def test_profile_parameters_are_checked_before_sending(sandbox_clean, kwargs, reason):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(BadInput, match=reason):
            await client.amplitude.profile(**kwargs)
    assert api_log(sandbox_clean) == []


async def test_profile_400_shows_the_error(sandbox_clean):
    sandbox_clean.seed_users(users=[PROFILE_USER])
    sandbox_clean.fault(path="/v1/userprofile", status=400, content_type="application/json",
                        body=json.dumps({"error": "rec_id is required when get_recs is true"}))
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="rec_id is required"):
            await client.amplitude.profile("prof-u")


# -- identify ----------------------------------------------------------------------------------------

async def test_identify_applies_every_operation(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "idf-u", "user_properties": {"n": 1, "tags": ["a"], "gone": 1}}])
    async with make_client(sandbox_clean) as client:
        await client.amplitude.identify([
            {"user_id": "idf-u", "user_properties": {"$set": {"plan": "pro"}, "$add": {"n": 2},
                                                      "$append": {"tags": "b"}, "$unset": {"gone": "-"}}},
            {"user_id": "idf-new", "user_properties": {"plain": "value"}, "country": "NO"},
        ])
    props = user(sandbox_clean, "idf-u")["user_properties"]
    assert props["plan"] == "pro" and props["n"] == 3 and props["tags"] == ["a", "b"] and "gone" not in props
    assert user(sandbox_clean, "idf-new")["user_properties"]["plain"] == "value"
    assert api_log(sandbox_clean, "/identify")[0]["items"] == 2


async def test_invalid_identify_sends_nothing(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(BadInput, match="mix plain keys"):
            await client.amplitude.identify([{"user_id": "u", "user_properties": {"$set": {"a": 1}, "b": 2}}])
        with pytest.raises(BadInput, match="Nothing"):
            await client.amplitude.identify([])
    assert api_log(sandbox_clean) == []


async def test_add_after_apply_reset_is_unknown_outcome_and_applied_once(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "once-u", "user_properties": {"n": 10}}])
    sandbox_clean.fault(path="/identify", reset=True, after_apply=True)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(UnknownOutcome, match=r"\$add") as info:
            await client.amplitude.identify([{"user_id": "once-u", "user_properties": {"$add": {"n": 5}}}])
    assert info.value.exit_code == 1
    assert user(sandbox_clean, "once-u")["user_properties"]["n"] == 15
    assert len(api_log(sandbox_clean, "/identify")) == 1


@pytest.mark.parametrize("fault", [{"status": 503}, {"status": 500, "after_apply": True},
                                   {"status": None, "delay_ms": 800}])
async def test_add_is_not_retried_after_5xx_or_timeout(sandbox_clean, fault):
    sandbox_clean.seed_users(users=[{"user_id": "once-v", "user_properties": {"n": 1}}])
    sandbox_clean.fault(path="/identify", **fault)
    async with make_client(sandbox_clean, timeout=0.5) as client:
        with pytest.raises(UnknownOutcome):
            await client.amplitude.identify([{"user_id": "once-v", "user_properties": {"$add": {"n": 1}}}])
        await settle(sandbox_clean, client)
    assert len(api_log(sandbox_clean, "/identify")) == 1
    n = user(sandbox_clean, "once-v")["user_properties"]["n"]
    if fault["status"] is None:
        assert n in (1, 2)     # the server may or may not finish a request the client gave up on; never twice
    else:
        assert n == (2 if fault.get("after_apply") else 1)


async def test_add_is_retried_after_429_because_the_server_refused_it(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "once-w", "user_properties": {"n": 1}}])
    sandbox_clean.fault(path="/identify", status=429, headers={"Retry-After": "0"})
    async with make_client(sandbox_clean) as client:
        await client.amplitude.identify([{"user_id": "once-w", "user_properties": {"$add": {"n": 1}}}])
    assert user(sandbox_clean, "once-w")["user_properties"]["n"] == 2
    assert [e["status"] for e in api_log(sandbox_clean, "/identify")] == [429, 200]


async def test_set_only_identify_is_retried_after_a_reset(sandbox_clean):
    sandbox_clean.fault(path="/identify", reset=True, after_apply=True)
    async with make_client(sandbox_clean) as client:
        await client.amplitude.identify([{"user_id": "set-u", "user_properties": {"$set": {"plan": "team"}}}])
    assert user(sandbox_clean, "set-u")["user_properties"]["plan"] == "team"
    assert [e["status"] for e in api_log(sandbox_clean, "/identify")] == [None, 200]


@pytest.mark.parametrize(("status", "body", "match"), [
    (400, "missing_event", "missing_event"),
    (413, "Request entity too large", "too large"),
    (414, "URI Too Long", "too long"),
])
async def test_identify_rejections(sandbox_clean, status, body, match):
    sandbox_clean.fault(path="/identify", status=status, body=body)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match=match) as info:
            await client.amplitude.identify([{"user_id": "u", "user_properties": {"a": 1}}])
    assert info.value.status == status
    assert len(api_log(sandbox_clean, "/identify")) == 1


async def test_real_413_from_the_sandbox_for_a_body_over_1_mib(sandbox_clean):
    # the client does not cap identify bodies: the server says too large, and that is not retried
    props = {f"k{i}": "v" * 1000 for i in range(1100)}
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="too large") as info:
            await client.amplitude.identify([{"user_id": "big-u", "user_properties": props}])
    assert info.value.status == 413


async def test_concurrent_calls_share_one_connection_pool(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        http = client.transport._http  # the one AsyncClient
        results = await asyncio.gather(*(client.amplitude.get_mappings([f"p{i}"]) for i in range(20)))
        assert client.transport._http is http
    assert len(results) == 20

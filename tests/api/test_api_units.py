"""Pure parts of the api layer, no server: batch splitting, identify validation, hosts, budgets'
decisions (fake clock), Retry-After parsing, tolerant parsers, redaction and reprs."""

from __future__ import annotations

import asyncio
import email.utils
import json
from urllib.parse import urlencode

import pytest
from api_support import connection, fresh_budgets  # noqa: F401

from idconsole.api import amplitude as amp
from idconsole.api.client import ApiClient
from idconsole.api.errors import BadInput, Throttled
from idconsole.api.hosts import resolve_hosts
from idconsole.api.models import Mapping
from idconsole.api.parse import ShapeError, parse_engage, parse_mappings, parse_profile, parse_search
from idconsole.api.ratelimit import RollingBudget, owner_hash, shared_budget
from idconsole.api.transport import Redactor, parse_retry_after
from idconsole.config.secret import Secret

KEY = "sandbox-api-key"


def real_body_size(batch: list[Mapping], key: str) -> int:
    """What httpx would send: urlencode of the form fields."""
    return len(urlencode(amp.usermap_body(batch, key)).encode())


# -- split_usermap_batches -------------------------------------------------------------------------

def test_split_counts_2000_vs_2001():
    maps = [Mapping(f"u{i}", "g") for i in range(2001)]
    assert [len(b) for b in amp.split_usermap_batches(maps[:2000], api_key=KEY)] == [2000]
    assert [len(b) for b in amp.split_usermap_batches(maps, api_key=KEY)] == [2000, 1]
    assert amp.split_usermap_batches([], api_key=KEY) == []


@pytest.mark.parametrize("ids", [["plain", "g"], ["ünïcødé ✓ 😀", "<b>&amp;</b> +/=?"], ["a" * 500, "\"q\" \\ \n"]])
def test_body_size_is_exactly_what_is_sent(ids):
    batch = [Mapping(ids[0], ids[1]), Mapping(ids[1], unmap=True), Mapping(ids[0] + "2", ids[1])]
    for key in (KEY, "kéy with spaces&="):
        assert amp.usermap_body_size(batch, key) == real_body_size(batch, key)


def _sized_mappings(total: int) -> list[Mapping]:
    """Mappings whose encoded body (with KEY) is exactly `total` bytes."""
    maps = [Mapping(f"user-{i}-" + "x" * 40_000, f"global-{i}") for i in range(24)]
    size = amp.usermap_body_size(maps, KEY)
    last = maps[-1]
    maps[-1] = Mapping(last.user_id + "y" * (total - size), last.global_user_id)
    assert amp.usermap_body_size(maps, KEY) == total
    return maps


def test_split_bytes_just_under_and_just_over_the_limit():
    limit = amp.USERMAP_MAX_BYTES
    assert limit <= 1_048_576
    assert len(amp.split_usermap_batches(_sized_mappings(limit), api_key=KEY)) == 1
    over = amp.split_usermap_batches(_sized_mappings(limit + 1), api_key=KEY)
    assert len(over) == 2
    assert all(real_body_size(b, KEY) <= limit for b in over)
    assert [m for b in over for m in b] == _sized_mappings(limit + 1)  # order kept


def test_split_without_key_reserves_room_for_one():
    maps = _sized_mappings(amp.USERMAP_MAX_BYTES)
    # the reserve (128 bytes) is larger than this key, so the split is more cautious, never less
    assert len(amp.split_usermap_batches(maps)) == 2


def test_single_mapping_too_large_alone_is_bad_input():
    with pytest.raises(BadInput, match="too large to send on its own"):
        amp.split_usermap_batches([Mapping("u", "g" * 1_000_000)], api_key=KEY)


@pytest.mark.parametrize("mapping", [Mapping("", "g"), Mapping("u"), Mapping("u", "g", unmap=True)])
def test_malformed_mappings_are_bad_input(mapping):
    with pytest.raises(BadInput):
        amp.split_usermap_batches([mapping], api_key=KEY)


@pytest.mark.parametrize(("limit", "size"), [
    (None, 2000), (1, 2000), (1500, 2000), (2000, 2000),     # at or under the cap: the cap (the real 1500/30 s)
    (2001, 1000), (3000, 1500), (4000, 2000), (4500, 1500), (6000, 2000), (6001, 1500), (100_000, 2000),
])  # fmt: skip
def test_usermap_batch_size_follows_the_budget_limit(limit, size):
    assert amp.usermap_batch_size(limit) == size
    if limit is not None and limit > amp.USERMAP_MAX_MAPPINGS:
        # whole batches fill the window exactly as far as equal batches can, and never pass the cap
        assert size <= amp.USERMAP_MAX_MAPPINGS and limit // size == -(-limit // amp.USERMAP_MAX_MAPPINGS)


async def test_client_batch_size_reads_its_usermap_budget():
    scaled = ApiClient(connection("http://127.0.0.1:9"), limits={"usermap": (3000, 3.0)})
    real = ApiClient(connection("http://127.0.0.1:9"))
    nokeys = ApiClient(connection("http://127.0.0.1:9", amplitude=None))
    try:
        assert scaled.amplitude.usermap_batch_size() == 1500
        assert real.amplitude.usermap_batch_size() == 2000
        assert nokeys.amplitude.usermap_batch_size() == 2000
    finally:
        for client in (scaled, real, nokeys):
            await client.aclose()


def test_id_queries_encode_each_id_once_and_decode_back_exactly():
    from urllib.parse import parse_qsl

    ids = ["a&user_ids=b", "x=y", "plus+sign", "hash#tag", "100%", "two words", "mail@example.com",
           "urn:id/7", "ünï-côdé", "tab\there", "plain-id_1.2~"]
    [(chunk, query)] = amp.id_queries(ids)
    assert chunk == ids
    assert parse_qsl(query, keep_blank_values=True) == [("user_ids", u) for u in ids]
    assert query.isascii() and not any(c in query for c in ' #+"<>') and query.count("&") == len(ids) - 1
    assert "user_ids=mail@example.com&" in query and query.endswith("&user_ids=plain-id_1.2~")  # not escaped


def test_id_queries_respect_both_caps_with_the_real_query_length():
    many = amp.id_queries([f"id{i}" for i in range(250)])
    assert [len(c) for c, _ in many] == [100, 100, 50]
    escaped = [f"{i}-" + "ü" * 150 for i in range(100)]     # 6 bytes encoded per character
    chunks = amp.id_queries(escaped)
    assert len(chunks) > 1 and [u for c, _ in chunks for u in c] == escaped
    assert all(len(q) <= amp.GET_MAPPINGS_MAX_QUERY_BYTES for _, q in chunks)
    # each chunk is as full as the cap allows: the next id would not have fitted
    for (_, q), (nxt, _) in zip(chunks, chunks[1:], strict=False):
        assert len(q) + len("&" + amp.id_queries(nxt[:1])[0][1]) > amp.GET_MAPPINGS_MAX_QUERY_BYTES
    alone = "z" * (amp.GET_MAPPINGS_MAX_QUERY_BYTES + 10)
    assert [c for c, _ in amp.id_queries(["a", alone, "b"])] == [["a"], [alone], ["b"]]
    assert amp.id_queries([]) == []


def test_id_chunks_by_count_and_by_url_length():
    assert [len(c) for c in amp.id_chunks([f"id{i}" for i in range(100)])] == [100]
    assert [len(c) for c in amp.id_chunks([f"id{i}" for i in range(101)])] == [100, 1]
    long_ids = [f"{i}-" + "z" * 300 for i in range(100)]
    chunks = amp.id_chunks(long_ids)
    assert len(chunks) > 1 and [i for c in chunks for i in c] == long_ids
    assert all(sum(len(i) + 10 for i in c) <= amp.GET_MAPPINGS_MAX_QUERY_BYTES for c in chunks)


# -- validate_identification ------------------------------------------------------------------------

GOOD = [
    {"user_id": "u1", "user_properties": {"plan": "pro", "nested": {"a": [1, 2]}}},
    {"device_id": "d1", "user_properties": {"$set": {"a": 1}, "$add": {"n": 2}, "$unset": {"old": "-"}}},
    {"user_id": "u1", "user_properties": {"$clearAll": "-"}},
    {"user_id": "u1", "groups": {"org": ["a", "b"], "team": "x"}, "platform": "iOS", "paying": True},
    {"user_id": "u1"},
]
BAD = [
    ({"user_properties": {"a": 1}}, "user_id or a device_id"),
    ({"user_id": 5}, "must be a string"),
    ({"user_id": "u", "user_properties": {"$set": {"a": 1}, "plain": 2}}, "mix plain keys"),
    ({"user_id": "u", "user_properties": {"$increment": {"a": 1}}}, "Unknown user property operation"),
    ({"user_id": "u", "user_properties": {"$unset": {"a": 1}}}, '"-"'),
    ({"user_id": "u", "user_properties": {"$clearAll": True}}, '"-"'),
    ({"user_id": "u", "user_properties": {"$set": []}}, "needs an object"),
    ({"user_id": "u", "user_properties": "plan=pro"}, "must be an object"),
    ({"user_id": "u", "event_type": "x"}, "Unknown identify field"),
    ({"user_id": "u", "groups": {f"t{i}": "g" for i in range(6)}}, "group types"),
    ({"user_id": "u", "groups": {"a": [str(i) for i in range(6)], "b": [str(i) for i in range(5)]}}, "11 groups"),
    ({"user_id": "u", "groups": {"a": {"nested": 1}}}, "name or a list"),
]


@pytest.mark.parametrize("ident", GOOD)
def test_valid_identifications_pass(ident):
    amp.validate_identification(ident)


@pytest.mark.parametrize(("ident", "reason"), BAD)
def test_invalid_identifications_say_why(ident, reason):
    with pytest.raises(BadInput, match=reason.replace("(", r"\(").replace("$", r"\$")):
        amp.validate_identification(ident)


def test_depth_limit_is_40():
    def nest(levels):
        value: object = "leaf"
        for _ in range(levels):
            value = {"k": value}
        return value

    amp.validate_identification({"user_id": "u", "user_properties": nest(40)})
    amp.validate_identification({"user_id": "u", "user_properties": {"$set": nest(40)}})
    with pytest.raises(BadInput, match="41 levels"):
        amp.validate_identification({"user_id": "u", "user_properties": nest(41)})


def test_normalise_sets_unset_values_to_dash():
    out = amp.normalise_identification({"user_id": "u", "user_properties": {"$unset": {"a": None}, "$clearAll": 1}})
    assert out["user_properties"] == {"$unset": {"a": "-"}, "$clearAll": "-"}
    amp.validate_identification(out)


def test_idempotency_classification():
    assert amp.is_idempotent_identification({"user_id": "u", "user_properties": {"$set": {"a": 1}}})
    assert amp.is_idempotent_identification({"user_id": "u", "user_properties": {"a": 1}})
    for op in amp.NON_IDEMPOTENT_OPERATIONS:
        assert not amp.is_idempotent_identification({"user_id": "u", "user_properties": {op: {"a": 1}}})


# -- hosts -----------------------------------------------------------------------------------------

def test_hosts_by_region():
    us, eu, india = resolve_hosts("us"), resolve_hosts("eu"), resolve_hosts("in")
    assert (us.usermap, us.analytics, us.identify, us.profile) == (
        "https://api.amplitude.com", "https://amplitude.com", "https://api2.amplitude.com",
        "https://profile-api.amplitude.com")
    assert (eu.usermap, eu.analytics, eu.identify, eu.profile) == (
        "https://api.eu.amplitude.com", "https://analytics.eu.amplitude.com", "https://api.eu.amplitude.com", None)
    assert (us.mp_ingest, us.mp_query) == ("https://api.mixpanel.com", "https://mixpanel.com")
    assert (eu.mp_ingest, eu.mp_query) == ("https://api-eu.mixpanel.com", "https://eu.mixpanel.com")
    assert (india.mp_ingest, india.mp_query) == ("https://api-in.mixpanel.com", "https://in.mixpanel.com")


def test_base_url_replaces_every_host():
    hosts = resolve_hosts("us", "http://127.0.0.1:9999/")
    assert {hosts.usermap, hosts.analytics, hosts.identify, hosts.profile, hosts.mp_ingest, hosts.mp_query} == {
        "http://127.0.0.1:9999"}
    assert resolve_hosts("eu", "http://proxy/x").profile is None
    with pytest.raises(BadInput):
        resolve_hosts("us", "http://user:pw@proxy")
    with pytest.raises(BadInput):
        resolve_hosts("mars")


# -- budgets: what they decide, on a fake clock ------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(limit=100, window=10.0, **kw) -> tuple[RollingBudget, FakeClock]:
    clock = FakeClock()
    return RollingBudget("usermap", limit, window, clock=clock, sleep=clock.sleep, slack_s=0.0, **kw), clock


async def test_budget_spreads_costs_over_the_window():
    b, clock = budget(100, 10.0)
    waits = [await b.acquire(40) for _ in range(4)]
    # 40 + 40 fit now; the third waits for the first to leave (t=10), the fourth for the second (t=10 too)
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(10.0)
    assert waits[3] == pytest.approx(0.0)
    assert b.remaining() == 20


async def test_reservations_are_served_in_call_order():
    b, clock = budget(10, 5.0)
    starts = [b.reserve(6) for _ in range(3)]  # booked synchronously, no sleeping yet
    assert starts == [0.0, pytest.approx(5.0), pytest.approx(10.0)]
    assert b.remaining() == 0


async def test_cost_above_the_limit_waits_for_an_empty_window():
    b, clock = budget(1500, 30.0)
    assert b.reserve(100) == 0.0
    assert b.reserve(2000) == pytest.approx(30.0)  # like the server: admitted only into an empty window
    assert b.reserve(1) == pytest.approx(60.0)


async def test_throttle_holds_everyone_and_backs_off_adaptively():
    b, clock = budget(100, 10.0)
    b.throttle_first, b.throttle_cap = 2.0, 60.0
    assert b.throttled(retry_after=7.0) == 7.0
    assert b.reserve(1) == pytest.approx(7.0)
    holds = [b.throttled() for _ in range(7)]
    assert 2.0 * 2 <= holds[0] <= 2.0 * 2 * 1.25       # second strike
    assert all(h <= 60.0 for h in holds) and holds[-1] == pytest.approx(60.0, rel=0.25)
    b.succeeded()
    assert b.throttled() <= 2.0 * 1.25


async def test_max_wait_refuses_instead_of_sleeping():
    b, clock = budget(2, 3600.0)
    await b.acquire(1, max_wait=30)
    await b.acquire(1, max_wait=30)
    with pytest.raises(Throttled) as info:
        await b.acquire(1, max_wait=30)
    assert info.value.retry_after == pytest.approx(3600.0)
    assert clock.slept == [] and b.remaining() == 0


async def test_a_request_in_flight_counts_as_now_and_a_slow_answer_pushes_the_next():
    b, clock = budget(100, 10.0)
    first = await b.wait_for(60)            # sent at 1000, answer not back yet
    clock.now = 1015.0
    assert b.plan(60) == pytest.approx(1025.0)   # the server may count it as late as now
    assert b.remaining() == 40
    b.release(first)                        # the answer came back at 1015
    clock.now = 1016.0
    assert await b.acquire(60) == pytest.approx(9.0)
    assert clock.now == pytest.approx(1025.0)


async def test_a_waiter_rechecks_its_slot_when_it_wakes():
    b, clock = budget(100, 10.0)
    first = await b.wait_for(60)

    async def slow_answer(seconds: float) -> None:   # the first answer arrives while the second sleeps
        clock.now += seconds
        if first.open:
            clock.now += 3.0
            b.release(first)

    b._sleep = slow_answer
    await b.acquire(60)
    # booked for 1010, but the first request was counted until 1013: the second goes at 1023, not 1010
    assert clock.now == pytest.approx(1023.0) and b.paced == 1


async def test_a_cancelled_waiter_gives_its_units_back():
    b, clock = budget(100, 10.0)
    await b.acquire(60)

    async def cancelled(seconds: float) -> None:
        raise asyncio.CancelledError

    b._sleep = cancelled
    with pytest.raises(asyncio.CancelledError):
        await b.acquire(60)
    assert b.remaining() == 40


async def test_a_cancelled_waiter_no_longer_holds_back_later_callers():
    b, clock = budget(100, 10.0)
    await b.acquire(60)

    async def cancelled(seconds: float) -> None:
        raise asyncio.CancelledError

    b._sleep = cancelled
    with pytest.raises(asyncio.CancelledError):
        await b.acquire(60)     # was booked for 1010
    assert b.plan(40) == pytest.approx(1000.0)   # its slot went with it: 40 still fit now


def _reference_plan(b: RollingBudget, cost: int) -> float:
    """The precise decision, as the budget made it before it had a fast path: every booking's time,
    sorted, every candidate slot scanned."""
    now = b._clock()
    start = max([now, b._not_before] + [b._when(x, now) for x in b._bookings])
    return b._earliest(cost, start, list(b._bookings), now)


@pytest.mark.parametrize("seed", range(12))
def test_fast_path_decides_exactly_like_the_precise_one(seed):
    import random

    rng = random.Random(seed)
    limit = rng.choice([5, 20, 100])
    b, clock = budget(limit, rng.choice([1.0, 10.0]))
    b.slack_s = rng.choice([0.0, 0.25])
    # even seeds: mostly small costs (the fast path decides most calls); odd: large ones (the precise path)
    costs = [0, 1, 1, 1, 2, limit // 10] if seed % 2 == 0 else [0, 1, 2, limit // 2, limit, limit + 3]
    in_flight = []
    for _ in range(400):
        op = rng.random()
        cost = rng.choice(costs)
        if op < 0.3:
            expected = _reference_plan(b, cost)
            booking = b.book(cost)
            assert booking.t == pytest.approx(expected)
            in_flight.append(booking)
        elif op < 0.4:
            expected = _reference_plan(b, cost)
            assert clock.now + b.reserve(cost) == pytest.approx(expected)
        elif op < 0.7 and in_flight:
            b.release(in_flight.pop(rng.randrange(len(in_flight))))
        elif op < 0.72:
            b.throttled(retry_after=rng.choice([0.5, 3.0]))
        else:
            clock.now = max(clock.now + rng.choice([0.01, 0.3, 1.0, 4.0]),
                            rng.choice([clock.now, max([x.t for x in b._bookings], default=clock.now)]))
        expected = _reference_plan(b, cost)
        assert b.plan(cost) == pytest.approx(expected)


def test_budgets_are_shared_by_project_and_host():
    a = shared_budget("usermap", owner_hash("usermap", "h", "key1"), 1500, 30.0)
    assert shared_budget("usermap", owner_hash("usermap", "h", "key1"), 1500, 30.0) is a
    assert shared_budget("usermap", owner_hash("usermap", "h", "key2"), 1500, 30.0) is not a
    assert "key1" not in repr(a) and "key1" not in owner_hash("usermap", "h", "key1")


async def test_two_clients_on_one_project_share_budgets():
    one = ApiClient(connection("http://127.0.0.1:9"))
    two = ApiClient(connection("http://127.0.0.1:9"))
    try:
        one.budget("usermap").reserve(500)
        assert {b.family: b.remaining for b in two.budgets()}["usermap"] == 1000
        assert [b.family for b in two.budgets()] == ["usermap", "usersearch", "profile", "mixpanel"]
        assert [b.family for b in two.budgets(include_query=True)][-1] == "mpquery"
        eu = ApiClient(connection("http://127.0.0.1:9", region="eu"))
        assert "profile" not in [b.family for b in eu.budgets()]
        await eu.aclose()
    finally:
        await one.aclose()
        await two.aclose()


def test_limits_are_configurable_and_checked():
    client = ApiClient(connection("http://127.0.0.1:9"), limits={"usermap": (3000, 3.0)})
    status = {b.family: b for b in client.budgets()}["usermap"]
    assert (status.limit, status.window_s, status.remaining) == (3000, 3.0, 3000)
    with pytest.raises(ValueError, match="unknown budget"):
        ApiClient(connection("http://127.0.0.1:9"), limits={"identify": (1, 1.0)})


# -- Retry-After -------------------------------------------------------------------------------------

def test_retry_after_seconds_dates_and_garbage():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(42, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 100, usegmt=True), now=now) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None


# -- parsers -----------------------------------------------------------------------------------------

def test_parse_mappings_both_shapes_and_unknown_ids():
    data = {
        "a": {"mapped_to": [{"user_id": "g", "amplitude_id": "12"}], "mapped_from": []},
        "b": {"mappings": {"mapped_from": [{"user_id": "a", "amplitude_id": 5}], "mapped_to": []}},
        "c": None,
    }
    out = parse_mappings(data, ["a", "b", "c", "d"])
    assert out["a"].global_user_id == "g" and out["a"].mapped_to[0].amplitude_id == 12
    assert out["b"].mapped_from[0].user_id == "a"
    assert out["c"].mapped_to == () and out["d"].mapped_from == ()
    with pytest.raises(ShapeError):
        parse_mappings(["not", "a", "dict"], ["a"])
    with pytest.raises(ShapeError):
        parse_mappings({"a": "text"}, ["a"])


def test_parse_search_shapes():
    r = parse_search({"matches": [{"user_id": "u", "amplitude_id": 3}, "junk"], "type": "match_user_or_device_id"}, "u")
    assert r.matches[0].amplitude_id == 3 and len(r.matches) == 1
    assert parse_search({"type": "nomatch", "matches": []}, "x").type == "nomatch"
    with pytest.raises(ShapeError):
        parse_search({"unexpected": 1}, "x")


def test_parse_profile_real_and_seed_shapes():
    real = parse_profile({"userData": {
        "user_id": "u1", "device_id": None, "amp_props": {"plan": "pro", "computed-prop-12": "3"},
        "cohort_ids": ["abc123"], "recommendations": [{"rec_id": "r1", "child_rec_id": "r1a", "items": ["sku1"],
        "is_control": False, "recommendation_source": "model", "last_updated": 1700000000}], "propensities": []}})
    assert real.user_properties == {"plan": "pro"} and real.computed_properties == {"computed-prop-12": "3"}
    assert real.recommendations[0].items == ("sku1",) and real.recommendations[0].source == "model"
    assert real.recommendations[0].child_rec_id == "r1a" and real.cohort_ids == ("abc123",)
    seed = parse_profile({"userData": {
        "user_id": "u2", "user_properties": {"a": 1}, "computed_properties": {"c": 2}, "cohort_ids": {},
        "recommendations": [{"rec_id": "r2", "child_ids": ["x", "y"], "is_control": True,
                             "recommendation_type": "random", "title": "For you"}], "amplitude_id": 99}})
    assert (seed.user_properties, seed.computed_properties, seed.amplitude_id) == ({"a": 1}, {"c": 2}, 99)
    rec = seed.recommendations[0]
    assert (rec.items, rec.is_control, rec.source, rec.title) == (("x", "y"), True, "random", "For you")
    with pytest.raises(ShapeError):
        parse_profile({"something": "else"})


def test_parse_engage():
    p = parse_engage({"results": [{"$distinct_id": "canon", "$properties": {"$name": "A"}}]}, "alias")
    assert (p.distinct_id, p.requested_id, p.properties) == ("canon", "alias", {"$name": "A"})
    assert parse_engage({"results": []}, "x") is None
    with pytest.raises(ShapeError):
        parse_engage({"results": [{"$properties": {}}]}, "x")


# -- redaction and reprs ----------------------------------------------------------------------------

def test_redactor_scrubs_secrets_and_basic_pairs():
    import base64

    r = Redactor([Secret("topsecret-1"), Secret("apikey-2"), None])
    pair = base64.b64encode(b"apikey-2:topsecret-1").decode()
    out = r(f"bad key apikey-2 and topsecret-1 in Basic {pair}")
    assert "apikey-2" not in out and "topsecret-1" not in out and pair not in out
    assert "topsecret" not in repr(r) and "apikey" not in repr(r)


def test_reprs_never_show_secrets():
    client = ApiClient(connection("http://127.0.0.1:9"))
    for obj in (client, client.amplitude, client.mixpanel, client.transport, client.budget("usermap"),
                client.connection):
        text = repr(obj)
        assert "sandbox-api-key" not in text and "sandbox-secret-key" not in text and "sandbox-token" not in text


def test_wire_json_is_compact_and_keeps_unicode():
    body = amp.usermap_body([Mapping("ü", "g")], KEY)
    assert json.loads(body["mapping"]) == [{"user_id": "ü", "global_user_id": "g"}]
    assert body["mapping"] == '[{"user_id":"ü","global_user_id":"g"}]'


def test_a_call_in_flight_never_shows_its_credentials():
    from idconsole.api.transport import Call

    call = Call("POST", "http://h/usermap", "/usermap", service="s", credential="the API key",
                data={"api_key": "sandbox-api-key"}, headers={"Authorization": "Basic c2VjcmV0"})
    assert repr(call) == "Call(POST /usermap, idempotent=True)" and str(call) == repr(call)

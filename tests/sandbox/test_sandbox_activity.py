"""The sandbox's events over real HTTP: user activity and stream query answer from the event store with
the vendors' semantics (after U→G, G's stream holds U's and G's events), the demo tells the story in
events, and the Dashboard REST / Query API families take 5 requests in flight and answer 429 beyond."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import API_KEY, SA, SECRET_KEY, TOKEN, SandboxServer

from idconsole.sandbox import demo, demo_events
from idconsole.sandbox.state import SandboxState

AMP = (API_KEY, SECRET_KEY)
KIOSK_USERS = demo.BIG_PARENT_CHILDREN[:demo_events.KIOSK_USER_COUNT]
YEARS = {"from_date": "2019-01-01", "to_date": "2024-12-31", "project_id": "1"}


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer.start("--latency-ms", "300")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow(slow_sandbox: SandboxServer) -> SandboxServer:
    slow_sandbox.reset()
    return slow_sandbox


def amp_id(sb: SandboxServer, user_id: str) -> int:
    found = sb.http.get("/api/2/usersearch", params={"user": user_id}, auth=AMP).json()
    return found["matches"][0]["amplitude_id"]


def activity(sb: SandboxServer, amplitude_id: int, **params) -> dict:
    reply = sb.http.get("/api/2/useractivity", params={"user": str(amplitude_id), **params}, auth=AMP)
    assert reply.status_code == 200, reply.text
    return reply.json()


def stream(sb: SandboxServer, ids: list[str], **params) -> list[dict]:
    reply = sb.http.get("/api/query/stream/query", params={**YEARS, "distinct_ids": json.dumps(ids), **params},
                        auth=SA)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "ok"
    return reply.json()["results"]["events"]


def usermap(sb: SandboxServer, mapping: list[dict]) -> None:
    reply = sb.http.post("/usermap", data={"api_key": API_KEY, "mapping": json.dumps(mapping)})
    assert reply.status_code == 200, reply.text


# -- Amplitude user activity ----------------------------------------------------------------------------

def test_the_wrong_mapping_put_hanks_history_under_the_phone_id(sandbox_clean):
    hank, phone = amp_id(sandbox_clean, demo.STORY_USER), amp_id(sandbox_clean, demo.STORY_PHONE_USER)
    phones = activity(sandbox_clean, phone)
    hanks = activity(sandbox_clean, hank)
    data = phones["userData"]
    assert (data["user_id"], data["canonical_amplitude_id"], data["merged_amplitude_ids"]) == (
        demo.STORY_PHONE_USER, phone, [hank])
    assert data["num_events"] == len(phones["events"]) == len(hanks["events"]) + sum(
        e["amplitude_id"] == phone for e in phones["events"])
    assert data["num_sessions"] == len({e["session_id"] for e in phones["events"]} - {-1})
    assert (data["first_used"], data["last_used"]) == ("2019-03-14", "2024-06-10")
    assert hanks["userData"]["merged_amplitude_ids"] == [] and {e["amplitude_id"] for e in hanks["events"]} == {hank}
    event = phones["events"][0]
    assert set(event) >= {"event_type", "event_time", "amplitude_id", "user_id", "device_id", "session_id",
                          "platform", "event_properties", "user_properties", "uuid", "$insert_id"}
    assert len(event["event_time"]) == len("2024-06-10 11:39:07.634000")
    times = [e["event_time"] for e in phones["events"]]
    assert times == sorted(times, reverse=True)


def test_the_fix_moves_the_phone_into_hanks_stream(sandbox_clean):
    hank, phone = amp_id(sandbox_clean, demo.STORY_USER), amp_id(sandbox_clean, demo.STORY_PHONE_USER)
    before = activity(sandbox_clean, phone)["userData"]["num_events"]
    usermap(sandbox_clean, [{"user_id": demo.STORY_USER, "unmap": True}])
    usermap(sandbox_clean, [{"user_id": demo.STORY_PHONE_USER, "global_user_id": demo.STORY_USER}])
    hanks, phones = activity(sandbox_clean, hank), activity(sandbox_clean, phone)
    assert hanks["userData"]["merged_amplitude_ids"] == [phone]
    assert hanks["userData"]["num_events"] == before
    assert phones["userData"]["merged_amplitude_ids"] == [] and {e["amplitude_id"] for e in phones["events"]} == {phone}
    anonymous = [e for e in hanks["events"] if e["user_id"] is None]
    assert {e["device_id"] for e in anonymous} == {demo.STORY_PHONE_DEVICE} and len(anonymous) == 3


def test_an_anonymous_device_is_merged_into_the_user_who_logs_in_on_it(sandbox_clean):
    t = 1_717_000_000_000
    events = [
        {"event_type": "app opened", "time": t, "device_id": "dev-anon-77", "platform": "Android"},
        {"event_type": "screen viewed", "time": t + 1000, "device_id": "dev-anon-77", "platform": "Android"},
        {"event_type": "login", "time": t + 2000, "device_id": "dev-anon-77", "user_id": "newbie@example.com",
         "session_id": t, "platform": "Android"},
        {"event_type": "login", "time": t + 2000, "device_id": "dev-anon-77", "user_id": "newbie@example.com",
         "session_id": t, "platform": "Android", "insert_id": "dup-1"},
        {"event_type": "login", "time": t + 2000, "device_id": "dev-anon-77", "user_id": "newbie@example.com",
         "session_id": t, "platform": "Android", "insert_id": "dup-1"},
    ]
    kept = sandbox_clean.http.post("/_sandbox/events", json={"amplitude": events}).json()
    assert kept["ok"] and kept["kept"] == 4   # the repeated insert_id is dropped
    newbie = amp_id(sandbox_clean, "newbie@example.com")
    data = activity(sandbox_clean, newbie)
    (anon,) = data["userData"]["merged_amplitude_ids"]
    assert data["userData"]["num_events"] == 4 and data["userData"]["device_ids"] == ["dev-anon-77"]
    assert activity(sandbox_clean, anon)["userData"]["canonical_amplitude_id"] == newbie


def test_the_kiosk_device_is_seen_under_many_user_ids(sandbox_clean):
    state = sandbox_clean.state()
    owners = [u["user_id"] for u in state["amplitude"]["users"] if demo_events.KIOSK_DEVICE in u["device_ids"]]
    assert sorted(owners) == sorted(KIOSK_USERS) and len(owners) == 12
    fleet = activity(sandbox_clean, amp_id(sandbox_clean, demo.BIG_PARENT))
    on_kiosk = {e["user_id"] for e in fleet["events"] if e["device_id"] == demo_events.KIOSK_DEVICE}
    assert on_kiosk == set(KIOSK_USERS)
    assert len(fleet["userData"]["merged_amplitude_ids"]) == len(demo.BIG_PARENT_CHILDREN)


def test_paging_limits_and_refusals(sandbox_clean):
    t = 1_700_000_000_000
    events = [{"event_type": f"e{n}", "time": t + n, "user_id": "pager@example.com"} for n in range(1500)]
    sandbox_clean.http.post("/_sandbox/events", json={"amplitude": events})
    who = amp_id(sandbox_clean, "pager@example.com")
    assert len(activity(sandbox_clean, who, limit="5000")["events"]) == 1000   # capped at 1000
    tail = activity(sandbox_clean, who, offset="1490", direction="earliest")["events"]
    assert [e["event_type"] for e in tail] == [f"e{n}" for n in range(1490, 1500)]
    assert activity(sandbox_clean, who, limit="3")["events"][0]["event_type"] == "e1499"
    unknown = activity(sandbox_clean, 999)
    assert unknown["events"] == [] and unknown["userData"]["user_id"] is None
    http = sandbox_clean.http
    for params in ({"user": "hank@globex.net"}, {"user": "1", "limit": "-1"}, {"user": "1", "direction": "up"}):
        assert http.get("/api/2/useractivity", params=params, auth=AMP).status_code == 400
    assert http.get("/api/2/useractivity", params={"user": "1"}).status_code == 401
    assert http.get("/api/2/useractivity", params={"user": "1"}, auth=(API_KEY, "wrong")).status_code == 401


def test_user_activity_spends_the_user_search_window(start_sandbox):
    sb = start_sandbox("--usersearch-rate", "2/3600")
    assert sb.http.get("/api/2/usersearch", params={"user": demo.STORY_USER}, auth=AMP).status_code == 200
    assert sb.http.get("/api/2/useractivity", params={"user": "100000001"}, auth=AMP).status_code == 200
    refused = sb.http.get("/api/2/useractivity", params={"user": "100000001"}, auth=AMP)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 3000
    assert sb.http.get("/api/2/usersearch", params={"user": demo.STORY_USER}, auth=AMP).status_code == 429


# -- concurrency caps -----------------------------------------------------------------------------------

async def test_more_than_5_in_flight_are_answered_429(slow):
    async with httpx.AsyncClient(base_url=slow.base_url, timeout=30) as http:
        searches = await asyncio.gather(*(http.get("/api/2/usersearch", params={"user": "x"}, auth=AMP)
                                          for _ in range(8)))
        engage = await asyncio.gather(*(http.post("/api/query/engage", params={"project_id": "1"},
                                                  data={"distinct_id": demo.STORY_USER}, auth=SA)
                                        for _ in range(7)))
        track = await asyncio.gather(*(http.post("/track", data={"data": json.dumps(
            {"event": "ping", "properties": {"token": TOKEN, "distinct_id": "p"}})}) for _ in range(7)))
    assert Counter(r.status_code for r in searches) == {200: 5, 429: 3}
    refusal = next(r for r in searches if r.status_code == 429)
    assert "at most 5" in refusal.json()["error"] and refusal.headers["retry-after"] == "1"
    assert Counter(r.status_code for r in engage) == {200: 5, 429: 2}
    assert all(r.status_code == 200 for r in track)   # ingestion is not a Query API call
    caps = slow.http.get("/_sandbox/concurrency").json()
    assert caps["amplitude_rest"]["peak"] == 5 and caps["amplitude_rest"]["refused"] >= 3
    assert caps["mixpanel_query"] == {"limit": 5, "in_flight": 0, "peak": 5, "admitted": 5, "refused": 2}
    logged = [e for e in slow.requests() if e["status"] == 429]
    assert logged and all("concurrency cap" in e["fault"] for e in logged)


def test_a_reset_clears_the_counts(slow):
    slow.http.get("/api/2/usersearch", params={"user": "x"}, auth=AMP)
    assert slow.http.get("/_sandbox/concurrency").json()["amplitude_rest"]["admitted"] == 1
    slow.reset()
    assert slow.http.get("/_sandbox/concurrency").json()["amplitude_rest"]["admitted"] == 0


# -- Mixpanel stream query and engage reads -------------------------------------------------------------

def test_stream_query_answers_from_the_clusters(sandbox_clean):
    phone = stream(sandbox_clean, [demo.STORY_MP_PHONE_ANON])
    assert {e["properties"]["distinct_id"] for e in phone} == {demo.STORY_MP_PHONE_ANON}
    assert [e["properties"]["time"] for e in phone] == sorted(e["properties"]["time"] for e in phone)
    hank = stream(sandbox_clean, [demo.STORY_USER])
    assert {e["properties"]["distinct_id"] for e in hank} == {demo.STORY_USER, demo.STORY_MP_WEB_ANON}
    # the phone's cluster merged into Hank's: his stream holds the phone's events
    merge = [{"event": "$merge", "properties": {"$distinct_ids": [demo.STORY_USER, demo.STORY_MP_PHONE_ANON],
                                                "token": TOKEN}}]
    reply = sandbox_clean.http.post("/import", params={"strict": "1", "project_id": "1"}, json=merge, auth=SA)
    assert reply.status_code == 200, reply.text
    merged = stream(sandbox_clean, [demo.STORY_USER])
    assert len(merged) == len(hank) + len(phone)
    assert stream(sandbox_clean, [demo.STORY_USER], from_date="2024-06-03", to_date="2024-06-03") == [
        e for e in merged if e["properties"]["distinct_id"] == demo.STORY_MP_PHONE_ANON
        and e["properties"]["time"] < 1717459200]


def test_stream_query_refuses_bad_requests(sandbox_clean):
    http = sandbox_clean.http
    ok = {**YEARS, "distinct_ids": json.dumps([demo.STORY_USER])}
    assert http.get("/api/query/stream/query", params=ok).status_code == 401
    for bad in ({"distinct_ids": "hank"}, {"distinct_ids": "[]"}, {"distinct_ids": "[1]"}, {"from_date": "2024"},
                {"to_date": ""}):
        reply = http.get("/api/query/stream/query", params={**ok, **bad}, auth=SA)
        assert reply.status_code == 400 and reply.json()["status"] == "error", bad


def test_engage_reads_take_a_post_form_and_a_get(sandbox_clean):
    post = sandbox_clean.http.post("/api/query/engage", params={"project_id": "1"},
                                   data={"distinct_id": demo.STORY_MP_WEB_ANON}, auth=SA)
    get = sandbox_clean.http.get("/api/query/engage", params={"project_id": "1", "distinct_id": demo.STORY_MP_WEB_ANON},
                                 auth=SA)
    assert post.status_code == get.status_code == 200
    assert post.json()["results"] == get.json()["results"]
    assert post.json()["results"][0]["$distinct_id"] == demo.STORY_USER


# -- the store in the state -----------------------------------------------------------------------------

def test_events_survive_the_world_round_trip():
    data = demo.build()
    assert data == demo.build()   # deterministic
    state = SandboxState()
    state.load(copy.deepcopy(data))
    again = SandboxState()
    again.load(json.loads(json.dumps(state.world())))
    assert again.events.export() == state.events.export()
    assert len(again.events.amplitude) == len(data["events"]["amplitude"])
    phone = state.amplitude.get(demo.STORY_PHONE_USER)
    assert phone is not None and again.events.stream_ids(again.amplitude, phone.amplitude_id) == \
        state.events.stream_ids(state.amplitude, phone.amplitude_id)


def test_the_state_document_carries_the_events(sandbox_clean):
    events = sandbox_clean.state()["events"]
    assert len(events["amplitude"]) > 400 and len(events["mixpanel"]) > 40
    login = [e for e in events["amplitude"] if e["event_type"] == "login" and e["device_id"] == demo.STORY_PHONE_DEVICE]
    assert [e["time"] for e in login] == [demo_events.STORY_LOGIN_MS]

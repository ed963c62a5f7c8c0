"""The activity clients against the served sandbox: Amplitude user activity (typed pages, offset paging,
truncation, the story's streams) and Mixpanel profile event activity (observed ids, "not offered")."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from api_support import api_log, fresh_budgets, make_client  # noqa: F401

from idconsole.api.activity_models import ActivityEvent
from idconsole.api.errors import ActivityNotOffered, BadInput, MalformedAnswer
from idconsole.sandbox import demo, demo_events

ACTIVITY = "/api/2/useractivity"
STREAM = "/api/query/stream/query"
YEARS = {"from_date": "2019-01-01", "to_date": "2024-12-31"}


async def amplitude_id(client, user_id: str) -> int:
    return (await client.amplitude.search(user_id)).matches[0].amplitude_id


def seed_events(sb, user_id: str, count: int) -> None:
    base = 1_700_000_000_000
    events = [{"event_type": f"step {n}", "time": base + n * 1000, "user_id": user_id,
               "device_id": "dev-paging-1", "session_id": base + (n // 50) * 50_000, "platform": "Web",
               "insert_id": f"paging-{n}"} for n in range(count)]
    assert sb.http.post("/_sandbox/events", json={"amplitude": events}).json()["kept"] == count


async def test_the_story_phone_stream_holds_hanks_history(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        hank, phone = await amplitude_id(client, demo.STORY_USER), await amplitude_id(client, demo.STORY_PHONE_USER)
        page = await client.amplitude_activity.page(phone, limit=1000)
        own = await client.amplitude_activity.page(hank, limit=1000)
    user = page.user
    assert (user.user_id, user.canonical_amplitude_id, user.merged_amplitude_ids) == (demo.STORY_PHONE_USER, phone, (hank,))
    assert user.amplitude_ids == (phone, hank)
    phones_own = [e for e in page.events if e.amplitude_id == phone]
    assert user.num_events == len(page.events) == len(own.events) + len(phones_own) and not page.full
    assert len(phones_own) > 10 and {e.device_id for e in phones_own} == {demo.STORY_PHONE_DEVICE}
    assert set(user.device_ids) == {demo.STORY_PHONE_DEVICE, demo.STORY_WEB_DEVICE}
    assert (user.first_used, user.last_used) == ("2019-03-14", "2024-06-10")
    assert {e.amplitude_id for e in page.events} == {phone, hank}
    assert {e.amplitude_id for e in own.events} == {hank} and own.user.merged_amplitude_ids == ()
    times = [e.time for e in page.events]
    assert all(isinstance(t, dt.datetime) and t.tzinfo is not None for t in times)
    assert times == sorted(times, reverse=True)   # latest first
    anonymous = [e for e in page.events if e.device_id == demo.STORY_PHONE_DEVICE and e.user_id is None]
    assert [e.event_type for e in reversed(anonymous)] == [
        "[Amplitude] Application Installed", "onboarding viewed", "screen viewed"]
    login = next(e for e in page.events if e.event_type == "login" and e.device_id == demo.STORY_PHONE_DEVICE)
    assert login.user_id == demo.STORY_PHONE_USER and login.platform == "iOS"
    assert login.time == dt.datetime.fromtimestamp(demo_events.STORY_LOGIN_MS / 1000, tz=dt.timezone.utc)
    assert isinstance(login, ActivityEvent) and login.to_json()["event_type"] == "login"


async def test_offset_paging_gets_every_event_once(sandbox_clean):
    seed_events(sandbox_clean, "paging-user@example.com", 2500)
    async with make_client(sandbox_clean) as client:
        who = await amplitude_id(client, "paging-user@example.com")
        seen = []
        whole = await client.amplitude_activity.stream(who, on_page=seen.append)
    assert whole.pages == 3 and not whole.truncated and len(whole.events) == 2500
    assert [p.offset for p in seen] == [0, 1000, 2000] and [len(p.events) for p in seen] == [1000, 1000, 500]
    assert len({e.uuid for e in whole.events}) == 2500
    assert whole.events[0].event_type == "step 2499" and whole.events[-1].event_type == "step 0"
    queries = [e["query"] for e in api_log(sandbox_clean, ACTIVITY)]
    assert [q.split("&")[1:3] for q in queries] == [["offset=0", "limit=1000"], ["offset=1000", "limit=1000"],
                                                  ["offset=2000", "limit=1000"]]


async def test_a_capped_stream_says_it_is_truncated(sandbox_clean):
    seed_events(sandbox_clean, "capped-user@example.com", 1200)
    async with make_client(sandbox_clean) as client:
        who = await amplitude_id(client, "capped-user@example.com")
        capped = await client.amplitude_activity.stream(who, max_events=150, page_size=100, direction="earliest")
        exact = await client.amplitude_activity.stream(who, max_events=1200)
    assert (capped.pages, len(capped.events), capped.truncated) == (2, 150, True)
    assert capped.events[0].event_type == "step 0"
    assert (exact.pages, len(exact.events), exact.truncated) == (2, 1200, False)


@pytest.mark.parametrize("kwargs, words", [
    ({"limit": 1001}, "limit must be"), ({"limit": 0}, "limit must be"), ({"offset": -1}, "offset must be"),
    ({"direction": "sideways"}, "direction must be"),
])
async def test_bad_paging_is_refused_before_sending(sandbox_clean, kwargs, words):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(BadInput, match=words):
            await client.amplitude_activity.page(100000001, **kwargs)
        with pytest.raises(BadInput, match="numeric Amplitude id"):
            await client.amplitude_activity.page("hank@globex.net")  # type: ignore[arg-type]
    assert api_log(sandbox_clean, ACTIVITY) == []


async def test_hostile_event_types_come_back_as_data(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        who = await amplitude_id(client, demo.MARKUP_IDS[0])
        page = await client.amplitude_activity.page(who)
    own = [e for e in page.events if e.user_id == demo.MARKUP_IDS[0]]
    assert own and own[0].event_type in demo_events.HOSTILE_EVENT_TYPES
    assert own[0].event_properties["note"] == "[b]bold?[/b] \x1b[2J \x00 $(rm)"


async def test_an_activity_answer_with_object_ids_is_malformed(sandbox_clean):
    body = {"userData": {"user_id": {}, "canonical_amplitude_id": 1}, "events": []}
    sandbox_clean.fault(path=ACTIVITY, status=200, body=json.dumps(body), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(MalformedAnswer, match="user_id is an object, not a string or number"):
            await client.amplitude_activity.page(100000001)


# -- Mixpanel profile event activity --------------------------------------------------------------------

async def test_the_phones_cluster_shows_its_observed_ids(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        phone = await client.mixpanel_activity.events([demo.STORY_MP_PHONE_ANON], **YEARS)
        hank = await client.mixpanel_activity.events([demo.STORY_USER], **YEARS)
        assert client.budget("mpquery").remaining() == 58
    assert phone.observed_ids == (demo.STORY_MP_PHONE_ANON,)
    assert phone.observed_device_ids == (demo.STORY_PHONE_DEVICE,)
    assert phone.events[0].event == "Application Installed" and phone.events[0].time is not None
    assert [e.event for e in phone.events].count("login") == 1
    assert set(hank.observed_ids) == {demo.STORY_USER, demo.STORY_MP_WEB_ANON}
    assert hank.events[0].distinct_id == demo.STORY_MP_WEB_ANON   # before sign-up, oldest first
    assert (hank.from_date, hank.to_date) == (dt.date(2019, 1, 1), dt.date(2024, 12, 31))


async def test_dates_bound_the_events(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        day = await client.mixpanel_activity.events([demo.STORY_MP_PHONE_ANON], from_date=dt.date(2024, 6, 3),
                                                    to_date=dt.date(2024, 6, 3))
        before = await client.mixpanel_activity.events([demo.STORY_MP_PHONE_ANON], from_date="2020-01-01",
                                                       to_date="2024-06-02")
        with pytest.raises(BadInput, match="from_date must not be after"):
            await client.mixpanel_activity.events(["x"], from_date="2024-02-01", to_date="2024-01-01")
        with pytest.raises(BadInput, match="must be a date"):
            await client.mixpanel_activity.events(["x"], from_date="yesterday", to_date="2024-01-01")
    assert day.events and all(e.time.date() == dt.date(2024, 6, 3) for e in day.events if e.time)
    assert before.events == ()


@pytest.mark.parametrize("status", [404, 410])
async def test_an_endpoint_in_maintenance_is_not_offered(sandbox_clean, status):
    sandbox_clean.fault(path=STREAM, status=status, body='{"error": "gone"}', content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ActivityNotOffered, match="not offered by this project") as info:
            await client.mixpanel_activity.events([demo.STORY_USER], **YEARS)
    assert info.value.kind == "not_offered" and info.value.exit_code == 2
    assert len(api_log(sandbox_clean, STREAM)) == 1

"""The merged timeline (identity/timeline.py), on data: newest first across streams, an event in two streams
shown once, each row tagged, identity-change markers (a device's first event under a new user id, journal
mappings), headers, the event-type filter and pages; hostile strings stay raw (the faces make them literal)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from idconsole.api.activity_models import ActivityEvent, ActivityUser, UserActivity
from idconsole.changes.journal_entry import JournalEntry, JournalRequest
from idconsole.changes.model import Change
from idconsole.identity.timeline import (
    DEVICE_NEW_USER,
    EVENT,
    JOURNAL_MAPPING,
    build_timeline,
    header_of,
    mapping_records,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
HOSTILE = "[bold red]x[/]\x1b[31m\x00$(rm -rf ~)"


def ev(minutes: float, event_type: str = "screen viewed", *, user: str | None = "u1", device: str | None = "d1",
       amp: int = 1, uuid: str | None = None, platform: str = "iOS", session: int = 7,
       props: dict | None = None) -> ActivityEvent:
    when = T0 + dt.timedelta(minutes=minutes)
    return ActivityEvent(event_type=event_type, time=when, time_text=when.isoformat(), amplitude_id=amp,
                         user_id=user, device_id=device, session_id=session, platform=platform,
                         uuid=uuid or f"{amp}-{minutes}-{event_type}", event_properties=props or {})


def stream(user_id: str, amp: int, events: list[ActivityEvent], **user: object) -> UserActivity:
    ordered = tuple(sorted(events, key=lambda e: e.time, reverse=True))
    return UserActivity(amp, ActivityUser(user_id, amp, **user), ordered, truncated=False, pages=1)  # type: ignore[arg-type]


def test_streams_merge_newest_first_each_row_tagged_and_shared_events_once():
    hank = [ev(m, "report opened", user="hank", device="web", amp=1, platform="Web") for m in (0, 10, 30)]
    phone = [ev(5, "screen viewed", user="phone", device="ph", amp=2), ev(25, "login", user="phone", device="ph", amp=2)]
    # after hank → phone, the phone's stream holds hank's events too (same uuids)
    timeline = build_timeline([stream("hank", 1, hank), stream("phone", 2, phone + hank)])
    rows = [r for r in timeline.view().rows() if r.kind == EVENT]
    assert [r.time for r in rows] == sorted((r.time for r in rows), reverse=True)
    assert len(rows) == 5 and timeline.event_count == 5       # hank's three events once, not twice
    assert [(r.event_type, r.user_id, r.device_id, r.platform) for r in rows[:2]] == [
        ("report opened", "hank", "web", "Web"), ("login", "phone", "ph", "iOS")]
    # the first stream given wins a shared event: the looked-up user's
    assert {r.stream for r in rows if r.user_id == "hank"} == {"hank"}
    assert {r.stream for r in rows if r.user_id == "phone"} == {"phone"}


def test_a_devices_first_event_under_a_new_user_id_is_a_marker():
    events = [ev(0, "installed", user=None, device="ph"), ev(1, "onboarding", user=None, device="ph"),
              ev(3, "login", user="63629@hmail.com", device="ph"), ev(9, "widget", user="63629@hmail.com", device="ph"),
              ev(20, "login", user="hank", device="ph")]
    timeline = build_timeline([stream("63629@hmail.com", 2, events)])
    markers = [m for m in timeline.markers if m.kind == DEVICE_NEW_USER]
    assert [(m.user_id, m.previous_user_ids, m.time) for m in markers] == [
        ("63629@hmail.com", (None,), T0 + dt.timedelta(minutes=3)),
        ("hank", (None, "63629@hmail.com"), T0 + dt.timedelta(minutes=20))]
    assert markers[0].describe() == "device ph: first event under 63629@hmail.com (before: no user id)"
    rows = timeline.view().rows()
    # the marker sits right above (newer side of) the event it is about
    at = next(i for i, r in enumerate(rows) if r.marker is markers[0])
    assert rows[at + 1].event_type == "login" and rows[at + 1].user_id == "63629@hmail.com"
    assert not markers[0].shared


def test_a_shared_device_marker_says_so():
    events = [ev(n, "kiosk session", user=f"kiosk-{n}", device="KIOSK", amp=10 + n) for n in range(5)]
    timeline = build_timeline([stream("fleet", 99, events)])
    assert len(timeline.markers) == 4 and all(m.shared for m in timeline.markers)
    assert "a shared device" in timeline.markers[-1].describe()
    (kiosk,) = timeline.devices
    assert kiosk.shared and kiosk.user_ids == tuple(f"kiosk-{n}" for n in range(5))
    three = build_timeline([stream("fleet", 99, events[:3])])
    assert not three.devices[0].shared and not any(m.shared for m in three.markers)  # 3 is "a few", not shared


def test_journal_mappings_are_markers_at_their_time():
    entry = JournalEntry("20240605-110000-abcd", at="2024-06-05T11:00:00.000+00:00")
    entry.changes = [Change.map("63629@hmail.com", "hank", id="c1"), Change.unmap("hank", id="c2"),
                     Change.map("someone-else", "other", id="c3")]
    entry.requests = [JournalRequest(1, "usermap", "POST", "/usermap", ("c1", "c2", "c3"), 3, state="acked")]
    records = mapping_records([entry], ["hank", "63629@hmail.com"])
    assert [(r.op, r.user_id, r.status) for r in records] == [("map", "63629@hmail.com", "acked"), ("unmap", "hank", "acked")]
    timeline = build_timeline([stream("hank", 1, [ev(0), ev(60 * 24 * 3)])], journal=records)
    kinds = [(r.kind, r.time) for r in timeline.view().rows()]
    when = dt.datetime(2024, 6, 5, 11, tzinfo=UTC)
    assert kinds == [(EVENT, T0 + dt.timedelta(days=3)), (JOURNAL_MAPPING, when), (JOURNAL_MAPPING, when), (EVENT, T0)]
    texts = {m.describe() for m in timeline.markers}
    assert "journal 20240605-110000-abcd: mapped 63629@hmail.com → hank" in texts
    assert "journal 20240605-110000-abcd: unmapped hank" in texts


def test_headers_come_from_user_data_and_are_counted_when_it_says_nothing():
    events = [ev(0, session=1, device="a"), ev(5, session=1, device="b"), ev(60 * 24, session=2, device="a")]
    said = header_of(stream("u1", 1, events, num_events=1843, num_sessions=211, first_used="2019-03-14",
                            last_used="2026-11-30", device_ids=("a", "b", "c")))
    assert (said.events, said.sessions, said.first_seen, said.last_seen, said.device_ids, said.fetched) == (
        1843, 211, "2019-03-14", "2026-11-30", ("a", "b", "c"), 3)
    counted = header_of(stream("u1", 1, events))
    assert (counted.events, counted.sessions, counted.first_seen, counted.last_seen) == (3, 2, "2024-06-03", "2024-06-04")
    assert set(counted.device_ids) == {"a", "b"}
    assert set(counted.to_json()) >= {"user_id", "amplitude_id", "first_seen", "last_seen", "events", "sessions",
                                      "device_ids"}


def test_filter_by_event_type_keeps_markers_and_pages_on_demand():
    events = [ev(n, "login" if n % 3 == 0 else "screen", user="u1" if n < 200 else "u2", amp=1) for n in range(250)]
    timeline = build_timeline([stream("u1", 1, events)])
    first = timeline.page(0, size=100)
    assert len(first.rows) == 100 and first.has_more and first.rows[0].time == T0 + dt.timedelta(minutes=249)
    last = timeline.page(2, size=100)
    assert len(last.rows) == 51 and not last.has_more   # 250 events + one marker (d1 first under u2)
    assert timeline.page(9, size=100).rows == ()
    logins = timeline.view(["login"])
    rows = logins.rows()
    assert {r.event_type for r in rows if r.kind == EVENT} == {"login"}
    assert sum(1 for r in rows if r.kind == EVENT) == 84
    assert any(r.kind == DEVICE_NEW_USER for r in rows)            # the identity change stays in view
    assert not any(r.kind != EVENT for r in timeline.view(["login"], markers=False).rows())
    assert timeline.event_types["login"] == 84 and timeline.event_types["screen"] == 166
    with pytest.raises(ValueError):
        timeline.page(-1)


def test_hostile_strings_stay_raw_and_the_json_has_no_property_values():
    secret = "sk_live_do-not-leak-4242"
    events = [ev(0, HOSTILE, user=HOSTILE, device=HOSTILE, props={"token": secret, "note": HOSTILE})]
    timeline = build_timeline([stream(HOSTILE, 1, events)])
    (row,) = [r for r in timeline.view().rows() if r.kind == EVENT]
    assert row.event_type == HOSTILE and row.user_id == HOSTILE and row.device_id == HOSTILE
    text = json.dumps(timeline.to_json())
    assert secret not in text and "token" not in text
    assert set(timeline.to_json()["events"][0]) == {"time", "event_type", "user_id", "device_id", "amplitude_id",
                                                     "session_id", "platform"}


def test_events_without_a_time_sort_last_and_unsorted_streams_are_sorted():
    timeless = ActivityEvent(event_type="odd", time=None, time_text="not a time", amplitude_id=1, user_id="u1",
                             uuid="timeless")
    shuffled = [ev(5), ev(1), timeless, ev(9)]
    activity = UserActivity(1, ActivityUser("u1", 1), tuple(shuffled), truncated=True, pages=1)
    timeline = build_timeline([activity])
    rows = timeline.view().rows()
    assert [r.event_type for r in rows][-1] == "odd" and rows[0].time == T0 + dt.timedelta(minutes=9)
    assert timeline.truncated and timeline.headers[0].truncated
    with pytest.raises(ValueError):
        build_timeline([activity], labels=["a", "b"])

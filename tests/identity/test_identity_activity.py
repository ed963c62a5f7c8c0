"""Fetching the activity of an identity tree (identity/activity.py) against the served sandbox: the ids of the
tree, the cost said before anything is spent, the budget shared with user search, never more than 5 requests
in flight, cancellation that keeps what arrived, and the device sightings a later plan reads for free."""

from __future__ import annotations

from typing import Any

from api_support import api_log, fresh_budgets, make_client  # noqa: F401

from idconsole.changes.shared_devices import sightings_for
from idconsole.identity.activity import (
    CANCELLED,
    FETCHED,
    SKIPPED,
    ActivityTarget,
    estimate,
    fetch_activity,
    targets_of,
)
from idconsole.identity.graph import CHAIN, FROM, ROOT
from idconsole.identity.lookup import look_up
from idconsole.identity.timeline import DEVICE_NEW_USER, build_timeline
from idconsole.sandbox import demo
from idconsole.sandbox.demo_events import KIOSK_DEVICE

ACTIVITY = "/api/2/useractivity"


async def test_the_story_tree_is_the_user_and_its_chain_and_the_phone_holds_the_history(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        found = await look_up(client.amplitude, demo.STORY_USER)
        assert targets_of(found) == [ActivityTarget(demo.STORY_USER, found.amplitude_id, ROOT)]
        targets = targets_of(found, all_ids=True)
        assert [(t.user_id, t.role) for t in targets] == [(demo.STORY_USER, ROOT), (demo.STORY_PHONE_USER, CHAIN)]
        assert all(t.amplitude_id is not None for t in targets)   # the lookup knew them: no search needed
        cost = estimate(client, targets)
        assert (cost.requests, cost.searches, cost.limit) == (2, 0, 360) and cost.fits
        assert "2 requests of the user search and activity budget (360 per hour" in cost.sentence()
        sandbox_clean.clear_requests()
        result = await fetch_activity(client, targets)
        # one page each, counted in the budget user search shares
        assert len(api_log(sandbox_clean, ACTIVITY)) == 2 == result.requests
        assert client.budget("usersearch").remaining() <= 360 - 2
    assert [i.state for i in result.items] == [FETCHED, FETCHED]
    timeline = build_timeline(result.streams, labels=result.labels)
    phone_events = [r for r in timeline.view().rows() if r.device_id == demo.STORY_PHONE_DEVICE and r.event]
    assert phone_events and {r.stream for r in phone_events} == {demo.STORY_PHONE_USER}
    (login,) = [m for m in timeline.markers if m.kind == DEVICE_NEW_USER and m.device_id == demo.STORY_PHONE_DEVICE]
    assert login.user_id == demo.STORY_PHONE_USER and login.previous_user_ids == (None,)
    # hank's own web events are in both streams and shown once
    assert timeline.event_count == timeline.headers[1].events


async def test_every_id_of_a_big_tree_within_five_in_flight_and_the_kiosk_is_shared(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        found = await look_up(client.amplitude, demo.BIG_PARENT)
        targets = targets_of(found, all_ids=True)
        assert len(targets) == 1 + len(demo.BIG_PARENT_CHILDREN) and {t.role for t in targets[1:]} == {FROM}
        result = await fetch_activity(client, targets, max_events=100)
        sightings = sightings_for(client)
        assert sightings.is_shared(KIOSK_DEVICE) and len(sightings.users_of(KIOSK_DEVICE)) == 12
    peak = sandbox_clean.http.get("/_sandbox/concurrency").json()["amplitude_rest"]
    assert peak["peak"] <= 5 and peak["refused"] == 0
    assert len(result.fetched) == len(targets)
    timeline = build_timeline(result.streams, labels=result.labels)
    (kiosk,) = [d for d in timeline.devices if d.device_id == KIOSK_DEVICE]
    assert kiosk.shared and len(kiosk.user_ids) == 12


async def test_within_budget_reads_in_tree_order_and_skips_the_rest(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        found = await look_up(client.amplitude, demo.BIG_PARENT)
        targets = targets_of(found, all_ids=True)
        budget = client.budget("usersearch")
        budget.book(budget.remaining() - 3, open=False)      # the hour is nearly spent
        cost = estimate(client, targets)
        assert not cost.fits and cost.remaining == 3
        sandbox_clean.clear_requests()
        result = await fetch_activity(client, targets, within_budget=True)
    spent = len(api_log(sandbox_clean, ACTIVITY)) + len(api_log(sandbox_clean, "/api/2/usersearch"))
    assert spent == result.requests == 3                           # exactly what was left
    fetched = [i for i in result.items if i.state == FETCHED]
    assert fetched and fetched[0].target.role == ROOT                 # the root first, in tree order
    assert [i.state for i in result.items] == [FETCHED] * len(fetched) + [SKIPPED] * (len(targets) - len(fetched))
    assert "budget" in result.items[-1].note


async def test_cancelling_stops_between_pages_and_keeps_what_arrived(sandbox_clean: Any):
    base = 1_700_000_000_000
    events = [{"event_type": f"step {n}", "time": base + n * 1000, "user_id": "paging-user@example.com",
               "device_id": "dev-paging-1", "session_id": base, "platform": "Web", "insert_id": f"cancel-{n}"}
              for n in range(2500)]
    assert sandbox_clean.http.post("/_sandbox/events", json={"amplitude": events}).json()["kept"] == 2500
    async with make_client(sandbox_clean) as client:
        found = await look_up(client.amplitude, "paging-user@example.com")
        targets = [*targets_of(found), ActivityTarget(demo.STORY_USER, None)]
        # asked before the target (go on), then after each page: stop once the first page is in
        answers = iter([False])
        sandbox_clean.clear_requests()
        result = await fetch_activity(client, targets[:1], max_events=2500, should_stop=lambda: next(answers, True))
        assert len(api_log(sandbox_clean, ACTIVITY)) == 1      # the second and third pages were never asked
        (item,) = result.items
        assert item.state == FETCHED and item.activity is not None and item.activity.truncated
        assert len(item.activity.events) == 1000 and item.requests == 1 and result.cancelled
        later = await fetch_activity(client, targets[1:], should_stop=lambda: True)
    assert [i.state for i in later.items] == [CANCELLED] and later.requests == 0


async def test_a_target_without_an_amplitude_id_costs_a_search_first(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        targets = [ActivityTarget(demo.STORY_PHONE_USER, None), ActivityTarget("never-seen-0001@example.com", None)]
        cost = estimate(client, targets)
        assert (cost.searches, cost.requests) == (2, 4)
        result = await fetch_activity(client, targets)
    ok, unknown = result.items
    assert ok.state == FETCHED and ok.requests == 2 and ok.activity is not None
    assert unknown.state == "failed" and "no Amplitude id" in unknown.note and unknown.requests == 1

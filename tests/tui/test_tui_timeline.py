"""Pilot tests of the Timeline screen (`t` on Lookup) on the in-process demo sandbox: the story user's
timeline shows the phone's events and the identity-change marker; the cost is asked first; paging, the
filter, stopping a fetch, and hostile event types shown literally."""

from __future__ import annotations

import time

import httpx
import pytest
from textual.widgets import DataTable, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.identity.markers import DEVICE_NEW_USER
from idconsole.identity.timeline import EVENT
from idconsole.sandbox import demo
from idconsole.sandbox.demo_events import HOSTILE_EVENT_TYPES
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.timeline import ASKING, SHOWN, TimelineScreen

pytestmark = pytest.mark.usefixtures("tui_env")


async def lookup(pilot, app, query: str) -> LookupScreen:
    screen = app.screen
    assert isinstance(screen, LookupScreen)
    box = screen.query_one("#lookup-input", Input)
    box.focus()
    box.value = query
    await pilot.press("enter")
    await settle(pilot, app)
    return screen


async def open_timeline(pilot, app, query: str) -> TimelineScreen:
    screen = await lookup(pilot, app, query)
    screen.identity_tree.focus()
    await pilot.press("t")
    await settle(pilot, app)
    timeline = app.screen
    assert isinstance(timeline, TimelineScreen)
    return timeline


async def fault(ws, body: dict) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        response = await client.post("/_sandbox/faults", json=body)
        assert response.status_code == 200, response.text


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def table_text(screen) -> list[str]:
    table = screen.query_one(DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_story_timeline_shows_the_phone_and_the_identity_change(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        # the cost first, nothing read yet
        assert screen.state == ASKING and screen.timeline is None
        ask = text_of(screen, "#timeline-ask")
        assert "costs up to" in ask and "360 per hour" in ask and "Enter" in ask
        await pilot.press("enter")
        await settle(pilot, app)
        assert screen.state == SHOWN and screen.timeline is not None
        # both ids of the tree: hank and the phone user he is (wrongly) mapped into
        headers = text_of(screen, "#timeline-headers")
        assert demo.STORY_USER in headers and demo.STORY_PHONE_USER in headers
        assert "first seen" in headers and "sessions" in headers
        rows = [r for page in range(50) for r in screen.timeline.page(page).rows]
        phone = [r for r in rows if r.kind == EVENT and r.device_id == demo.STORY_PHONE_DEVICE]
        assert phone and {r.user_id for r in phone} >= {demo.STORY_PHONE_USER}
        markers = [r.marker for r in rows if r.marker is not None and r.marker.kind == DEVICE_NEW_USER]
        assert any(m.device_id == demo.STORY_PHONE_DEVICE and m.user_id == demo.STORY_PHONE_USER for m in markers)
        # the table draws one page, tagged with user id and device
        drawn = table_text(screen)
        assert 0 < len(drawn) <= screen.timeline.page(0).size
        # page through until the marker row is drawn
        for _ in range(50):
            if any("◆" in line and demo.STORY_PHONE_USER in line and demo.STORY_PHONE_DEVICE[:20] in line
                   for line in table_text(screen)):
                break
            await pilot.press("n")
            await pilot.pause()
        else:
            pytest.fail("the phone's identity-change marker was never drawn")
        assert "page" in text_of(screen, "#timeline-page")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)


async def test_escape_at_the_question_reads_nothing(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        before = demo_workspace.client.budget("usersearch").remaining()   # the lookup's own search spent
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, LookupScreen) and screen.timeline is None
        assert demo_workspace.client.budget("usersearch").remaining() == before


async def test_stopping_keeps_what_arrived(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.BIG_PARENT)
        screen._stop = True   # what Esc while reading sets: asked before every id and after every page
        screen.state = "loading"
        screen.fetch()
        await settle(pilot, app)
        assert screen.state == SHOWN and screen.timeline is not None
        assert "Stopped" in text_of(screen, "#timeline-ask")
        assert screen.missing and all("cancelled" in m.note for m in screen.missing)


async def test_escape_while_reading_stops(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.BIG_PARENT)
        # every activity page answered slowly, so Esc lands while reading
        await fault(demo_workspace, {"path": "/api/2/useractivity", "status": None, "delay_ms": 300, "times": 100})
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert screen.state == "loading"
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, TimelineScreen) and screen.state == SHOWN
        assert "Stopped" in text_of(screen, "#timeline-ask")


async def test_filter_by_event_type(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"widget", "enter")
        await pilot.pause()
        drawn = table_text(screen)
        events = [line for line in drawn if "◆" not in line]
        assert events and all("widget added" in line for line in events)
        assert "widget" in text_of(screen, "#timeline-page")
        await pilot.press("f", "escape")   # Esc in the filter clears it
        await pilot.pause()
        assert any("widget added" not in line for line in table_text(screen))


async def test_hostile_event_types_are_shown_literally(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.MARKUP_IDS[0])
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, TimelineScreen)
        drawn = "\n".join(table_text(screen))
        assert HOSTILE_EVENT_TYPES[0] in drawn          # "[bold red]purchase[/]" as typed, not bold
        assert demo.MARKUP_IDS[0] in drawn
        assert "\x1b" not in drawn


async def test_side_panel_lists_the_devices_after_the_timeline(demo_workspace):
    """Back on Lookup after reading the timeline, the side panel lists the selected user's devices; the
    kiosk tablet is flagged shared."""
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert demo.STORY_WEB_DEVICE not in str(screen.query_one("#node-details-body").render())
        screen.identity_tree.focus()
        await pilot.press("t")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        panel = str(app.screen.query_one("#node-details-body").render())
        assert "Device" in panel and demo.STORY_WEB_DEVICE in panel and "shared" not in panel
        kiosk = await lookup(pilot, app, demo.BIG_PARENT)
        kiosk.identity_tree.focus()
        await pilot.press("t")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        panel = str(app.screen.query_one("#node-details-body").render())
        assert "shared: seen under" in panel


def _streams(ids: int, events: int):
    """`ids` synthetic streams of `events` events each (newest first), a web device and a phone per user."""
    import datetime as dt
    import random

    from idconsole.api.activity_models import ActivityEvent, ActivityUser, UserActivity

    rng = random.Random(ids * events)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for n in range(ids):
        user = f"user-{n}@example.com"
        rows = []
        for i in range(events):
            when = start + dt.timedelta(seconds=rng.randint(0, 180 * 86_400))
            device = f"web-{n}" if rng.random() < 0.6 else f"phone-{n}"
            rows.append(ActivityEvent(event_type=rng.choice(("login", "screen viewed", "[bold]x[/]")), time=when,
                                      user_id=user, device_id=device, platform="Web", uuid=f"{n}-{i}"))
        rows.sort(key=lambda e: e.time, reverse=True)
        out.append(UserActivity(100 + n, ActivityUser(user, 100 + n), tuple(rows), False, 1))
    return out


async def test_only_the_first_page_is_drawn_whatever_the_number_of_events(demo_workspace):
    """Five ids x 100 and x 1,000 events: the table holds one page of rows either way, so the cost to the
    first drawn page does not grow with the events (its time is measured in benchmarks/, not asserted)."""
    from idconsole.identity.timeline import build_timeline

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        await pilot.press("enter")
        await settle(pilot, app)
        drawn = []
        for events in (100, 1000):
            screen.show_timeline(build_timeline(_streams(5, events)))
            await pilot.pause()
            drawn.append(screen.query_one(DataTable).row_count)
            assert drawn[-1] == screen.timeline.page(0).size
        assert drawn[0] == drawn[1] and drawn[1] <= 101  # a page of 100 (and at most one marker row)


async def test_a_failing_stream_is_said_and_the_rest_shown(demo_workspace):
    """Activity answering 400 for every id: each id says why in one sentence, the screen stays usable."""
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        await fault(demo_workspace, {"path": "/api/2/useractivity", "status": 400, "times": 10,
                                     "body": "[bold]bad[/] \x1b[31m"})
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, TimelineScreen) and screen.state == SHOWN
        headers = text_of(screen, "#timeline-headers")
        assert screen.missing and all(m.note.startswith("not fetched") for m in screen.missing)
        assert demo.STORY_USER in headers and "not fetched" in headers
        assert "\x1b" not in headers
        assert screen.query_one(DataTable).row_count == 0


async def test_the_journal_mapping_of_the_fix_is_a_marker(demo_workspace):
    """After the story's fix is applied, hank's timeline has a marker for each mapping the journal
    recorded (the unmap and the map of the phone user into hank)."""
    from idconsole.changes import Change, build_plan
    from idconsole.changes import apply as apply_plan
    from idconsole.identity.markers import JOURNAL_MAPPING

    demo_workspace.staged.extend([Change.unmap(demo.STORY_USER), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER)])
    report = await apply_plan(demo_workspace, await build_plan(demo_workspace), acknowledge_warnings=True,
                              allow_irreversible=False)
    assert report.exit_code == 0
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        await pilot.press("enter")
        await settle(pilot, app)
        markers = [m for m in screen.timeline.markers if m.kind == JOURNAL_MAPPING]
        assert {(m.op, m.user_id) for m in markers} == {("unmap", demo.STORY_USER), ("map", demo.STORY_PHONE_USER)}
        drawn = "\n".join(table_text(screen))
        assert "journal" in drawn and "◆" in drawn   # newest first: the fix is on the first page


async def test_a_second_escape_stops_at_once(demo_workspace):
    """A request that hangs: the first Esc waits for the page being read, the second cancels it; the
    ids read so far stay, the others say cancelled."""
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_timeline(pilot, app, demo.STORY_USER)
        await fault(demo_workspace, {"path": "/api/2/useractivity", "status": None, "delay_ms": 20_000, "times": 10})
        await pilot.press("enter")
        await pilot.pause(0.2)
        started = time.perf_counter()
        await pilot.press("escape")
        await pilot.pause()
        assert screen.state == "loading" and "Esc again" in text_of(screen, "#timeline-ask")
        await pilot.press("escape")
        await pilot.pause()
        assert time.perf_counter() - started < 5
        assert screen.state == SHOWN and "Stopped" in text_of(screen, "#timeline-ask")
        assert screen.missing and all("cancelled" in m.note for m in screen.missing)
        assert isinstance(app.screen, TimelineScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)

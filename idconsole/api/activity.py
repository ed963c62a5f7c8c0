"""Event streams: Amplitude User Activity and Mixpanel Profile Event Activity (API.md).

On an `ApiClient` as `client.amplitude_activity` and `client.mixpanel_activity`:

    page = await client.amplitude_activity.page(amplitude_id, offset=0, limit=1000, direction="latest")
        -> ActivityPage(user: ActivityUser, events: tuple[ActivityEvent, ...], offset, limit, full)
    whole = await client.amplitude_activity.stream(amplitude_id, max_events=5000, on_page=callback)
        -> UserActivity(user, events, truncated, pages)
    client.amplitude_activity.pages_needed(num_events)    # what `stream` will spend, before spending it
    mp = await client.mixpanel_activity.events(["$device:…"], from_date=date(2024, 1, 1), to_date=date.today())
        -> MixpanelActivity(events: tuple[MixpanelEvent, ...], observed_ids, observed_device_ids)

- Amplitude: `GET /api/2/useractivity?user=<amplitude id>&offset&limit&direction`, Basic auth. `user` is the
  numeric Amplitude id (user search or get mappings gives it). Each page spends one unit of the 360/hour
  budget it shares with user search (`client.budget("usersearch")`) and holds one of the 5 Dashboard REST
  slots (`client.gate("amplitude_rest")`) while in flight. `limit` is at most 1000; `stream` pages by
  offset, drops events it already has (a page may run past `limit` to finish a session), and stops at a
  short page or at `max_events` (then `truncated`). `userData` (`ActivityUser`) says whose stream it is:
  `canonical_amplitude_id`, `merged_amplitude_ids` (the ids whose events are in it: users mapped into it,
  anonymous devices merged into it), `num_events`, `num_sessions`, `first_used`, `last_used`, `device_ids`.
  After mapping U→G, G's stream holds U's and G's events; U's holds only its own.
- Mixpanel: `GET /api/query/stream/query?project_id&distinct_ids=[...]&from_date&to_date`, the Query API's
  budget (`client.budget("mpquery")`, 60/hour) and in-flight cap (`client.gate("mixpanel_query")`). The
  endpoint is in maintenance mode: a 404 or 410 raises ActivityNotOffered ("not offered by this project").
  What it shows of a cluster is *observed* (the ids seen in its events), never the complete cluster.

Errors: BadInput before sending (bad id, limit, dates), AuthError, Throttled (budget spent: `retry_after`),
Unavailable, NoSuchEndpoint (an Amplitude 404: check the base URL), MalformedAnswer (ids that are not
strings/numbers, a body of another shape). Cancelling the awaiting task stops paging at once. Events are
personal data: they stay in memory.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence

from idconsole.api.activity_models import (
    ActivityEvent,
    ActivityPage,
    MixpanelActivity,
    MixpanelEvent,
    UserActivity,
)
from idconsole.api.activity_parse import parse_stream, parse_user_activity
from idconsole.api.amplitude import SEARCH_MAX_WAIT_S, AmplitudeApi
from idconsole.api.errors import ActivityNotOffered, BadInput
from idconsole.api.hosts import Hosts
from idconsole.api.mixpanel import QUERY_MAX_WAIT_S, MixpanelApi
from idconsole.api.ratelimit import RollingBudget
from idconsole.api.replies import rejected
from idconsole.api.transport import Call, Transport

MAX_PAGE = 1000
DIRECTIONS = ("latest", "earliest")
#: at most this many distinct ids in one stream query (a cluster holds at most 500)
MAX_STREAM_IDS = 500


class AmplitudeActivityApi:
    def __init__(self, amplitude: AmplitudeApi, transport: Transport, hosts: Hosts,
                 budget: RollingBudget | None) -> None:
        self._amp = amplitude
        self._transport = transport
        self._hosts = hosts
        self._budget = budget

    def __repr__(self) -> str:
        return "AmplitudeActivityApi()"

    @staticmethod
    def pages_needed(num_events: int | None, page_size: int = MAX_PAGE) -> int:
        """Requests (budget units) `stream` spends on a stream of `num_events` (unknown: one)."""
        if not num_events or num_events <= 0:
            return 1
        return max(1, math.ceil(num_events / max(1, min(page_size, MAX_PAGE))))

    async def page(self, amplitude_id: int, *, offset: int = 0, limit: int = MAX_PAGE,
                   direction: str = "latest") -> ActivityPage:
        _check_amplitude_id(amplitude_id)
        if not _whole(offset) or offset < 0:
            raise BadInput("offset must be a whole number, 0 or more.")
        if not _whole(limit) or not 1 <= limit <= MAX_PAGE:
            raise BadInput(f"limit must be a whole number from 1 to {MAX_PAGE}.")
        if direction not in DIRECTIONS:
            raise BadInput(f"direction must be one of {', '.join(DIRECTIONS)}.")
        headers = self._amp.basic_headers()
        reply = await self._transport.send(Call(
            "GET", self._hosts.analytics + "/api/2/useractivity", "/api/2/useractivity",
            service="Amplitude user activity",
            credential="the API key / secret key pair",
            auth_message="Amplitude rejected the API key / secret key pair",
            params=[("user", str(amplitude_id)), ("offset", str(offset)), ("limit", str(limit)),
                    ("direction", direction)],
            headers=headers,
            budget=self._budget,
            max_wait=SEARCH_MAX_WAIT_S,
            gate=self._amp.rest_gate,
        ))
        if not reply.ok:
            raise rejected(reply, "the user activity request")   # a 404 here is a wrong base URL
        with reply.parsing():
            user, events = parse_user_activity(reply.json())
        return ActivityPage(amplitude_id, user, events, offset, limit, direction)

    async def stream(self, amplitude_id: int, *, max_events: int | None = None, page_size: int = MAX_PAGE,
                     direction: str = "latest",
                     on_page: Callable[[ActivityPage], None] | None = None) -> UserActivity:
        """Every event of the stream (or the first `max_events`), page by page; `on_page` hears each page."""
        if max_events is not None and (not _whole(max_events) or max_events < 1):
            raise BadInput("max_events must be a whole number, 1 or more.")
        size = min(page_size, MAX_PAGE)
        events: list[ActivityEvent] = []
        seen: set[str] = set()
        offset, pages, truncated = 0, 0, False
        first: ActivityPage | None = None
        while True:
            want = size if max_events is None else min(size, max_events - len(events))
            page = await self.page(amplitude_id, offset=offset, limit=want, direction=direction)
            first = first or page
            pages += 1
            if on_page is not None:
                on_page(page)
            for event in page.events:
                key = event.uuid or f"{event.time_text}|{event.event_type}|{event.insert_id}|{event.device_id}"
                if key not in seen:
                    seen.add(key)
                    events.append(event)
            offset += len(page.events)
            total = page.user.num_events
            if not page.full or (total is not None and offset >= total):
                break   # a short page, or as many as the server counts: no need to ask for an empty one
            if max_events is not None and len(events) >= max_events:
                truncated = total is None or total > len(events)
                events = events[:max_events]
                break
        assert first is not None   # the loop always fetches a page
        return UserActivity(amplitude_id, first.user, tuple(events), truncated, pages, direction)


class MixpanelActivityApi:
    def __init__(self, mixpanel: MixpanelApi, transport: Transport, hosts: Hosts) -> None:
        self._mp = mixpanel
        self._transport = transport
        self._hosts = hosts

    def __repr__(self) -> str:
        return "MixpanelActivityApi()"

    async def events(self, distinct_ids: Sequence[str], *, from_date: dt.date | str,
                     to_date: dt.date | str) -> MixpanelActivity:
        ids = list(dict.fromkeys(distinct_ids)) if not isinstance(distinct_ids, str) else [distinct_ids]
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise BadInput("Profile event activity needs one or more non-empty distinct ids.")
        if len(ids) > MAX_STREAM_IDS:
            raise BadInput(f"At most {MAX_STREAM_IDS} distinct ids per activity query.")
        start, end = _day(from_date, "from_date"), _day(to_date, "to_date")
        if start > end:
            raise BadInput("from_date must not be after to_date.")
        headers, params, credential = self._mp.query_auth()
        reply = await self._transport.send(Call(
            "GET", self._hosts.mp_query + "/api/query/stream/query", "/api/query/stream/query",
            service="Mixpanel profile event activity",
            credential=credential,
            auth_message=f"Mixpanel rejected {credential}",
            params=[*params, ("distinct_ids", json.dumps(ids, ensure_ascii=False)),
                    ("from_date", start.isoformat()), ("to_date", end.isoformat())],
            headers=headers,
            budget=self._mp.query_budget,
            max_wait=QUERY_MAX_WAIT_S,
            gate=self._mp.query_gate,
        ))
        if reply.status in (404, 410):
            raise ActivityNotOffered(
                f"Mixpanel's Profile Event Activity is not offered by this project (HTTP {reply.status}; "
                "the endpoint is in maintenance mode), so the ids observed in this cluster's events cannot be shown.",
                hint="The profile (canonical id and properties) still works; if it fails too, check the base URL.",
            )
        if not reply.ok:
            raise rejected(reply, "the activity query")
        with reply.parsing():
            events = parse_stream(reply.json())
        return MixpanelActivity(tuple(ids), start, end, events, *_observed(events))


def _observed(events: Sequence[MixpanelEvent]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids: dict[str, None] = {}
    devices: dict[str, None] = {}
    for event in events:
        for value in (event.distinct_id, event.user_id):
            if value:
                ids.setdefault(value)
        if event.device_id:
            devices.setdefault(event.device_id)
    return tuple(ids), tuple(devices)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_amplitude_id(value: object) -> None:
    if not _whole(value) or value < 0:  # type: ignore[operator]
        raise BadInput("User activity needs the numeric Amplitude id (user search or get mappings gives it).")


def _day(value: dt.date | str, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(f"{name} must be a date (YYYY-MM-DD).") from None

"""Activity routes: Amplitude `GET /api/2/useractivity`, Mixpanel `GET /api/query/stream/query`, and
`POST /_sandbox/events` to seed events. They answer from the state's event store (events.py).

Documented choices where the vendors say little (API.md (?)):
- `useractivity`: Basic `api_key:secret_key`; `user` must be a numeric Amplitude id (400 otherwise); it
  spends the user-search window (the two share 360/hour: 429 with Retry-After beyond). `limit` defaults
  to 1000 and is capped there; `offset` pages; `direction` `latest` (default, newest first) or `earliest`.
  No extra events are added to complete a session. The id of an anonymous user merged into another answers
  for the user it was merged into (`canonical_amplitude_id`). An id Amplitude never assigned answers 200
  with an empty stream and `userData.user_id` null (?).
- `userData`: `merged_amplitude_ids` = every other amplitude id whose events are in the stream (anonymous
  users merged in, users mapped into it); `num_sessions` counts distinct `session_id`s other than -1;
  `first_used` / `last_used` are the UTC dates of the first and last event (null without events);
  `device_ids` are the user's devices then those seen in the stream; `platform`, `os`, `country` come from
  the newest event that has them, else from the user's identify info.
- `stream/query`: service account (with `project_id`) or API secret; `distinct_ids` (a JSON array of
  strings) and `from_date` / `to_date` (`YYYY-MM-DD`, inclusive, UTC) are required (400 otherwise). It
  shares the engage window (`--engage-rate`, the Query API's 60/hour; off by default). Events come oldest
  first, each with the `distinct_id` it was sent with, for every id of the asked ids' clusters.
- `POST /_sandbox/events` (control, no auth, no limits): `{"amplitude": [{event_type, time (ms), user_id,
  device_id, session_id, platform, event_properties, insert_id, ...}], "mixpanel": [{event, properties}]}`,
  recorded as ingestion would; answers the counts kept.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.amplitude_routes import check_basic
from idconsole.sandbox.events import AmpEvent
from idconsole.sandbox.mixpanel_routes import check_mixpanel_auth
from idconsole.sandbox.web import js, sandbox, set_items, throttle

MAX_LIMIT = 1000
_UUID_NAMESPACE = uuid.UUID("5b0e5e6c-4f7a-4d0c-9a55-6d1c1d9e0a11")


def event_time(ms: int) -> str:
    """Amplitude's `event_time`: `YYYY-MM-DD HH:MM:SS.ffffff`, UTC."""
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _wire_event(event: AmpEvent) -> dict[str, Any]:
    return {
        "event_type": event.event_type, "event_time": event_time(event.time), "amplitude_id": event.amplitude_id,
        "user_id": event.user_id, "device_id": event.device_id, "session_id": event.session_id,
        "platform": event.platform, "os_name": event.os_name, "country": event.country,
        "event_properties": event.event_properties, "user_properties": event.user_properties,
        "$insert_id": event.insert_id, "uuid": str(uuid.uuid5(_UUID_NAMESPACE, str(event.seq))),
    }  # fmt: skip


def _latest(events: list[AmpEvent], name: str) -> Any:
    for event in reversed(events):
        value = getattr(event, name)
        if value:
            return value
    return None


def _user_data(sb: Any, canonical: int, stream: list[AmpEvent], ids: list[int]) -> dict[str, Any]:
    user = sb.state.amplitude.users.get(canonical)
    info = user.info if user is not None else {}
    devices: dict[str, None] = dict.fromkeys(user.device_ids if user is not None else ())
    devices.update(dict.fromkeys(e.device_id for e in stream if e.device_id))
    return {
        "user_id": user.user_id if user is not None else None,
        "canonical_amplitude_id": canonical,
        "merged_amplitude_ids": [i for i in ids if i != canonical],
        "num_events": len(stream),
        "num_sessions": len({e.session_id for e in stream if e.session_id != -1}),
        "first_used": _day(stream[0].time) if stream else None,
        "last_used": _day(stream[-1].time) if stream else None,
        "device_ids": list(devices),
        "platform": _latest(stream, "platform") or info.get("platform"),
        "os": _latest(stream, "os_name") or info.get("os_name"),
        "country": _latest(stream, "country") or info.get("country"),
        "properties": dict(user.user_properties) if user is not None else {},
    }


def _whole(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    return int(value) if value.isascii() and value.isdigit() else None


async def user_activity(request: Request) -> Response:
    if denied := check_basic(request):
        return denied
    sb = sandbox(request)
    q = request.query_params
    set_items(request, 1)
    raw = q.get("user", "")
    if not (raw.isascii() and raw.isdigit()):
        return js({"error": "user must be an Amplitude id (a number)"}, 400)
    offset, limit = _whole(q.get("offset"), 0), _whole(q.get("limit"), MAX_LIMIT)
    if offset is None or limit is None or limit < 1:
        return js({"error": "offset and limit must be whole numbers (limit at least 1)"}, 400)
    direction = q.get("direction", "latest")
    if direction not in ("latest", "earliest"):
        return js({"error": "direction must be latest or earliest"}, 400)
    if headers := throttle(sb.limits["usersearch"]):
        return js({"error": "Too many requests: at most 360 user search and user activity queries per hour"},
                  429, headers)
    store = sb.state.events
    canonical = store.merged.get(int(raw), int(raw))
    ids = store.stream_ids(sb.state.amplitude, canonical)
    stream = store.amplitude_stream(sb.state.amplitude, canonical)
    ordered = stream[::-1] if direction == "latest" else stream
    page = ordered[offset : offset + min(limit, MAX_LIMIT)]
    return js({"userData": _user_data(sb, canonical, stream, ids), "events": [_wire_event(e) for e in page]})


def _date(value: str | None, *, end: bool) -> float | None:
    try:
        day = dt.datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    return (day + dt.timedelta(days=1) if end else day).timestamp()


async def stream_query(request: Request) -> Response:
    if denied := check_mixpanel_auth(request):
        return denied
    sb = sandbox(request)
    q = request.query_params
    try:
        ids = json.loads(q.get("distinct_ids") or "")
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return js({"error": "distinct_ids must be a non-empty JSON array of strings", "status": "error"}, 400)
    set_items(request, len(ids))
    start, stop = _date(q.get("from_date"), end=False), _date(q.get("to_date"), end=True)
    if start is None or stop is None:
        return js({"error": "from_date and to_date are required (YYYY-MM-DD)", "status": "error"}, 400)
    if headers := throttle(sb.limits.get("engage")):
        return js({"error": "Query rate limit exceeded: at most 60 queries per hour", "status": "error"},
                  429, headers)
    events = sb.state.events.mixpanel_stream(sb.state.mixpanel, ids, start, stop)
    return js({"status": "ok", "results": {"events": events}})


async def seed_events(request: Request) -> Response:
    sb = sandbox(request)
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        kept = 0
        for raw in data.get("amplitude", ()):
            kept += sb.state.events.record_amplitude(sb.state.amplitude, **raw) is not None
        for raw in data.get("mixpanel", ()):
            if sb.state.events.record_mixpanel(raw):
                kept += 1
                distinct_id = raw.get("properties", {}).get("distinct_id")
                sb.state.mixpanel.count_event(distinct_id if isinstance(distinct_id, str) else None)
    except (ValueError, TypeError, AttributeError) as exc:
        return js({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 400)
    return js({"ok": True, "kept": kept, "amplitude": len(sb.state.events.amplitude),
               "mixpanel": len(sb.state.events.mixpanel)})


def routes() -> list[Route]:
    return [
        Route("/api/2/useractivity", user_activity, methods=["GET"]),
        Route("/api/query/stream/query", stream_query, methods=["GET"]),
        Route("/_sandbox/events", seed_events, methods=["POST"]),
    ]

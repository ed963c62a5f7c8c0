"""Tolerant parsing of the activity answers into activity_models (API.md "User activity", "Profile event
activity"). Missing or extra fields are fine; an id that is not a string or number, or a body that is not
the documented shape, raises ShapeError (the caller turns it into a malformed-answer error)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from idconsole.api.activity_models import ActivityEvent, ActivityUser, MixpanelEvent
from idconsole.api.parse import ShapeError, amplitude_id_value, as_int, as_str, id_value

_UTC = dt.timezone.utc


def event_time(value: Any) -> dt.datetime | None:
    """Amplitude's `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), ISO 8601, or epoch seconds / milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=_UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=_UTC) if when.tzinfo is None else when.astimezone(_UTC)


def _props(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ids(values: Any, what: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(v for i, raw in enumerate(values) if (v := id_value(raw, f"{what}[{i}]")) is not None)


def parse_user_data(data: Any) -> ActivityUser:
    if not isinstance(data, dict):
        raise ShapeError("`userData` is not an object")
    merged = data.get("merged_amplitude_ids")
    merged_ids = tuple(
        n for i, raw in enumerate(merged if isinstance(merged, list) else [])
        if (n := amplitude_id_value(raw, f"merged_amplitude_ids[{i}]")) is not None
    )
    return ActivityUser(
        user_id=id_value(data.get("user_id"), "userData.user_id"),
        canonical_amplitude_id=amplitude_id_value(data.get("canonical_amplitude_id"), "canonical_amplitude_id"),
        merged_amplitude_ids=merged_ids,
        num_events=as_int(data.get("num_events")),
        num_sessions=as_int(data.get("num_sessions")),
        first_used=as_str(data.get("first_used")),
        last_used=as_str(data.get("last_used")),
        device_ids=_ids(data.get("device_ids"), "device_ids"),
        platform=as_str(data.get("platform")),
        os=as_str(data.get("os")),
        country=as_str(data.get("country")),
        properties=_props(data.get("properties")),
    )


def parse_activity_event(entry: Any, index: int) -> ActivityEvent:
    if not isinstance(entry, dict):
        raise ShapeError(f"events[{index}] is not an object")
    where = f"events[{index}]"
    raw_time = entry.get("event_time", entry.get("time"))
    return ActivityEvent(
        event_type=as_str(entry.get("event_type")) or "",
        time=event_time(raw_time),
        time_text=as_str(raw_time),
        amplitude_id=amplitude_id_value(entry.get("amplitude_id"), f"{where}.amplitude_id"),
        user_id=id_value(entry.get("user_id"), f"{where}.user_id"),
        device_id=id_value(entry.get("device_id"), f"{where}.device_id"),
        session_id=as_int(entry.get("session_id")),
        platform=as_str(entry.get("platform")),
        os_name=as_str(entry.get("os_name")),
        country=as_str(entry.get("country")),
        event_properties=_props(entry.get("event_properties")),
        user_properties=_props(entry.get("user_properties")),
        uuid=as_str(entry.get("uuid")),
        insert_id=as_str(entry.get("$insert_id", entry.get("insert_id"))),
    )


def parse_user_activity(body: Any) -> tuple[ActivityUser, tuple[ActivityEvent, ...]]:
    if not isinstance(body, dict) or "userData" not in body and "events" not in body:
        raise ShapeError("no `userData` or `events`")
    events = body.get("events")
    if events is not None and not isinstance(events, list):
        raise ShapeError("`events` is not a list")
    user = parse_user_data(body.get("userData") or {})
    return user, tuple(parse_activity_event(e, i) for i, e in enumerate(events or []))


def parse_stream(body: Any) -> tuple[MixpanelEvent, ...]:
    """`{"status": "ok", "results": {"events": [{"event", "properties": {...}}]}}`."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), dict):
        raise ShapeError("no `results` object")
    events = body["results"].get("events")
    if not isinstance(events, list):
        raise ShapeError("`results.events` is not a list")
    out = []
    for i, entry in enumerate(events):
        if not isinstance(entry, dict):
            raise ShapeError(f"events[{i}] is not an object")
        props = _props(entry.get("properties"))
        where = f"events[{i}].properties"
        out.append(MixpanelEvent(
            event=as_str(entry.get("event")) or "",
            time=event_time(props.get("time")),
            distinct_id=id_value(props.get("distinct_id"), f"{where}.distinct_id"),
            device_id=id_value(props.get("$device_id"), f"{where}.$device_id"),
            user_id=id_value(props.get("$user_id"), f"{where}.$user_id"),
            insert_id=as_str(props.get("$insert_id")),
            properties=props,
        ))
    return tuple(out)

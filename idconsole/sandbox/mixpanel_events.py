"""Validation and application of Mixpanel events ($identify, $create_alias, $merge, anything else).

Shared by `/track` and `/import` so both speak the same rules. A check returns (field, message) for the
first problem of an event, or None; so does an apply, which changes nothing when it refuses.
"""

from __future__ import annotations

import time
from typing import Any

from idconsole.sandbox.events import EventStore
from idconsole.sandbox.mixpanel_state import MixpanelState

MAX_EVENTS = 2000


def _id(props: dict[str, Any], key: str) -> bool:
    return isinstance(props.get(key), str) and bool(props[key])


def check_event(
    event: Any, token: str, *, require_time: bool, require_insert_id: bool = False
) -> tuple[str, str] | None:
    """`require_time`: /import's rule for ordinary events; `require_insert_id`: its strict mode's (?)."""
    if not isinstance(event, dict):
        return "event", "event must be an object"
    name = event.get("event")
    if not isinstance(name, str) or not name:
        return "event", "event name is required"
    props = event.get("properties")
    if not isinstance(props, dict):
        return "properties", "properties must be an object"
    if props.get("token") != token:
        return "properties.token", "token is missing or does not match this project"
    if name == "$identify":
        for key in ("$identified_id", "$anon_id"):
            if not _id(props, key):
                return f"properties.{key}", f"{key} must be a non-empty string"
    elif name == "$create_alias":
        for key in ("distinct_id", "alias"):
            if not _id(props, key):
                return f"properties.{key}", f"{key} must be a non-empty string"
    elif name == "$merge":
        ids = props.get("$distinct_ids")
        if not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) and i for i in ids):
            return "properties.$distinct_ids", "$distinct_ids must be a list of exactly two non-empty ids"
    elif require_time:
        # /import takes historical events: every ordinary event needs its time and distinct_id
        if not isinstance(props.get("time"), (int, float)) or isinstance(props.get("time"), bool):
            return "properties.time", "time is required (seconds or milliseconds since the epoch)"
        if not isinstance(props.get("distinct_id"), str):
            return "properties.distinct_id", "distinct_id is required"
        if require_insert_id and not (isinstance(props.get("$insert_id"), str) and props["$insert_id"]):
            return "properties.$insert_id", "$insert_id is required with strict=1"
    return None


def apply_event(
    state: MixpanelState, event: dict[str, Any], store: EventStore | None = None
) -> tuple[str, str] | None:
    """Apply one valid event; (field, message) when the identity graph refuses it. An ordinary event is
    kept in `store` (the state's event store)."""
    name, props = event["event"], event["properties"]
    if name == "$identify":
        error = state.identify(props["$identified_id"], props["$anon_id"])
        field = "properties.$anon_id"
    elif name == "$create_alias":
        error = state.alias(props["alias"], props["distinct_id"])
        field = "properties.alias"
    elif name == "$merge":
        error = state.merge(*props["$distinct_ids"])
        field = "properties.$distinct_ids"
    else:
        if not isinstance(props.get("time"), (int, float)):  # /track: the time it arrived, as Mixpanel does
            event = {**event, "properties": {**props, "time": int(time.time())}}
        if store is None or store.record_mixpanel(event):  # a resent event is dropped, not counted again
            distinct_id = props.get("distinct_id")
            state.count_event(distinct_id if isinstance(distinct_id, str) else None)
        return None
    return None if error is None else (field, error)

"""Events as Amplitude's HTTP V2 API (`/2/httpapi`) and Batch API (`/batch`) take them, what the official
`amplitude-analytics` SDK sends: check a batch, then apply it to the Amplitude state. Pure Python.

- Every event needs an `event_type` and a `user_id` or `device_id` (a `$groupidentify` needs neither id);
  ids are strings of at least `min_id_length` characters (5 unless the request's `options` say otherwise).
  An all-zero device id (an iOS IDFA under Limit Ad Tracking) is refused, as Amplitude documents.
  `time` and `session_id` are whole numbers (milliseconds); `event_properties`, `user_properties`,
  `groups`, `group_properties` are objects. A bad event is reported by index in the documented maps
  (`events_with_missing_fields`, `events_with_invalid_fields`, `events_with_invalid_id_lengths`); an event
  with neither id is listed under both `user_id` and `device_id` (?). One bad event refuses the request
  (nothing applied), which is why the SDK resends the others.
- `user_properties` (on `$identify` and on any event) take the Identify API's operations and rules
  (`ops.py`: `$set`, `$setOnce`, `$add`, `$append`, ..., depth at most 40), applied by the same code
  (`AmplitudeState.identify`) to the same users; device and location fields and `groups` are kept too.
- A `$groupidentify` applies `group_properties` (the same operations) to each of its `groups`.
- Every other event is kept in the event store (`EventStore.record_amplitude`, events.py) with the
  server's time when it has none; `$identify` and `$groupidentify` update properties without being an
  event of the user's stream.
- An event whose `insert_id` was already taken for the same user or device is dropped, property updates
  included (Amplitude deduplicates them), but counts as ingested (?).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from idconsole.sandbox import ops
from idconsole.sandbox.amplitude_state import AmplitudeState
from idconsole.sandbox.events import EventStore

IDENTIFY, GROUP_IDENTIFY = "$identify", "$groupidentify"
DEFAULT_MIN_ID_LENGTH = 5
ZERO_DEVICE = "00000000-0000-0000-0000-000000000000"
OBJECT_FIELDS = ("event_properties", "user_properties", "groups", "group_properties")
WHOLE_NUMBER_FIELDS = ("time", "session_id", "event_id")


@dataclass
class EventProblems:
    """The indexes of bad events by field, in the three maps the HTTP V2 API answers with."""

    missing: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    invalid: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    id_lengths: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def __bool__(self) -> bool:
        return bool(self.missing or self.invalid or self.id_lengths)

    def body(self) -> dict[str, Any]:
        """The 400 answer's fields besides `code`."""
        body: dict[str, Any] = {}
        if self.missing:
            body["events_with_missing_fields"] = dict(self.missing)
        if self.invalid:
            body["events_with_invalid_fields"] = dict(self.invalid)
        if self.id_lengths:
            body["events_with_invalid_id_lengths"] = dict(self.id_lengths)
        if self.id_lengths and not (self.missing or self.invalid):
            body["error"] = "Invalid id length for user_id or device_id"
        else:
            body["error"] = "Invalid field values on some events"
        return body


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= -1


def check_events(events: list[Any], min_id_length: int) -> tuple[list[Any], EventProblems]:
    """(one normalized user-property plan per event, the problems); apply only when there are none."""
    problems = EventProblems()
    plans: list[Any] = []
    for i, event in enumerate(events):
        plans.append(None)
        if not isinstance(event, dict):
            problems.invalid["event"].append(i)
            continue
        event_type = event.get("event_type")
        if not isinstance(event_type, str) or not event_type:
            problems.missing["event_type"].append(i)
        _check_ids(i, event, event_type == GROUP_IDENTIFY, min_id_length, problems)
        for name in WHOLE_NUMBER_FIELDS:
            if event.get(name) is not None and not _whole(event[name]):
                problems.invalid[name].append(i)
        for name in OBJECT_FIELDS:
            if event.get(name) is not None and not isinstance(event[name], dict):
                problems.invalid[name].append(i)
        try:
            plans[i] = _plan(event.get("user_properties"))
            if event_type == GROUP_IDENTIFY:
                plans[i] = _plan(event.get("group_properties"))
        except ops.OpError:
            problems.invalid["group_properties" if event_type == GROUP_IDENTIFY else "user_properties"].append(i)
    return plans, problems


def _check_ids(i: int, event: dict[str, Any], group: bool, min_length: int, problems: EventProblems) -> None:
    present = False
    for name in ("user_id", "device_id"):
        value = event.get(name)
        if value is None or value == "":
            continue
        present = True
        if not isinstance(value, str):
            problems.invalid[name].append(i)
        elif len(value) < min_length:
            problems.id_lengths[name].append(i)
        elif name == "device_id" and value == ZERO_DEVICE:
            problems.invalid[name].append(i)
    if not present and not group:
        problems.missing["user_id"].append(i)
        problems.missing["device_id"].append(i)


def _plan(properties: Any) -> list[tuple[str, Any]]:
    if properties is None or not isinstance(properties, dict):
        return []  # a non-object is reported as an invalid field already
    if ops.depth(properties) > ops.MAX_DEPTH:
        raise ops.OpError(f"nested deeper than {ops.MAX_DEPTH}")
    return ops.normalize(properties)


def _or(value: Any, default: int) -> Any:
    return default if value is None else value


def apply_events(amp: AmplitudeState, store: EventStore, events: list[dict[str, Any]], plans: list[Any],
                 now_ms: int) -> int:
    """Apply a checked batch; the number of events kept in the users' streams (duplicates are not)."""
    kept = 0
    for event, plan in zip(events, plans, strict=True):
        event_type = event["event_type"]
        if event_type not in (IDENTIFY, GROUP_IDENTIFY):
            recorded = store.record_amplitude(
                amp, event_type=event_type, time=_or(event.get("time"), now_ms), user_id=event.get("user_id"),
                device_id=event.get("device_id"), session_id=_or(event.get("session_id"), -1),
                platform=event.get("platform"), os_name=event.get("os_name"), country=event.get("country"),
                event_properties=event.get("event_properties"), user_properties=event.get("user_properties"),
                insert_id=event.get("insert_id"),
            )  # fmt: skip
            if recorded is None:
                continue  # a resent event: its property updates were applied the first time
            kept += 1
        elif not amp.first_sight(event):
            continue
        if event_type == GROUP_IDENTIFY:
            for gtype, names in (event.get("groups") or {}).items():
                for name in names if isinstance(names, list) else [names]:
                    ops.apply(amp.group(str(gtype), str(name)), plan)
        else:
            amp.identify(event, plan)  # the Identify API's own code: properties, devices, location, groups
    return kept

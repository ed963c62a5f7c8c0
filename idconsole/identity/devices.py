"""The devices of an investigation: for each device, the user ids its events were sent under, and
whether it is shared (seen under more than `SHARED_DEVICE_MAX_USERS` user ids, the rule in
`idconsole.changes.shared_devices`, which the plan's warning uses too).

`device_views(events, sightings=...)` counts what the fetched events show, plus what the client has seen
elsewhere (`DeviceSightings`: other streams of this session), so a kiosk tablet is flagged shared even in a
timeline that holds only two of the dozen users who used it. `common_devices(a, b, ...)` is the compare
view's "devices both users were seen on", each with its shared flag.

Nothing here renders text: ids stay raw strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from idconsole.api.activity_models import ActivityEvent
from idconsole.changes.shared_devices import SHARED_DEVICE_MAX_USERS, DeviceSightings, is_shared

__all__ = ["SHARED_DEVICE_MAX_USERS", "CommonDevice", "DeviceTally", "DeviceView", "common_devices", "device_views",
           "is_shared", "shared_device_ids", "tally_devices"]


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


@dataclass(frozen=True)
class DeviceView:
    """One device as the investigation sees it."""

    device_id: str
    #: named user ids seen with it, first sight first (these events, then other streams of the session)
    user_ids: tuple[str, ...]
    #: events of it among the fetched ones (and how many of those had no user id: anonymous)
    events: int = 0
    anonymous_events: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    platforms: tuple[str, ...] = ()

    @property
    def shared(self) -> bool:
        return is_shared(len(self.user_ids))

    def to_json(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "user_ids": list(self.user_ids), "shared": self.shared,
                "events": self.events, "anonymous_events": self.anonymous_events,
                "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
                "platforms": list(self.platforms)}


class DeviceTally:
    """One pass over events, per device: each user id's first event time (None: the events without a
    user id), event counts, first/last seen, platforms. `device_views` and the timeline's markers read it."""

    __slots__ = ("anonymous", "events", "first", "last", "platforms", "users")

    def __init__(self) -> None:
        #: user id (None: no user id) -> its first event on this device (None: no readable time)
        self.users: dict[str | None, dt.datetime | None] = {}
        self.platforms: dict[str, None] = {}
        self.events = 0
        self.anonymous = 0
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None


def _stamp(when: dt.datetime | None) -> float:
    return when.timestamp() if when is not None else float("inf")


def tally_devices(events: Iterable[ActivityEvent]) -> dict[str, DeviceTally]:
    tallies: dict[str, DeviceTally] = {}
    for event in events:
        device = event.device_id
        if not device:
            continue
        tally = tallies.get(device)
        if tally is None:
            tally = tallies[device] = DeviceTally()
        tally.events += 1
        user, when = event.user_id, event.time
        if user is None:
            tally.anonymous += 1
        if event.platform and event.platform not in tally.platforms:
            tally.platforms[event.platform] = None
        if user not in tally.users:
            tally.users[user] = when
        elif when is not None:
            known = tally.users[user]
            if known is None or when < known:
                tally.users[user] = when
        if when is not None:
            if tally.first is None or when < tally.first:
                tally.first = when
            if tally.last is None or when > tally.last:
                tally.last = when
    return tallies


def device_views(
    events: Iterable[ActivityEvent] = (),
    *,
    sightings: DeviceSightings | None = None,
    tallies: dict[str, DeviceTally] | None = None,
) -> list[DeviceView]:
    """Every device of `events` (or of `tallies` already made from them), first seen first, with the
    user ids it was seen under; `sightings` adds the user ids other streams of this session showed."""
    if tallies is None:
        tallies = tally_devices(events)
    views = []
    for device, tally in tallies.items():
        named = sorted(((u, t) for u, t in tally.users.items() if u is not None), key=lambda item: _stamp(item[1]))
        users = dict.fromkeys(u for u, _ in named)   # first sight first
        if sightings is not None:
            users.update(dict.fromkeys(sightings.users_of(device)))
        views.append(DeviceView(device, tuple(users), tally.events, tally.anonymous, tally.first, tally.last,
                                tuple(tally.platforms)))
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    views.sort(key=lambda v: v.first_seen or far)
    return views


def shared_device_ids(views: Iterable[DeviceView]) -> frozenset[str]:
    return frozenset(v.device_id for v in views if v.shared)


@dataclass(frozen=True)
class CommonDevice:
    """A device both users of a comparison were seen on."""

    device_id: str
    user_count: int
    shared: bool

    def to_json(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "seen_under_user_ids": self.user_count, "shared": self.shared}


def common_devices(
    devices_a: Sequence[str],
    devices_b: Sequence[str],
    *,
    views: Iterable[DeviceView] = (),
    sightings: DeviceSightings | None = None,
) -> list[CommonDevice]:
    """The devices in both lists, in `devices_a`'s order, each with how many user ids it is seen under
    (the larger of what `views` and `sightings` know; at least 2: both users) and its shared flag."""
    counts = {v.device_id: len(v.user_ids) for v in views}
    b = set(devices_b)
    out = []
    for device in dict.fromkeys(devices_a):
        if device not in b:
            continue
        known = counts.get(device, 0)
        if sightings is not None:
            known = max(known, len(sightings.users_of(device)))
        count = max(known, 2)
        out.append(CommonDevice(device, count, is_shared(count)))
    return out

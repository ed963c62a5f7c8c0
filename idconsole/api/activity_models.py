"""Typed results of the activity APIs (activity.py): Amplitude user activity, Mixpanel profile event activity.

Events are personal data: these objects live in memory; nothing here writes them anywhere. Every text
field is untrusted (shown literally by the faces). Times are timezone-aware UTC datetimes, or None when the
server sent none that can be read (the text as sent is kept beside it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


@dataclass(frozen=True)
class ActivityEvent:
    """One Amplitude event of a user's stream."""

    event_type: str
    time: dt.datetime | None
    time_text: str | None = None
    amplitude_id: int | None = None
    user_id: str | None = None
    device_id: str | None = None
    session_id: int | None = None
    platform: str | None = None
    os_name: str | None = None
    country: str | None = None
    event_properties: dict[str, Any] = field(default_factory=dict)
    user_properties: dict[str, Any] = field(default_factory=dict)
    uuid: str | None = None
    insert_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `idconsole activity --json` event shape (DESIGN.md): no property values."""
        return {"time": _iso(self.time) or self.time_text, "event_type": self.event_type, "user_id": self.user_id,
                "device_id": self.device_id, "amplitude_id": self.amplitude_id, "session_id": self.session_id,
                "platform": self.platform}


@dataclass(frozen=True)
class ActivityUser:
    """`userData`: who the stream belongs to and what it adds up to."""

    user_id: str | None
    canonical_amplitude_id: int | None
    merged_amplitude_ids: tuple[int, ...] = ()
    num_events: int | None = None
    num_sessions: int | None = None
    first_used: str | None = None
    last_used: str | None = None
    device_ids: tuple[str, ...] = ()
    platform: str | None = None
    os: str | None = None
    country: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def amplitude_ids(self) -> tuple[int, ...]:
        """Every amplitude id whose events are in this stream, the canonical one first."""
        first = (self.canonical_amplitude_id,) if self.canonical_amplitude_id is not None else ()
        return first + tuple(i for i in self.merged_amplitude_ids if i != self.canonical_amplitude_id)


@dataclass(frozen=True)
class ActivityPage:
    """One `GET /api/2/useractivity` answer: `events` from `offset` (newest first with `latest`)."""

    amplitude_id: int
    user: ActivityUser
    events: tuple[ActivityEvent, ...]
    offset: int
    limit: int
    direction: str = "latest"

    @property
    def full(self) -> bool:
        """A full page: there may be more after it."""
        return len(self.events) >= self.limit


@dataclass(frozen=True)
class UserActivity:
    """Several pages of one stream put together (`AmplitudeActivityApi.stream`)."""

    amplitude_id: int
    user: ActivityUser
    events: tuple[ActivityEvent, ...]
    #: the stream has more events than were fetched (the `max_events` cap was reached)
    truncated: bool
    pages: int
    direction: str = "latest"


@dataclass(frozen=True)
class MixpanelEvent:
    """One event of a Mixpanel profile's activity; `distinct_id` is the id it was sent with."""

    event: str
    time: dt.datetime | None
    distinct_id: str | None = None
    device_id: str | None = None     # `$device_id`
    user_id: str | None = None       # `$user_id`
    insert_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MixpanelActivity:
    """The events of the asked ids' identity clusters between two dates (inclusive).

    `observed_ids` are the distinct ids (`distinct_id`, `$user_id`) seen in those events and
    `observed_device_ids` the `$device_id`s: what the events show, never the complete cluster (no public
    API lists a cluster's members)."""

    distinct_ids: tuple[str, ...]
    from_date: dt.date
    to_date: dt.date
    events: tuple[MixpanelEvent, ...]
    observed_ids: tuple[str, ...] = ()
    observed_device_ids: tuple[str, ...] = ()

"""A Mixpanel distinct id, first class: its cluster's canonical id and properties (engage), and the distinct
ids OBSERVED in the cluster's events (Profile Event Activity). Textual-free; the console's Mixpanel view and
`idconsole lookup ID --vendor mixpanel` show it.

Mixpanel has no API that lists the ids of an identity cluster: what can be shown is the canonical id (the
`$distinct_id` engage answers with) and the ids seen in the cluster's events (`distinct_id`, `$user_id`,
and the `$device_id`s). They are labelled *observed*, never presented as the whole cluster.

An id Amplitude has never seen (the story's `$device:...` phone id) is looked up here on its own terms: it
is known when engage has a profile for it OR its cluster has events; unknown only when neither.

Cost: one engage read and one stream query, both in the Query API's budget (60/hour, 5 in flight). The
stream query is in maintenance mode: a project that does not offer it still gets the profile, and the note
says why no ids are observed. The devices the events show are added to the client's Mixpanel
`DeviceSightings` (in memory), so a plan can tell a shared device without spending the Query API budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from idconsole.api.activity_models import ActivityEvent, ActivityUser, MixpanelActivity, UserActivity
from idconsole.api.errors import ActivityNotOffered, NotFound
from idconsole.api.models import MixpanelProfile
from idconsole.changes.shared_devices import MIXPANEL, sightings_for

#: the stream query needs dates: from long before any project's first event, to today (one query either way)
HISTORY_START = dt.date(2010, 1, 1)
QUERY_COST = 2  # engage + stream query
OBSERVED_LABEL = "observed in the cluster's events (Mixpanel lists no cluster: these are the ids its events show)"


@dataclass(frozen=True)
class MixpanelLookup:
    query: str
    profile: MixpanelProfile | None = None
    activity: MixpanelActivity | None = None
    #: why there are no observed ids (the endpoint is not offered...), our words
    activity_note: str | None = None
    requests: int = 0
    observed_ids: tuple[str, ...] = field(default=())

    @property
    def canonical_id(self) -> str | None:
        return self.profile.distinct_id if self.profile is not None else None

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.profile.properties) if self.profile is not None else {}

    @property
    def observed_device_ids(self) -> tuple[str, ...]:
        return self.activity.observed_device_ids if self.activity is not None else ()

    @property
    def events(self) -> int:
        return len(self.activity.events) if self.activity is not None else 0

    @property
    def known(self) -> bool:
        """Mixpanel knows it: a profile, or events in its cluster."""
        return self.profile is not None or self.events > 0

    def to_json(self) -> dict[str, Any]:
        """`lookup --vendor mixpanel --json`, per id: `canonical_id`, `observed_ids`, `properties` (DESIGN.md),
        plus the observed device ids, the event count and the note."""
        return {"canonical_id": self.canonical_id, "observed_ids": list(self.observed_ids),
                "properties": self.properties, "observed_device_ids": list(self.observed_device_ids),
                "events": self.events, "known": self.known, "observed": OBSERVED_LABEL,
                "activity_note": self.activity_note}


def _observed(query: str, profile: MixpanelProfile | None, activity: MixpanelActivity | None) -> tuple[str, ...]:
    """The ids the events show, the canonical id first when they show it (the asked id is not added:
    observed means seen in an event)."""
    ids = list(activity.observed_ids) if activity is not None else []
    canonical = profile.distinct_id if profile is not None else None
    if canonical in ids:
        ids.remove(canonical)
        ids.insert(0, canonical)  # type: ignore[arg-type]
    return tuple(ids)


async def look_up_mixpanel(
    client: Any,
    distinct_id: str,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
) -> MixpanelLookup:
    """Engage first (the canonical id), then the cluster's events. NotFound from engage is no error: the id
    may still have events. Other failures (credentials, budget, network) propagate."""
    profile: MixpanelProfile | None
    try:
        profile = await client.mixpanel.profile(distinct_id)
    except NotFound:
        profile = None
    activity: MixpanelActivity | None = None
    note: str | None = None
    start = from_date or HISTORY_START
    end = to_date or dt.datetime.now(dt.timezone.utc).date()
    try:
        activity = await client.mixpanel_activity.events([distinct_id], from_date=start, to_date=end)
    except ActivityNotOffered as exc:
        note = exc.message
    if activity is not None:   # what the events show about devices, for a later plan (in memory only)
        sightings = sightings_for(client, MIXPANEL)
        for event in activity.events:
            sightings.add(event.device_id, event.distinct_id)
    return MixpanelLookup(distinct_id, profile, activity, note, QUERY_COST, _observed(distinct_id, profile, activity))


def as_stream(found: MixpanelLookup) -> UserActivity:
    """The cluster's events as a stream the timeline merges (newest first): each event tagged with the
    distinct id it was sent with, its `$device_id`, and `$os` (or the library) as the platform. Event
    property values are left out (the timeline never needs them)."""
    events = found.activity.events if found.activity is not None else ()
    rows = []
    for n, event in enumerate(events):
        props = event.properties
        platform = props.get("$os") if isinstance(props.get("$os"), str) else None
        if platform is None and isinstance(props.get("mp_lib"), str):
            platform = props["mp_lib"]
        rows.append(ActivityEvent(
            event_type=event.event, time=event.time,
            time_text=event.time.isoformat() if event.time is not None else None,
            user_id=event.distinct_id, device_id=event.device_id, platform=platform,
            uuid=f"mp|{event.insert_id}|{event.distinct_id}|{event.event}|{event.time}" if event.insert_id
            else f"mp|{n}",
        ))
    rows.sort(key=lambda e: e.time.timestamp() if e.time is not None else float("-inf"), reverse=True)
    name = found.canonical_id or found.query
    devices = tuple(dict.fromkeys(e.device_id for e in rows if e.device_id))
    times = [e.time for e in rows if e.time is not None]
    user = ActivityUser(name, None, num_events=len(rows), device_ids=devices,
                        first_used=min(times).date().isoformat() if times else None,
                        last_used=max(times).date().isoformat() if times else None)
    return UserActivity(0, user, tuple(rows), truncated=False, pages=1 if found.activity is not None else 0)

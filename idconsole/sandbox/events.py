"""The sandbox's events: each vendor's copy of what users did, kept on the state (`state.events`). Pure Python.

Anything that ingests an event (the demo story, `/2/httpapi`, `/batch`, Mixpanel `/track` and `/import`)
records it here, so the activity APIs answer from the same world the mappings live in:

- `EventStore.record_amplitude(amp, ...)` attributes the event to an Amplitude user at ingestion, as
  Amplitude does: the `user_id` wins (the user is created on first sight, the device attached to it); a
  device-only event goes to the device's owner, or to a new anonymous user. An event carrying a user id and
  a device id owned by an *anonymous* user merges that anonymous user into the identified one
  (`merged_amplitude_ids`). A repeated `insert_id` for the same user or device is dropped (Amplitude
  de-duplicates on it). Times are milliseconds since the epoch, UTC.
- `EventStore.record_mixpanel(event)` keeps a Mixpanel event (`{"event", "properties"}`) as sent, with
  `time` in seconds; a repeated (`$insert_id`, `distinct_id`, event name, time) is dropped.
- `amplitude_stream(amp, amplitude_id)` is what `GET /api/2/useractivity` shows: the user's own events, those
  of the anonymous users merged into it, and those of every user mapped into it (one level: after U→G,
  G's stream holds U's and G's events; U keeps only its own — API.md).
- `mixpanel_stream(mp, distinct_ids, ...)` is what `/api/query/stream/query` shows: every event whose
  `distinct_id` belongs to the cluster of an asked id, each with the distinct id it was sent with (?).

`export()` / `load()` round-trip the store for `/_sandbox/state`, `--data FILE` and the demo world file.
Loaded Amplitude events without an `amplitude_id` (the demo's story) are attributed as at ingestion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from idconsole.sandbox.amplitude_state import AmplitudeState
from idconsole.sandbox.mixpanel_state import MixpanelState


@dataclass
class AmpEvent:
    time: int  #: ms since the epoch, UTC
    event_type: str
    amplitude_id: int
    user_id: str | None = None
    device_id: str | None = None
    session_id: int = -1  #: -1 = no session (Amplitude's own convention)
    platform: str | None = None
    os_name: str | None = None
    country: str | None = None
    event_properties: dict[str, Any] = field(default_factory=dict)
    user_properties: dict[str, Any] = field(default_factory=dict)
    insert_id: str | None = None
    #: position in the store; the sandbox builds the event's `uuid` from it
    seq: int = 0

    def export(self) -> dict[str, Any]:
        return asdict(self)


class EventStore:
    def __init__(self) -> None:
        self.amplitude: list[AmpEvent] = []
        #: Mixpanel events as sent: {"event": name, "properties": {...}}
        self.mixpanel: list[dict[str, Any]] = []
        #: anonymous amplitude id -> the identified user's amplitude id it was merged into
        self.merged: dict[int, int] = {}
        self._amp_seen: set[tuple[str, str]] = set()
        self._mp_seen: set[tuple[str, str, str, float]] = set()

    # --- Amplitude -----------------------------------------------------------------------------------

    def record_amplitude(self, amp: AmplitudeState, *, event_type: str, time: int, user_id: str | None = None,
                         device_id: str | None = None, session_id: int = -1, platform: str | None = None,
                         os_name: str | None = None, country: str | None = None,
                         event_properties: dict[str, Any] | None = None,
                         user_properties: dict[str, Any] | None = None, insert_id: str | None = None,
                         amplitude_id: int | None = None) -> AmpEvent | None:
        """Keep one event (one of `user_id` / `device_id` is required); None when it is a duplicate."""
        if not user_id and not device_id:
            raise ValueError("an Amplitude event needs a user_id or a device_id")
        if insert_id:
            key = (str(user_id or device_id), insert_id)
            if key in self._amp_seen:
                return None
            self._amp_seen.add(key)
        if amplitude_id is None or amplitude_id not in amp.users:
            amplitude_id = self._attribute(amp, user_id, device_id)
        event = AmpEvent(time=int(time), event_type=event_type, amplitude_id=amplitude_id, user_id=user_id or None,
                         device_id=device_id or None, session_id=int(session_id), platform=platform,
                         os_name=os_name, country=country, event_properties=dict(event_properties or {}),
                         user_properties=dict(user_properties or {}), insert_id=insert_id,
                         seq=len(self.amplitude) + 1)  # fmt: skip
        self.amplitude.append(event)
        return event

    def _attribute(self, amp: AmplitudeState, user_id: str | None, device_id: str | None) -> int:
        owner = amp.by_device(device_id) if device_id else None
        if user_id:
            user = amp.identify({"user_id": user_id, **({"device_id": device_id} if device_id else {})}, [])
            if owner is not None and owner.user_id is None and owner.amplitude_id != user.amplitude_id:
                self.merged.setdefault(owner.amplitude_id, user.amplitude_id)
            return user.amplitude_id
        if owner is not None:
            return self.merged.get(owner.amplitude_id, owner.amplitude_id)
        return amp.identify({"device_id": device_id}, []).amplitude_id

    def stream_ids(self, amp: AmplitudeState, amplitude_id: int) -> list[int]:
        """The amplitude ids whose events make up `amplitude_id`'s stream, its own first."""
        ids = [amplitude_id]
        ids += [anon for anon, into in self.merged.items() if into == amplitude_id]
        user = amp.users.get(amplitude_id)
        if user is not None and user.user_id is not None:
            for source in amp.mapped_into.get(user.user_id, ()):
                source_id = amp.by_user_id[source]
                if source_id not in ids:
                    ids.append(source_id)
                    ids += [anon for anon, into in self.merged.items() if into == source_id and anon not in ids]
        return ids

    def amplitude_stream(self, amp: AmplitudeState, amplitude_id: int) -> list[AmpEvent]:
        """Every event of `amplitude_id`'s stream, oldest first."""
        ids = set(self.stream_ids(amp, amplitude_id))
        return sorted((e for e in self.amplitude if e.amplitude_id in ids), key=lambda e: (e.time, e.seq))

    # --- Mixpanel ------------------------------------------------------------------------------------

    def record_mixpanel(self, event: dict[str, Any]) -> bool:
        """Keep one ordinary event as sent (`properties.time` in seconds or ms); False when a duplicate."""
        props = dict(event.get("properties") or {})
        time = props.get("time")
        if isinstance(time, (int, float)) and not isinstance(time, bool) and time > 1e11:
            props["time"] = time / 1000  # milliseconds: Mixpanel accepts both
        insert_id = props.get("$insert_id")
        if isinstance(insert_id, str) and insert_id:
            key = (insert_id, str(props.get("distinct_id")), str(event.get("event")), float(props.get("time") or 0))
            if key in self._mp_seen:
                return False
            self._mp_seen.add(key)
        self.mixpanel.append({"event": str(event.get("event")), "properties": props})
        return True

    def mixpanel_stream(self, mp: MixpanelState, distinct_ids: list[str], from_ts: float | None = None,
                        to_ts: float | None = None) -> list[dict[str, Any]]:
        """Events of the clusters holding `distinct_ids` (an id in no cluster stands for itself), oldest
        first, with `from_ts <= time < to_ts` (seconds) when given."""
        members: set[str] = set()
        for distinct_id in distinct_ids:
            cluster = mp.cluster_of(distinct_id)
            members.update(cluster.ids if cluster is not None else (distinct_id,))
        found = []
        for event in self.mixpanel:
            props = event["properties"]
            time = props.get("time")
            when = float(time) if isinstance(time, (int, float)) and not isinstance(time, bool) else 0.0
            if props.get("distinct_id") not in members:
                continue
            if (from_ts is not None and when < from_ts) or (to_ts is not None and when >= to_ts):
                continue
            found.append((when, event))
        found.sort(key=lambda pair: pair[0])
        return [event for _, event in found]

    # --- load / export -------------------------------------------------------------------------------

    def load(self, data: dict[str, Any], amp: AmplitudeState) -> None:
        for anon, into in (data.get("merged") or {}).items():
            self.merged[int(anon)] = int(into)
        for raw in data.get("amplitude", ()):
            raw = dict(raw)
            raw.pop("seq", None)
            self.record_amplitude(amp, **raw)
        for raw in data.get("mixpanel", ()):
            self.record_mixpanel(raw)

    def export(self) -> dict[str, Any]:
        return {
            "amplitude": [event.export() for event in self.amplitude],
            "mixpanel": [dict(event) for event in self.mixpanel],
            "merged": {str(k): v for k, v in self.merged.items()},
        }

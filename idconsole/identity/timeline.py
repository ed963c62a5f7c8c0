"""One timeline for a user's identity tree: the events of every id merged, newest first, with markers where
the identity changed. Textual-free; the console's timeline screen and `idconsole activity` show it.

`build_timeline(streams, journal=...)` takes the fetched streams (`UserActivity`, one per id of the tree,
`identity.activity` fetches them) and gives a `Timeline`:

- rows newest first, each event tagged with the user id it was sent under, its device, platform and the
  stream (id) it was read from. After mapping U→G, G's stream holds U's events too: an event in two
  streams is shown once (the first stream given wins: put the looked-up user first).
- markers (rows of their own) where the identity changed:
  `device_new_user` — a device's first event under a user id other than the one(s) it had before (the
  phone's first event after the login: "before: no user id"); on a shared device (seen under more than a
  few user ids, `identity.devices`) the marker says so, since there it is no news.
  `journal_mapping` — a map or unmap of an id of the tree that the journal recorded (`mapping_records`).
  Both are `identity.markers`'. They are computed from the events *fetched*: with a truncated stream,
  "first" means first fetched.
- a header per stream (`IdHeader`): first/last seen, events, sessions, devices (Amplitude's `userData`,
  counted from the events where it says nothing).
- `view(event_types=...)` filters by event type (markers stay: they explain what is around them);
  `page(n)` pages on demand. The merge is lazy (`heapq.merge` of the already sorted streams), so the first
  page costs one O(n) pass (dedup, markers, counts) plus O(page · log streams), never a sort of everything
  (benchmarks/bench_timeline.py measures it).

Events are personal data: a Timeline lives in memory only, and its JSON has no property values.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from idconsole.api.activity_models import ActivityEvent, UserActivity
from idconsole.identity.devices import DeviceView, device_views, tally_devices
from idconsole.identity.markers import (
    DEVICE_NEW_USER,
    JOURNAL_MAPPING,
    MappingRecord,
    Marker,
    device_markers,
    journal_markers,
    mapping_records,
)

PAGE_SIZE = 100
#: row kinds: an event, or a marker's kind (DEVICE_NEW_USER, JOURNAL_MAPPING: identity.markers)
EVENT = "event"
_OLDEST = float("-inf")
__all__ = ["DEVICE_NEW_USER", "EVENT", "JOURNAL_MAPPING", "PAGE_SIZE", "IdHeader", "MappingRecord", "Marker", "Page",
           "Row", "Timeline", "TimelineView", "build_timeline", "event_key", "header_of", "mapping_records"]


def _ts(when: dt.datetime | None) -> float:
    return when.timestamp() if when is not None else _OLDEST


def event_key(event: ActivityEvent) -> str:
    """What makes two copies of an event the same event (Amplitude's uuid, else its own fields)."""
    if event.uuid:
        return event.uuid
    return f"{event.amplitude_id}|{event.time_text}|{event.event_type}|{event.insert_id}|{event.device_id}"


# --- headers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdHeader:
    """One stream's summary: Amplitude's `userData` where it says, else counted from the fetched events."""

    user_id: str | None
    amplitude_id: int | None
    first_seen: str | None
    last_seen: str | None
    events: int
    sessions: int
    device_ids: tuple[str, ...]
    #: events fetched of this stream, and whether it has more
    fetched: int = 0
    truncated: bool = False
    merged_amplitude_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "amplitude_id": self.amplitude_id, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "events": self.events, "sessions": self.sessions,
                "device_ids": list(self.device_ids), "fetched": self.fetched, "truncated": self.truncated,
                "merged_amplitude_ids": list(self.merged_amplitude_ids)}


def header_of(activity: UserActivity) -> IdHeader:
    user, events = activity.user, activity.events
    first, last = user.first_used, user.last_used
    if first is None or last is None:   # counted only when userData does not say
        times = [e.time for e in events if e.time is not None]
        first = first or (min(times).date().isoformat() if times else None)
        last = last or (max(times).date().isoformat() if times else None)
    sessions = user.num_sessions
    if sessions is None:
        sessions = len({e.session_id for e in events if e.session_id not in (None, -1)})
    devices = user.device_ids
    if not devices:
        devices = tuple(dict.fromkeys(e.device_id for e in events if e.device_id))
    amplitude_id = user.canonical_amplitude_id if user.canonical_amplitude_id is not None else activity.amplitude_id or None
    return IdHeader(user.user_id, amplitude_id, first, last,
                    user.num_events if user.num_events is not None else len(events), sessions, tuple(devices),
                    len(events), activity.truncated, tuple(user.merged_amplitude_ids))


# --- rows, views, pages -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the timeline: an event (tagged) or a marker."""

    time: dt.datetime | None
    event: ActivityEvent | None = None
    marker: Marker | None = None
    #: EVENT: the id whose stream it was read from
    stream: str | None = None

    @property
    def kind(self) -> str:
        return EVENT if self.marker is None else self.marker.kind

    @property
    def user_id(self) -> str | None:
        return self.event.user_id if self.event is not None else self.marker.user_id if self.marker else None

    @property
    def device_id(self) -> str | None:
        return self.event.device_id if self.event is not None else self.marker.device_id if self.marker else None

    @property
    def platform(self) -> str | None:
        return self.event.platform if self.event is not None else None

    @property
    def event_type(self) -> str | None:
        return self.event.event_type if self.event is not None else None


@dataclass(frozen=True)
class Page:
    number: int
    rows: tuple[Row, ...]
    has_more: bool
    size: int = PAGE_SIZE


# Merge items are plain tuples compared without a key function (the cheapest heap merge): newest first,
# at equal times a marker before the events it explains, then the streams in the order given, then each
# stream's own order. The row is built only for what is emitted.
_Item = tuple[float, int, int, int, Any]


def _keyed(number: int, events: Sequence[ActivityEvent], wanted: frozenset[str] | None) -> Iterator[_Item]:
    # a function, not a generator expression in the loop: `number` must be bound per stream
    for position, e in enumerate(events):
        if wanted is None or e.event_type in wanted:
            yield (e.time.timestamp() if e.time is not None else _OLDEST), 0, -number, -position, e


class TimelineView:
    """The merged rows, produced lazily and kept as they are produced (paging back costs nothing)."""

    def __init__(self, timeline: Timeline, event_types: frozenset[str] | None, markers: bool) -> None:
        self.timeline = timeline
        self.event_types = event_types
        self.markers = markers
        self._rows: list[Row] = []
        self._source: Iterator[Row] | None = self._merge()
        self._emitted: set[str] = set()

    def _merge(self) -> Iterator[Row]:
        streams = self.timeline.sorted_streams
        sources: list[Iterator[_Item]] = [_keyed(n, events, self.event_types) for n, (_, events) in enumerate(streams)]
        if self.markers:
            markers = self.timeline.markers
            sources.append((_ts(m.time), 1, 0, -n, Row(m.time, marker=m)) for n, m in reversed(list(enumerate(markers))))
        emitted = self._emitted
        for _time, kind, number, _pos, item in heapq.merge(*sources, reverse=True):
            if kind == 1:
                yield item
                continue
            key = item.uuid or event_key(item)
            if key in emitted:
                continue
            emitted.add(key)
            yield Row(item.time, event=item, stream=streams[-number][0])

    def _fill(self, count: int | None) -> None:
        if self._source is None:
            return
        if count is None:
            self._rows.extend(self._source)
            self._source = None
            return
        need = count - len(self._rows)
        if need > 0:
            got = list(itertools.islice(self._source, need))
            self._rows.extend(got)
            if len(got) < need:
                self._source = None

    def page(self, number: int, size: int = PAGE_SIZE) -> Page:
        """Page `number` (0 = newest); an empty page past the end."""
        if number < 0 or size < 1:
            raise ValueError("page number must be 0 or more and size at least 1")
        start = number * size
        self._fill(start + size + 1)   # one more: does a next page exist?
        rows = tuple(self._rows[start:start + size])
        return Page(number, rows, len(self._rows) > start + size, size)

    def rows(self) -> list[Row]:
        """Every row (merges the rest)."""
        self._fill(None)
        return list(self._rows)

    def __len__(self) -> int:
        self._fill(None)
        return len(self._rows)


@dataclass
class Timeline:
    """The merged timeline of some streams. `view()` filters, `page()` pages the unfiltered view."""

    headers: tuple[IdHeader, ...]
    #: (stream label, its events newest first), in the order given
    sorted_streams: tuple[tuple[str, tuple[ActivityEvent, ...]], ...]
    markers: tuple[Marker, ...]
    #: event type -> how many (each event counted once)
    event_types: Counter[str]
    devices: tuple[DeviceView, ...]
    truncated: bool
    _default: TimelineView | None = field(default=None, repr=False)

    def view(self, event_types: Iterable[str] | None = None, *, markers: bool = True) -> TimelineView:
        types = frozenset(event_types) if event_types is not None else None
        if types is None and markers:
            if self._default is None:
                self._default = TimelineView(self, None, True)
            return self._default
        return TimelineView(self, types, markers)

    def page(self, number: int = 0, size: int = PAGE_SIZE) -> Page:
        return self.view().page(number, size)

    @property
    def event_count(self) -> int:
        return sum(self.event_types.values())

    def to_json(self) -> dict[str, Any]:
        """`idconsole activity --json`: ids, events newest first (no property values), truncated, markers
        and devices."""
        events = [row.event.to_json() for row in self.view(markers=False).rows() if row.event is not None]
        return {"ids": [h.to_json() for h in self.headers], "events": events, "truncated": self.truncated,
                "markers": [m.to_json() for m in self.markers], "devices": [d.to_json() for d in self.devices]}


def _newest_first(events: Sequence[ActivityEvent]) -> tuple[ActivityEvent, ...]:
    """The stream newest first; sorted only when it is not already (the API's `latest` is)."""
    times = [e.time for e in events]
    if None not in times and all(map(operator.ge, times, itertools.islice(times, 1, None))):  # type: ignore[arg-type]
        return tuple(events)
    return tuple(sorted(events, key=lambda e: _ts(e.time), reverse=True))


def build_timeline(
    streams: Sequence[UserActivity],
    *,
    labels: Sequence[str] | None = None,
    journal: Iterable[MappingRecord] = (),
    sightings: Any = None,
) -> Timeline:
    """Merge `streams` (the looked-up user's first). `labels` name each stream (default: its user id, else
    its Amplitude id); `journal` adds mapping markers; `sightings` (DeviceSightings) adds what other
    streams of the session know about the devices (a kiosk is shared even when only two of its users are
    here)."""
    names = list(labels) if labels is not None else [
        s.user.user_id or str(s.user.canonical_amplitude_id or s.amplitude_id) for s in streams]
    if len(names) != len(streams):
        raise ValueError("one label per stream")
    seen: set[str] = set()
    unique: list[ActivityEvent] = []
    ordered = []
    for name, stream in zip(names, streams, strict=True):
        events = _newest_first(stream.events)
        ordered.append((name, events))
        for event in events:
            key = event.uuid or event_key(event)
            if key not in seen:
                seen.add(key)
                unique.append(event)
    tallies = tally_devices(unique)
    devices = tuple(device_views(tallies=tallies, sightings=sightings))
    shared = {d.device_id for d in devices if d.shared}
    markers = sorted([*device_markers(tallies, shared), *journal_markers(journal)], key=lambda m: _ts(m.time))
    return Timeline(
        headers=tuple(header_of(s) for s in streams),
        sorted_streams=tuple(ordered),
        markers=tuple(markers),
        event_types=Counter(e.event_type for e in unique),
        devices=devices,
        truncated=any(s.truncated for s in streams),
    )

"""Where the identity changed, as timeline markers (Textual-free; `identity.timeline` puts them between the
events):

- `device_new_user` — a device's first event under a user id other than the one(s) it had before (the
  phone's first event after the login: "before: no user id"); on a shared device the marker says so.
- `journal_mapping` — a map or unmap of an id of the tree that the journal recorded (`mapping_records`).

`describe(show)` gives our words with the ids passed through `show` (the faces make them literal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from idconsole.changes.journal_entry import ACKED, JournalEntry
from idconsole.changes.kinds import MAP, UNMAP
from idconsole.identity.devices import DeviceTally

DEVICE_NEW_USER, JOURNAL_MAPPING = "device_new_user", "journal_mapping"
_OLDEST = float("-inf")


def _ts(when: dt.datetime | None) -> float:
    return when.timestamp() if when is not None else _OLDEST


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None



@dataclass(frozen=True)
class MappingRecord:
    """A map or unmap the journal recorded for an id of the tree."""

    time: dt.datetime | None
    journal_id: str
    op: str
    user_id: str
    global_user_id: str | None
    status: str


def mapping_records(entries: Iterable[JournalEntry], ids: Collection[str]) -> list[MappingRecord]:
    """Every journal map/unmap whose user or target is one of `ids`, with its status in that apply."""
    wanted = set(ids)
    out = []
    for entry in entries:
        when = _parse_time(entry.at)
        for change in entry.changes:
            if change.op not in (MAP, UNMAP):
                continue
            if change.user_id not in wanted and (change.target_id or "") not in wanted:
                continue
            out.append(MappingRecord(when, entry.journal_id, change.op, change.user_id, change.target_id,
                                     entry.change_status(change.id)))
    return out


def _parse_time(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when


@dataclass(frozen=True)
class Marker:
    """Where the identity changed. `describe()` gives our words; ids inside are raw (the face makes them
    literal)."""

    kind: str
    time: dt.datetime | None
    user_id: str | None
    device_id: str | None = None
    #: DEVICE_NEW_USER: the user ids the device had before (None: events without a user id)
    previous_user_ids: tuple[str | None, ...] = ()
    #: DEVICE_NEW_USER: the device is shared (seen under more than a few user ids)
    shared: bool = False
    #: JOURNAL_MAPPING
    journal_id: str | None = None
    op: str | None = None
    global_user_id: str | None = None
    status: str | None = None

    def describe(self, show: Any = str) -> str:
        if self.kind == DEVICE_NEW_USER:
            before = ", ".join("no user id" if p is None else show(p) for p in self.previous_user_ids)
            text = f"device {show(self.device_id)}: first event under {show(self.user_id)} (before: {before})"
            return text + ("; a shared device, seen under many user ids" if self.shared else "")
        outcome = "" if self.status == ACKED else f" ({(self.status or 'unknown').replace('_', ' ')})"
        if self.op == UNMAP:
            return f"journal {show(self.journal_id)}: unmapped {show(self.user_id)}{outcome}"
        return (f"journal {show(self.journal_id)}: mapped {show(self.user_id)} → "
                f"{show(self.global_user_id)}{outcome}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "time": _iso(self.time), "user_id": self.user_id,
                                "text": self.describe()}
        if self.kind == DEVICE_NEW_USER:
            data.update(device_id=self.device_id, previous_user_ids=list(self.previous_user_ids), shared=self.shared)
        else:
            data.update(journal_id=self.journal_id, op=self.op, global_user_id=self.global_user_id,
                        status=self.status)
        return data


def device_markers(tallies: Mapping[str, DeviceTally], shared: Collection[str] = ()) -> list[Marker]:
    """A marker at each device's first event under each user id after its first (oldest first)."""
    markers = []
    for device, tally in tallies.items():
        if len(tally.users) < 2:
            continue
        order = sorted(tally.users.items(), key=lambda item: _ts(item[1]))
        for n, (user, when) in enumerate(order):
            if n == 0 or user is None:
                continue
            markers.append(Marker(DEVICE_NEW_USER, when, user, device, tuple(u for u, _ in order[:n]),
                                  shared=device in shared))
    markers.sort(key=lambda m: _ts(m.time))
    return markers


def journal_markers(records: Iterable[MappingRecord]) -> list[Marker]:
    return sorted((Marker(JOURNAL_MAPPING, r.time, r.user_id, journal_id=r.journal_id, op=r.op,
                          global_user_id=r.global_user_id, status=r.status) for r in records),
                  key=lambda m: _ts(m.time))

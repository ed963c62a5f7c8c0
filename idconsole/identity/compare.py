"""Compare two users before a map or merge: which properties differ, whose values survive, where each
side's events are, which devices they share. Textual-free; the console's compare view shows it.

    comparison = await compare_users(client, "63629@hmail.com", "hank@globex.net", op=MAP)
    comparison = build_comparison(MP_MERGE, left_side, right_side, sightings=...)   # pure, on data

What survives is the vendors' rule, said once here:
- Amplitude map (left → right): Amplitude does not merge user properties. The global user (right) keeps
  its own values; the left user's are not carried over (its own profile stays as it was).
- Mixpanel `$identify` / `$create_alias` (left → right) and `$merge`: the cluster has one canonical id and
  Mixpanel shows that profile; the other one is hidden (not merged, not deleted). For a merge Mixpanel does
  not document which id becomes canonical (?): most likely the side that has an identified id (not an
  anonymous `$device:` / UUID id), else the first.

A side's facts (Amplitude): how the id resolves (`identity.lookup`), then one page of its user activity
(`userData`: events, first/last seen, devices, properties) — one unit of the 360/hour budget, plus a user
search when the lookup needed one. When the two share a device the client does not know to be shared yet,
the streams of the users they are mapped into are read too (one page each): those hold the whole family's
events, which is where a kiosk shows its dozen users. Mixpanel: `identity.mixpanel_lookup` per side (two
Query API reads each, 60/hour).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from idconsole.changes.kinds import MAP, MP_ALIAS, MP_IDENTIFY, MP_MERGE
from idconsole.changes.shared_devices import DeviceSightings, sightings_for
from idconsole.identity.devices import CommonDevice, common_devices
from idconsole.identity.ids import query_kind
from idconsole.identity.lookup import look_up
from idconsole.identity.mixpanel_lookup import look_up_mixpanel
from idconsole.identity.resolve import ANONYMOUS, RESOLVED

LEFT, RIGHT, NEITHER = "left", "right", "neither"
OPS = (MAP, MP_IDENTIFY, MP_ALIAS, MP_MERGE)


class _Missing:
    """A property one side does not have (distinct from a None value)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Side:
    """One user as the comparison sees it. `found` False: the vendor does not know the id (`note` says)."""

    id: str
    found: bool
    properties: Mapping[str, Any] = field(default_factory=dict)
    events: int | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    device_ids: tuple[str, ...] = ()
    amplitude_id: int | None = None
    #: Mixpanel: the cluster's canonical id; Amplitude: the user id the id resolved to
    canonical_id: str | None = None
    #: Amplitude: the user it is mapped into now (its family's stream)
    mapped_into: str | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "found": self.found, "events": self.events, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "device_ids": list(self.device_ids), "amplitude_id": self.amplitude_id,
                "canonical_id": self.canonical_id, "mapped_into": self.mapped_into, "note": self.note}


@dataclass(frozen=True)
class PropertyRow:
    """A property that differs; `survives` says whose value the merged user shows."""

    key: str
    left: Any
    right: Any
    survives: str

    def to_json(self) -> dict[str, Any]:
        def value(v: Any) -> Any:
            return None if v is MISSING else v
        return {"key": self.key, "left": value(self.left), "right": value(self.right),
                "left_has": self.left is not MISSING, "right_has": self.right is not MISSING,
                "survives": self.survives}


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Side
    right: Side
    #: whose profile the merged user shows
    kept: str
    #: the vendor's rule in one sentence
    rule: str
    differing: tuple[PropertyRow, ...]
    same: int
    devices: tuple[CommonDevice, ...]
    warnings: tuple[str, ...] = ()
    requests: int = 0

    @property
    def shared_only(self) -> bool:
        """Every device they have in common is shared: no evidence they are one person."""
        return bool(self.devices) and all(d.shared for d in self.devices)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "left": self.left.to_json(), "right": self.right.to_json(), "kept": self.kept,
                "rule": self.rule, "differing": [r.to_json() for r in self.differing], "same": self.same,
                "devices": [d.to_json() for d in self.devices], "shared_only": self.shared_only,
                "warnings": list(self.warnings), "requests": self.requests}


def _anonymous_looking(value: str | None) -> bool:
    return value is None or value.startswith("$device:") or query_kind(value) == "device"


def survivor(op: str, left: Side, right: Side) -> tuple[str, str]:
    """(whose profile the merged user shows, the rule in words)."""
    if op == MAP:
        return RIGHT, ("Amplitude does not merge user properties: after the map the global user (right) keeps "
                       "its own values; the left user's are not carried over (its own profile stays as it was).")
    if op in (MP_IDENTIFY, MP_ALIAS):
        return RIGHT, ("Mixpanel shows the canonical profile of the cluster (right) and hides the other one: "
                       "the left profile's values are not merged.")
    if op == MP_MERGE:
        a, b = left.canonical_id or left.id, right.canonical_id or right.id
        kept = RIGHT if _anonymous_looking(a) and not _anonymous_looking(b) else LEFT
        return kept, ("Mixpanel shows one canonical profile for the merged cluster and hides the other; which "
                      "id becomes canonical is not documented (?): most likely the identified one "
                      f"({kept} here). The hidden profile's values are not merged.")
    raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPS)}")


def build_comparison(op: str, left: Side, right: Side, *, sightings: DeviceSightings | None = None,
                     requests: int = 0) -> Comparison:
    """The side-by-side of two sides already fetched (pure)."""
    kept, rule = survivor(op, left, right)
    rows: list[PropertyRow] = []
    same = 0
    for key in sorted({*left.properties, *right.properties}, key=str):
        a, b = left.properties.get(key, MISSING), right.properties.get(key, MISSING)
        if a is not MISSING and b is not MISSING and a == b:
            same += 1
            continue
        winner = b if kept == RIGHT else a
        rows.append(PropertyRow(key, a, b, NEITHER if winner is MISSING else kept))
    devices = tuple(common_devices(left.device_ids, right.device_ids, sightings=sightings))
    warnings = []
    for side in (left, right):
        if not side.found:
            warnings.append(f"{side.id}: {side.note or 'the vendor does not know this id'}")
    if devices and all(d.shared for d in devices):
        names = ", ".join(f"{d.device_id} (seen under {d.user_count} user ids)" for d in devices)
        warnings.append(f"the only devices they have in common are shared: {names} — a shared device is no "
                        "evidence that two users are one person")
    return Comparison(op, left, right, kept, rule, tuple(rows), same, devices, tuple(warnings), requests)


# --- fetching the sides -----------------------------------------------------------------------------------


async def _amplitude_side(client: Any, query: str) -> tuple[Side, int]:
    found = await look_up(client.amplitude, query)
    resolution = found.resolution
    spent = 1 if resolution.search is not None and not resolution.search.cached else 0
    amplitude_id = found.amplitude_id if resolution.outcome == RESOLVED else resolution.amplitude_id
    if resolution.outcome not in (RESOLVED, ANONYMOUS):
        why = "several users match it" if resolution.matches else "Amplitude does not know this id"
        return Side(query, False, note=why), spent
    if amplitude_id is None:
        search = await client.amplitude.search(found.user_id or query)
        spent += 0 if search.cached else 1
        exact = [m.amplitude_id for m in search.matches if m.user_id == found.user_id and m.amplitude_id is not None]
        amplitude_id = exact[0] if exact else None
    if amplitude_id is None:
        return Side(query, True, canonical_id=found.user_id, note="no Amplitude id known: no activity"), spent
    page = await client.amplitude_activity.page(amplitude_id, limit=1)
    spent += 1
    user = page.user
    sightings_for(client).add_user_devices(user.user_id, user.device_ids)
    into = found.chain.steps[0].user_id if found.chain is not None and found.chain.steps else None
    return Side(query, True, dict(user.properties), user.num_events, user.first_used, user.last_used,
                tuple(user.device_ids), amplitude_id, found.user_id, into), spent


async def _family_devices(client: Any, user_id: str) -> int:
    """Read one page of the stream of `user_id` (a user others are mapped into): its events show every
    user of the family on each device. Returns requests spent."""
    search = await client.amplitude.search(user_id)
    spent = 0 if search.cached else 1
    exact = [m.amplitude_id for m in search.matches if m.user_id == user_id and m.amplitude_id is not None]
    if not exact:
        return spent
    activity = await client.amplitude_activity.stream(exact[0], max_events=1000)
    sightings = sightings_for(client)
    sightings.add_events(activity.events)
    sightings.add_user_devices(user_id, activity.user.device_ids)
    sightings.mark_read(user_id)
    return spent + activity.pages


async def _mixpanel_side(client: Any, query: str) -> tuple[Side, int]:
    found = await look_up_mixpanel(client, query)
    if not found.known:
        return Side(query, False, note="Mixpanel has no profile and no events for this id"), found.requests
    stream = found.activity.events if found.activity is not None else ()
    times = [e.time for e in stream if e.time is not None]
    return Side(query, True, found.properties, found.events,
                min(times).date().isoformat() if times else None, max(times).date().isoformat() if times else None,
                found.observed_device_ids, canonical_id=found.canonical_id,
                note=found.activity_note or ""), found.requests


async def compare_users(client: Any, left_id: str, right_id: str, *, op: str = MAP) -> Comparison:
    """Fetch both sides (see the module docstring for the cost) and compare them."""
    if op not in OPS:
        raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPS)}")
    if op == MAP:
        left, a = await _amplitude_side(client, left_id)
        right, b = await _amplitude_side(client, right_id)
        spent = a + b
        sightings = sightings_for(client)
        common = set(left.device_ids) & set(right.device_ids)
        if any(not sightings.is_shared(d) for d in common):
            for family in dict.fromkeys(s.mapped_into for s in (left, right) if s.mapped_into):
                spent += await _family_devices(client, family or "")
        return build_comparison(op, left, right, sightings=sightings, requests=spent)
    left, a = await _mixpanel_side(client, left_id)
    right, b = await _mixpanel_side(client, right_id)
    return build_comparison(op, left, right, sightings=sightings_for(client, "mixpanel"), requests=a + b)

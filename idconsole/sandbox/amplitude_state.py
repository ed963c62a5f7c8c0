"""Amplitude's side of the sandbox: users, their ids, profiles and the user-mapping graph. Pure Python.

- Every user gets a stable integer amplitude_id on first sight, counting up from 100000001, so the same
  sequence of calls always yields the same ids.
- A user_id maps to at most one global_user_id (re-mapping replaces, unmapping removes). Chains and
  cycles are kept as they are: the real API accepts them and resolves nothing transitively.
- Mapping or identifying an unknown id creates the user; unmapping an unknown id changes nothing.
- `mapped_from` lists the users mapped into an id in the order they were (last) mapped.
- A device id seen without a user id belongs to an anonymous user (user_id None) until an identify call
  carrying both ids attaches the device to the user.
- Group properties set by `$groupidentify` are kept by group type and group name. (Events live in the
  event store, events.py.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idconsole.sandbox import ops

FIRST_AMPLITUDE_ID = 100000001
#: identify fields kept as device/location info (not user properties)
INFO_FIELDS = (
    "app_version", "platform", "os_name", "os_version", "device_brand", "device_manufacturer",
    "device_model", "carrier", "country", "region", "city", "dma", "language", "paying", "start_version",
)  # fmt: skip
MAX_GROUP_TYPES = 5
MAX_GROUPS = 10
#: how many insert ids of property-only events (`$identify`) are remembered to drop a resent one
MAX_INSERT_IDS = 100_000


@dataclass
class AmpUser:
    amplitude_id: int
    user_id: str | None
    device_ids: list[str] = field(default_factory=list)
    user_properties: dict[str, Any] = field(default_factory=dict)
    #: computed property id (as a string) -> value; served as `computed-prop-<id>`
    computed_properties: dict[str, Any] = field(default_factory=dict)
    cohort_ids: list[str] = field(default_factory=list)
    #: rec_id -> {child_rec_id, items, is_control, recommendation_source, last_updated, title}
    recommendations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: prediction_id -> {"score": float, "pct": int}
    propensities: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def export(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "amplitude_id": self.amplitude_id,
            "device_ids": list(self.device_ids),
            "user_properties": self.user_properties,
            "computed_properties": self.computed_properties,
            "cohort_ids": list(self.cohort_ids),
            "recommendations": self.recommendations,
            "propensities": self.propensities,
            "groups": self.groups,
            "info": self.info,
        }


class AmplitudeState:
    def __init__(self) -> None:
        self.users: dict[int, AmpUser] = {}
        self.by_user_id: dict[str, int] = {}
        self.by_device_id: dict[str, int] = {}
        self.mappings: dict[str, str] = {}
        #: global id -> users mapped into it, as an insertion-ordered set
        self.mapped_into: dict[str, dict[str, None]] = {}
        self.next_amplitude_id = FIRST_AMPLITUDE_ID
        #: (device or user id, insert_id) of the `$identify` events taken, in memory only: Amplitude drops
        #: a resent event (ordinary events are deduplicated by the event store)
        self._insert_ids: set[tuple[str, str]] = set()
        #: group type -> group name -> group properties
        self.group_properties: dict[str, dict[str, dict[str, Any]]] = {}

    # --- users ---------------------------------------------------------------------------------------

    def _new_user(self, user_id: str | None, amplitude_id: int | None = None) -> AmpUser:
        if amplitude_id is None or amplitude_id in self.users:
            amplitude_id = self.next_amplitude_id
        self.next_amplitude_id = max(self.next_amplitude_id, amplitude_id + 1)
        user = AmpUser(amplitude_id=amplitude_id, user_id=user_id)
        self.users[amplitude_id] = user
        if user_id is not None:
            self.by_user_id[user_id] = amplitude_id
        return user

    def get(self, user_id: str) -> AmpUser | None:
        amplitude_id = self.by_user_id.get(user_id)
        return None if amplitude_id is None else self.users[amplitude_id]

    def by_device(self, device_id: str) -> AmpUser | None:
        amplitude_id = self.by_device_id.get(device_id)
        return None if amplitude_id is None else self.users[amplitude_id]

    def ensure(self, user_id: str) -> AmpUser:
        return self.get(user_id) or self._new_user(user_id)

    def attach_device(self, user: AmpUser, device_id: str) -> None:
        if device_id not in user.device_ids:
            user.device_ids.append(device_id)
        self.by_device_id.setdefault(device_id, user.amplitude_id)

    # --- mappings ------------------------------------------------------------------------------------

    def map(self, user_id: str, global_user_id: str) -> None:
        self.ensure(user_id)
        self.ensure(global_user_id)
        self.unmap(user_id)
        self.mappings[user_id] = global_user_id
        self.mapped_into.setdefault(global_user_id, {})[user_id] = None

    def unmap(self, user_id: str) -> None:
        old = self.mappings.pop(user_id, None)
        if old is not None:
            sources = self.mapped_into[old]
            sources.pop(user_id, None)
            if not sources:
                del self.mapped_into[old]

    def mappings_for(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """The `GET /api/2/usermap` entry for one id."""
        mapped_to = []
        target = self.mappings.get(user_id)
        if target is not None:
            mapped_to.append({"amplitude_id": self.by_user_id[target], "user_id": target})
        mapped_from = [
            {"amplitude_id": self.by_user_id[source], "user_id": source}
            for source in self.mapped_into.get(user_id, ())
        ]
        return {"mapped_from": mapped_from, "mapped_to": mapped_to}

    # --- search --------------------------------------------------------------------------------------

    def search(self, query: str) -> tuple[str, list[dict[str, Any]]]:
        """(type, matches): user id, device id or exact `email` property first, then an amplitude id."""
        found: dict[int, AmpUser] = {}
        for user in (self.get(query), self.by_device(query)):
            if user is not None:
                found.setdefault(user.amplitude_id, user)
        for user in self.users.values():
            if user.user_properties.get("email") == query:
                found.setdefault(user.amplitude_id, user)
        if found:
            kind = "match_user_or_device_id"
        elif query.isascii() and query.isdigit() and int(query) in self.users:
            found[int(query)] = self.users[int(query)]
            kind = "match_amplitude_id"
        else:
            return "nomatch", []
        return kind, [{"user_id": u.user_id, "amplitude_id": u.amplitude_id} for u in found.values()]

    # --- identify ------------------------------------------------------------------------------------

    def identify(self, obj: dict[str, Any], plan: list[tuple[str, Any]]) -> AmpUser:
        """Apply one validated identification object (see ops.normalize for `plan`)."""
        user_id, device_id = obj.get("user_id"), obj.get("device_id")
        if user_id:
            user = self.ensure(user_id)
            if device_id:
                self.attach_device(user, device_id)
        else:
            device = str(device_id)  # validated: one of the two is a non-empty string
            user = self.by_device(device) or self._new_user(None)
            self.attach_device(user, device)
        ops.apply(user.user_properties, plan)
        for key in INFO_FIELDS:
            if key in obj:
                user.info[key] = obj[key]
        groups = obj.get("groups")
        if isinstance(groups, dict):
            self._set_groups(user, groups)
        return user

    @staticmethod
    def _set_groups(user: AmpUser, groups: dict[str, Any]) -> None:
        # beyond 5 group types / 10 groups Amplitude accepts the call and drops the extras
        budget = MAX_GROUPS
        for gtype, names in list(groups.items())[:MAX_GROUP_TYPES]:
            names = names if isinstance(names, list) else [names]
            kept = [str(n) for n in names][:budget]
            budget -= len(kept)
            if kept:
                user.groups[str(gtype)] = kept
            if budget <= 0:
                break

    # --- property-only events and groups -------------------------------------------------------------

    def first_sight(self, event: dict[str, Any]) -> bool:
        """False when an event with this insert_id was already taken for the same device (or user), as
        Amplitude drops a resent event; otherwise remember it and answer True."""
        insert_id = event.get("insert_id")
        if not insert_id:
            return True
        key = (str(event.get("device_id") or event.get("user_id")), str(insert_id))
        if key in self._insert_ids:
            return False
        if len(self._insert_ids) >= MAX_INSERT_IDS:
            self._insert_ids.clear()  # a bounded memory, like the events themselves
        self._insert_ids.add(key)
        return True

    def group(self, group_type: str, group_name: str) -> dict[str, Any]:
        return self.group_properties.setdefault(group_type, {}).setdefault(group_name, {})

    # --- load / export -------------------------------------------------------------------------------

    def load_user(self, data: dict[str, Any]) -> AmpUser:
        user_id = data.get("user_id")
        user = self.get(user_id) if user_id is not None else None
        if user is None:
            user = self._new_user(user_id, data.get("amplitude_id"))
        for device_id in data.get("device_ids", ()):
            self.attach_device(user, device_id)
        user.user_properties.update(data.get("user_properties", {}))
        user.computed_properties.update({str(k): v for k, v in data.get("computed_properties", {}).items()})
        user.cohort_ids.extend(c for c in data.get("cohort_ids", ()) if c not in user.cohort_ids)
        user.recommendations.update(data.get("recommendations", {}))
        user.propensities.update(data.get("propensities", {}))
        user.groups.update(data.get("groups", {}))
        user.info.update(data.get("info", {}))
        return user

    def load_extras(self, data: dict[str, Any]) -> None:
        """The group properties of an `export()` (after its users)."""
        for gtype, names in dict(data.get("group_properties", {})).items():
            for name, props in dict(names).items():
                self.group(str(gtype), str(name)).update(props)

    def export(self) -> dict[str, Any]:
        return {
            "users": [user.export() for user in self.users.values()],
            "mappings": dict(self.mappings),
            "next_amplitude_id": self.next_amplitude_id,
            "group_properties": self.group_properties,
        }

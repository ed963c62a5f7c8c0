"""Mixpanel's side of the sandbox: identity clusters (Original ID Merge) and their profiles. Pure Python.

- A cluster holds at most 500 distinct ids; anything that would grow one past that fails.
- Its canonical id (what `/engage` answers as `$distinct_id`) is the identified id when there is one,
  else the first id the cluster got.
- `$identify`: the anon id must not already be merged — it fails when the anon id's cluster has other ids
  or an identified id of its own (?). Re-sending the same pair succeeds and changes nothing.
- `$create_alias`: an alias points at exactly one distinct id; aliasing it elsewhere fails, as does an alias
  that is already merged with other ids (?).
- `$merge`: always allowed (two clusters become one, irreversibly) unless the union exceeds 500 ids; the
  cluster with an identified id (the first id's if both have one) absorbs the other. Profiles are
  combined with the absorbing cluster's values winning (?).
- `$identify`'s `$anon_id` must be a UUID v4 (as Mixpanel documents it), checked after the merge rules
  above. The SDKs' own spelling of a device id, `$device:<uuid v4>`, is accepted too (?).
- An ordinary event with an unknown distinct_id creates a one-id cluster; events are counted per cluster
  here and kept in the event store (events.py).
- A cluster has a profile (what engage answers) when it has properties; `$delete` clears them (?).
- Group profiles (`/groups`) are kept by (group key, group id).
Every mutating method returns None on success or the error text (what `verbose=1` reports), and changes
nothing when it fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_CLUSTER_IDS = 500
DEVICE_PREFIX = "$device:"
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


def anon_id_problem(anon_id: str) -> str | None:
    """Why `anon_id` cannot be a `$identify` `$anon_id` (not a UUID v4), or None."""
    bare = anon_id[len(DEVICE_PREFIX):] if anon_id.startswith(DEVICE_PREFIX) else anon_id
    if _UUID4.fullmatch(bare):
        return None
    return f"$anon_id {anon_id[:80]!r} is not a UUID v4 (e.g. 3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a77)"


@dataclass
class Cluster:
    ids: list[str]
    identified: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    events: int = 0

    @property
    def canonical(self) -> str:
        return self.identified if self.identified is not None else self.ids[0]

    def export(self) -> dict[str, Any]:
        return {
            "canonical": self.canonical,
            "ids": list(self.ids),
            "identified": self.identified,
            "properties": self.properties,
            "events": self.events,
        }


class MixpanelState:
    def __init__(self) -> None:
        self.clusters: dict[int, Cluster] = {}
        self.index: dict[str, int] = {}
        self.aliases: dict[str, str] = {}
        #: (group key, group id) -> the group profile's properties
        self.groups: dict[tuple[str, str], dict[str, Any]] = {}
        self._next = 1

    def cluster_of(self, distinct_id: str) -> Cluster | None:
        key = self.index.get(distinct_id)
        return None if key is None else self.clusters[key]

    def _key(self, distinct_id: str) -> int:
        if distinct_id not in self.index:
            self.clusters[self._next] = Cluster(ids=[distinct_id])
            self.index[distinct_id] = self._next
            self._next += 1
        return self.index[distinct_id]

    def _absorb(self, into_key: int, from_key: int) -> None:
        into, other = self.clusters[into_key], self.clusters.pop(from_key)
        into.ids.extend(other.ids)
        for distinct_id in other.ids:
            self.index[distinct_id] = into_key
        into.properties = {**other.properties, **into.properties}
        into.events += other.events
        if into.identified is None:
            into.identified = other.identified

    def _size(self, distinct_id: str) -> int:
        cluster = self.cluster_of(distinct_id)
        return 1 if cluster is None else len(cluster.ids)

    def _too_big(self, a: str, b: str) -> str | None:
        """Checked before any cluster is created, so a refused change leaves no trace."""
        total = self._size(a) + self._size(b)
        if total > MAX_CLUSTER_IDS:
            return f"identity cluster would hold {total} ids; the limit is {MAX_CLUSTER_IDS}"
        return None

    def identify(self, identified_id: str, anon_id: str) -> str | None:
        if identified_id == anon_id:
            return None
        anon = self.cluster_of(anon_id)
        target = self.cluster_of(identified_id)
        if anon is not None and anon is target:
            return None
        if anon is not None and anon.identified is not None:
            return f"$anon_id {anon_id!r} is already identified as {anon.identified!r}"
        if anon is not None and len(anon.ids) > 1:
            return f"$anon_id {anon_id!r} is already merged with {anon.canonical!r}"
        if error := anon_id_problem(anon_id) or self._too_big(identified_id, anon_id):
            return error
        into, other = self._key(identified_id), self._key(anon_id)
        if self.clusters[into].identified is None:
            self.clusters[into].identified = identified_id
        self._absorb(into, other)
        return None

    def alias(self, alias: str, distinct_id: str) -> str | None:
        if alias == distinct_id:
            return "alias and distinct_id must differ"
        if alias in self.aliases:
            if self.aliases[alias] == distinct_id:
                return None
            return f"alias {alias!r} already points to {self.aliases[alias]!r}"
        aliased = self.cluster_of(alias)
        target = self.cluster_of(distinct_id)
        if aliased is not None and aliased is not target and (len(aliased.ids) > 1 or aliased.identified):
            return f"alias {alias!r} is already merged with {aliased.canonical!r}"
        if aliased is None or aliased is not target:
            if error := self._too_big(distinct_id, alias):
                return error
            self._absorb(self._key(distinct_id), self._key(alias))
        self.aliases[alias] = distinct_id
        return None

    def merge(self, a: str, b: str) -> str | None:
        if a == b:
            return "$distinct_ids must be two different ids"
        if self.cluster_of(a) is not None and self.cluster_of(a) is self.cluster_of(b):
            return None
        if error := self._too_big(a, b):
            return error
        ka, kb = self._key(a), self._key(b)
        if self.clusters[ka].identified is None and self.clusters[kb].identified is not None:
            ka, kb = kb, ka
        self._absorb(ka, kb)
        return None

    def count_event(self, distinct_id: str | None) -> None:
        if distinct_id:
            self.clusters[self._key(distinct_id)].events += 1

    def profile_of(self, distinct_id: str, *, create: bool) -> dict[str, Any] | None:
        """The properties of `distinct_id`'s cluster (the profile every id of the cluster updates)."""
        if create:
            return self.clusters[self._key(distinct_id)].properties
        cluster = self.cluster_of(distinct_id)
        return None if cluster is None else cluster.properties

    def group(self, group_key: str, group_id: str) -> dict[str, Any]:
        return self.groups.setdefault((group_key, group_id), {})

    # --- load / export -------------------------------------------------------------------------------

    def load_cluster(self, data: dict[str, Any]) -> None:
        ids = [str(i) for i in data["ids"]]
        if not ids or len(ids) > MAX_CLUSTER_IDS or len(set(ids)) != len(ids):
            raise ValueError("a cluster needs 1..500 distinct ids")
        if any(i in self.index for i in ids):
            raise ValueError("a cluster id is already in another cluster")
        identified = data.get("identified")
        if identified is not None and identified not in ids:
            raise ValueError("a cluster's identified id must be one of its ids")
        key = self._next
        self._next += 1
        self.clusters[key] = Cluster(
            ids, identified, dict(data.get("properties", {})), int(data.get("events", 0))
        )
        for distinct_id in ids:
            self.index[distinct_id] = key

    def load_extras(self, data: dict[str, Any]) -> None:
        """The group profiles of an `export()` (after its clusters)."""
        for group in data.get("groups", ()):
            key = (str(group["group_key"]), str(group["group_id"]))
            self.groups[key] = dict(group.get("properties", {}))

    def export(self) -> dict[str, Any]:
        return {
            "clusters": [cluster.export() for cluster in self.clusters.values()],
            "aliases": dict(self.aliases),
            "groups": [
                {"group_key": key, "group_id": gid, "properties": props}
                for (key, gid), props in self.groups.items()
                if props
            ],
        }

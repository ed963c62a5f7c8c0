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
- An ordinary event with an unknown distinct_id creates a one-id cluster; events are only counted.
Every mutating method returns None on success or the error text (what `verbose=1` reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_CLUSTER_IDS = 500


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

    def _too_big(self, a: int, b: int) -> str | None:
        total = len(self.clusters[a].ids) + len(self.clusters[b].ids)
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
        into, other = self._key(identified_id), self._key(anon_id)
        if error := self._too_big(into, other):
            return error
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
        into = self._key(distinct_id)
        if aliased is None or aliased is not target:
            other = self._key(alias)
            if error := self._too_big(into, other):
                return error
            self._absorb(into, other)
        self.aliases[alias] = distinct_id
        return None

    def merge(self, a: str, b: str) -> str | None:
        if a == b:
            return "$distinct_ids must be two different ids"
        ka, kb = self._key(a), self._key(b)
        if ka == kb:
            return None
        if error := self._too_big(ka, kb):
            return error
        if self.clusters[ka].identified is None and self.clusters[kb].identified is not None:
            ka, kb = kb, ka
        self._absorb(ka, kb)
        return None

    def count_event(self, distinct_id: str | None) -> None:
        if distinct_id:
            self.clusters[self._key(distinct_id)].events += 1

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

    def export(self) -> dict[str, Any]:
        return {
            "clusters": [cluster.export() for cluster in self.clusters.values()],
            "aliases": dict(self.aliases),
        }

"""Typed results. Every parser here accepts both the vendors' real shape and the seed OpenAPI shape,
and tolerates missing or unexpected fields (a malformed body raises ServerRejected, never KeyError)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MappedUser:
    """One end of a mapping as the get-mappings API reports it."""

    user_id: str
    amplitude_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "amplitude_id": self.amplitude_id}


@dataclass(frozen=True)
class UserMappings:
    """What one user is mapped into (`mapped_to`) and what is mapped into it (`mapped_from`)."""

    user_id: str
    mapped_to: tuple[MappedUser, ...] = ()
    mapped_from: tuple[MappedUser, ...] = ()

    @property
    def global_user_id(self) -> str | None:
        return self.mapped_to[0].user_id if self.mapped_to else None

    def to_json(self) -> dict[str, Any]:
        return {
            "mapped_to": [m.to_json() for m in self.mapped_to],
            "mapped_from": [m.to_json() for m in self.mapped_from],
        }


@dataclass(frozen=True)
class Mapping:
    """One map (user_id -> global_user_id) or unmap (user_id, unmap=True) instruction."""

    user_id: str
    global_user_id: str | None = None
    unmap: bool = False

    def to_wire(self) -> dict[str, Any]:
        if self.unmap:
            return {"user_id": self.user_id, "unmap": True}
        return {"user_id": self.user_id, "global_user_id": self.global_user_id}


@dataclass(frozen=True)
class SearchMatch:
    user_id: str | None
    amplitude_id: int | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    type: str
    matches: tuple[SearchMatch, ...] = ()
    cached: bool = False


@dataclass(frozen=True)
class Recommendation:
    rec_id: str
    items: tuple[Any, ...] = ()
    is_control: bool = False
    source: str | None = None
    title: str | None = None
    child_rec_id: str | None = None
    last_updated: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rec_id": self.rec_id,
            "items": list(self.items),
            "is_control": self.is_control,
            "source": self.source,
            "title": self.title,
        }


@dataclass(frozen=True)
class UserProfile:
    """An Amplitude user profile. Computed properties are split out of `amp_props` (`computed-prop-*`)."""

    user_id: str | None
    device_id: str | None = None
    amplitude_id: int | None = None
    user_properties: dict[str, Any] = field(default_factory=dict)
    computed_properties: dict[str, Any] = field(default_factory=dict)
    cohort_ids: tuple[str, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    propensities: tuple[Any, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "amplitude_id": self.amplitude_id,
            "user_properties": self.user_properties,
            "computed_properties": self.computed_properties,
            "cohort_ids": list(self.cohort_ids),
            "recommendations": [r.to_json() for r in self.recommendations],
            "propensities": list(self.propensities),
        }


@dataclass(frozen=True)
class MixpanelProfile:
    """A Mixpanel profile; `distinct_id` is the cluster's canonical id, not necessarily the one asked for."""

    distinct_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    requested_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"distinct_id": self.distinct_id, "properties": self.properties}


@dataclass(frozen=True)
class MixpanelResult:
    """Outcome of an accepted Mixpanel call (status 1 / import OK)."""

    ok: bool
    num_records_imported: int | None = None
    raw: Any = None

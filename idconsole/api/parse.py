"""Tolerant parsing of decoded JSON into models.

Both the vendors' real shapes and the seed OpenAPI shapes are accepted; unexpected extra fields are
ignored; a body that cannot be one of them raises ShapeError, which the caller (inside
`Reply.parsing()`) turns into ServerRejected("unexpected response ...").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idconsole.api.models import (
    MappedUser,
    MixpanelProfile,
    Recommendation,
    SearchMatch,
    SearchResult,
    UserMappings,
    UserProfile,
)

COMPUTED_PREFIX = "computed-prop-"


class ShapeError(ValueError):
    """The JSON is valid but not a shape we know."""


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def as_str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


_TYPE_WORDS = {"dict": "an object", "list": "a list", "bool": "true/false"}


def id_value(value: Any, what: str) -> str | None:
    """An id as text: a string, or a number the server sent as one; None when absent (null). Anything else
    (the seed's own example has `"user_id": {}`) is a malformed answer, never shown as null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    kind = _TYPE_WORDS.get(type(value).__name__, type(value).__name__)
    raise ShapeError(f"{what} is {kind}, not a string or number")


def amplitude_id_value(value: Any, what: str = "amplitude_id") -> int | None:
    """An Amplitude id: a whole number (or its digits as text); None when absent; else malformed."""
    if value is None:
        return None
    number = as_int(value)
    if number is None:
        kind = _TYPE_WORDS.get(type(value).__name__, type(value).__name__)
        raise ShapeError(f"{what} is {kind if not isinstance(value, (str, int, float)) else repr(value)[:40]}, "
                         "not a whole number")
    return number


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"expected an object for {what}, got {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # seed examples show `{}` where a list belongs
        return list(value.values()) if value else []
    return [value]


# -- Amplitude get mappings ----------------------------------------------------------------------

def _mapped_users(entries: Any) -> tuple[MappedUser, ...]:
    out = []
    for entry in _list(entries):
        if isinstance(entry, dict):
            uid = as_str(entry.get("user_id"))
            aid = as_int(entry.get("amplitude_id"))
            if uid is None and aid is None:
                continue
            out.append(MappedUser(user_id=uid or "", amplitude_id=aid))
        elif as_str(entry) is not None:
            out.append(MappedUser(user_id=str(entry)))
    return tuple(out)


def parse_mappings(data: Any, requested: Iterable[str]) -> dict[str, UserMappings]:
    """`{"u": {"mapped_to": [...], "mapped_from": [...]}}` or `{"u": {"mappings": {...}}}`; ids the
    server did not mention come back empty."""
    body = _dict(data, "the mappings response")
    out: dict[str, UserMappings] = {}
    for user_id in requested:
        entry = body.get(user_id)
        if isinstance(entry, dict) and isinstance(entry.get("mappings"), dict):
            entry = entry["mappings"]
        if entry is None:
            out[user_id] = UserMappings(user_id)
            continue
        entry = _dict(entry, f"user {user_id[:40]!r}")
        out[user_id] = UserMappings(
            user_id, mapped_to=_mapped_users(entry.get("mapped_to")),
            mapped_from=_mapped_users(entry.get("mapped_from")),
        )
    return out


# -- Amplitude user search -----------------------------------------------------------------------

def parse_search(data: Any, query: str) -> SearchResult:
    body = _dict(data, "the search response")
    if "matches" not in body and "type" not in body:
        raise ShapeError("no `matches` or `type`")
    matches = []
    for entry in _list(body.get("matches")):
        if not isinstance(entry, dict):
            continue
        matches.append(SearchMatch(user_id=as_str(entry.get("user_id")), amplitude_id=as_int(entry.get("amplitude_id"))))
    kind = as_str(body.get("type")) or ("match_user_or_device_id" if matches else "nomatch")
    return SearchResult(query=query, type=kind, matches=tuple(matches))


# -- Amplitude user profile ----------------------------------------------------------------------

_PROFILE_KEYS = {"user_id", "device_id", "amp_props", "user_properties", "computed_properties",
                 "cohort_ids", "recommendations", "amplitude_id"}


def profile_error(data: Any) -> str | None:
    """`{"error": "..."}` (the API's way to say unknown user, bad key, throttled) -> the text."""
    if isinstance(data, dict) and "userData" not in data and isinstance(data.get("error"), str):
        return str(data["error"])
    return None


def _recommendation(entry: Any) -> Recommendation | None:
    if not isinstance(entry, dict):
        return None
    items = entry.get("items", entry.get("child_ids"))
    return Recommendation(
        rec_id=as_str(entry.get("rec_id")) or "",
        items=tuple(_list(items)),
        is_control=bool(entry.get("is_control", False)),
        source=as_str(entry.get("recommendation_source", entry.get("recommendation_type"))),
        title=as_str(entry.get("title")),
        child_rec_id=as_str(entry.get("child_rec_id")),
        last_updated=entry.get("last_updated"),
    )


def parse_profile(data: Any) -> UserProfile:
    """Real shape `{"userData": {"amp_props": {..., "computed-prop-N": ...}, ...}}` and the seed shape
    (`user_properties`, `computed_properties`, `child_ids`, `recommendation_type`, `title`)."""
    body = _dict(data, "the profile response")
    if isinstance(body.get("userData"), dict):
        user = body["userData"]
    elif _PROFILE_KEYS & body.keys():
        user = body   # seed-style bodies without the wrapper
    else:
        raise ShapeError("no `userData`")
    props: dict[str, Any] = {}
    computed: dict[str, Any] = {}
    for source in (user.get("amp_props"), user.get("user_properties")):
        if isinstance(source, dict):
            for key, value in source.items():
                (computed if str(key).startswith(COMPUTED_PREFIX) else props)[str(key)] = value
    if isinstance(user.get("computed_properties"), dict):
        computed.update({str(k): v for k, v in user["computed_properties"].items()})
    cohorts = user.get("cohort_ids")
    cohort_list = list(cohorts.keys()) if isinstance(cohorts, dict) else _list(cohorts)
    recs = [r for r in map(_recommendation, _list(user.get("recommendations"))) if r is not None]
    return UserProfile(
        user_id=id_value(user.get("user_id"), "user_id"),
        device_id=id_value(user.get("device_id"), "device_id"),
        amplitude_id=amplitude_id_value(user.get("amplitude_id", body.get("amplitude_id"))),
        user_properties=props,
        computed_properties=computed,
        cohort_ids=tuple(str(c) for c in cohort_list if as_str(c) is not None),
        recommendations=tuple(recs),
        propensities=tuple(_list(user.get("propensities"))),
        raw=body,
    )


# -- Mixpanel ------------------------------------------------------------------------------------

def parse_engage(data: Any, requested_id: str) -> MixpanelProfile | None:
    """`{"results": [{"$distinct_id": ..., "$properties": {...}}]}`; None when there is no result."""
    body = _dict(data, "the engage response")
    if "results" not in body:
        raise ShapeError("no `results`")
    results = [r for r in _list(body.get("results")) if isinstance(r, dict)]
    if not results:
        return None
    first = results[0]
    canonical = as_str(first.get("$distinct_id"))
    if canonical is None:
        raise ShapeError("result without `$distinct_id`")
    props = first.get("$properties")
    return MixpanelProfile(distinct_id=canonical, properties=props if isinstance(props, dict) else {},
                           requested_id=requested_id)


def failed_records(data: Any) -> list[str]:
    """`failed_records[{index, field, message}]` as readable lines."""
    if not isinstance(data, dict):
        return []
    lines = []
    for rec in _list(data.get("failed_records")):
        if isinstance(rec, dict):
            where = f"record {rec.get('index', '?')}"
            if rec.get("field"):
                where += f" field {rec.get('field')}"
            lines.append(f"{where}: {rec.get('message', 'rejected')}")
    return lines

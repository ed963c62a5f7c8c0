"""Amplitude Identify rules, checked before anything is sent (API.md "Identify"): a request the server
would reject or silently drop is a BadInput with the precise reason instead."""

from __future__ import annotations

import json
from typing import Any

from idconsole.api.errors import BadInput

IDENTIFY_OPERATIONS = (
    "$set", "$setOnce", "$add", "$append", "$prepend", "$unset",
    "$preInsert", "$postInsert", "$remove", "$clearAll",
)
#: applying one of these twice is not the same as once: such identifies are never re-sent blindly
NON_IDEMPOTENT_OPERATIONS = frozenset({"$add", "$append", "$prepend", "$preInsert", "$postInsert", "$remove"})
IDENTIFY_FIELDS = frozenset({
    "user_id", "device_id", "user_properties", "groups",
    "app_version", "platform", "os_name", "os_version", "device_brand", "device_manufacturer",
    "device_model", "carrier", "country", "region", "city", "dma", "language", "paying", "start_version",
})
IDENTIFY_MAX_DEPTH = 40
IDENTIFY_MAX_GROUP_TYPES = 5
IDENTIFY_MAX_GROUPS = 10


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def normalise_identification(identification: dict[str, Any]) -> dict[str, Any]:
    """A copy with `$unset` / `$clearAll` values set to "-" (the only value the API accepts)."""
    out = dict(identification)
    props = out.get("user_properties")
    if isinstance(props, dict):
        props = dict(props)
        if isinstance(props.get("$unset"), dict):
            props["$unset"] = {k: "-" for k in props["$unset"]}
        elif isinstance(props.get("$unset"), (list, tuple)):
            props["$unset"] = {str(k): "-" for k in props["$unset"]}
        if "$clearAll" in props:
            props["$clearAll"] = "-"
        out["user_properties"] = props
    return out


def identify_body(identifications: list[dict[str, Any]], api_key: str) -> dict[str, str]:
    """The form fields of one POST /identify (what is sent, and what a plan sizes)."""
    try:
        payload = json.dumps(identifications, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        raise BadInput("The identification contains values that are not JSON.") from None
    return {"api_key": api_key, "identification": payload}


def is_idempotent_identification(identification: dict[str, Any]) -> bool:
    props = identification.get("user_properties")
    return not (isinstance(props, dict) and NON_IDEMPOTENT_OPERATIONS & props.keys())


def validate_identification(identification: dict[str, Any]) -> None:
    """Raise BadInput (with a precise reason) if an identify object would be rejected or silently dropped."""
    if not isinstance(identification, dict):
        raise BadInput("An identification must be an object.")
    unknown = sorted(str(k) for k in identification if k not in IDENTIFY_FIELDS)
    if unknown:
        raise BadInput(
            f"Unknown identify field(s): {', '.join(k[:40] for k in unknown[:5])}. "
            "Identify accepts user_id, device_id, user_properties, groups and the documented device fields."
        )
    ids = [identification.get("user_id"), identification.get("device_id")]
    for value, name in zip(ids, ("user_id", "device_id"), strict=True):
        if value is not None and not isinstance(value, str):
            raise BadInput(f"{name} must be a string.")
    if not any(ids):
        raise BadInput("An identification needs a user_id or a device_id.")
    who = str(identification.get("user_id") or identification.get("device_id"))[:80]
    props = identification.get("user_properties")
    if props is not None:
        _validate_properties(props, who)
    groups = identification.get("groups")
    if groups is not None:
        _validate_groups(groups, who)


def _validate_properties(props: Any, who: str) -> None:
    if not isinstance(props, dict):
        raise BadInput(f"user_properties of {who!r} must be an object.")
    ops = [k for k in props if str(k).startswith("$")]
    if ops and len(ops) != len(props):
        raise BadInput(
            f"user_properties of {who!r} mix plain keys with operations ({', '.join(ops[:3])}); "
            "put plain keys inside $set."
        )
    if not ops:
        depth = _depth(props)
    else:
        depth = 0
        for op in ops:
            if op not in IDENTIFY_OPERATIONS:
                raise BadInput(f"Unknown user property operation {op[:40]!r} for {who!r}.")
            value = props[op]
            if op == "$clearAll":
                if value != "-":
                    raise BadInput(f'$clearAll for {who!r} takes the value "-".')
                continue
            if not isinstance(value, dict) or not value:
                raise BadInput(f"{op} for {who!r} needs an object of properties.")
            if op == "$unset" and any(v != "-" for v in value.values()):
                raise BadInput(f'$unset values for {who!r} must be "-".')
            depth = max(depth, _depth(value))
    if depth > IDENTIFY_MAX_DEPTH:
        raise BadInput(f"user_properties of {who!r} nest {depth} levels deep; the limit is {IDENTIFY_MAX_DEPTH}.")


def _validate_groups(groups: Any, who: str) -> None:
    if not isinstance(groups, dict):
        raise BadInput(f"groups of {who!r} must be an object of group type -> name(s).")
    if len(groups) > IDENTIFY_MAX_GROUP_TYPES:
        raise BadInput(f"{who!r} has {len(groups)} group types; the limit is {IDENTIFY_MAX_GROUP_TYPES}.")
    total = 0
    for kind, names in groups.items():
        values = names if isinstance(names, list) else [names]
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
            raise BadInput(f"Group {str(kind)[:40]!r} of {who!r} must be a name or a list of names.")
        total += len(values)
    if total > IDENTIFY_MAX_GROUPS:
        raise BadInput(f"{who!r} is in {total} groups; the limit is {IDENTIFY_MAX_GROUPS}.")

"""Mixpanel profile updates (`/engage` user profiles, `/groups` group profiles): validate one update record
and apply its operation to a property dict. Pure Python.

Semantics follow Mixpanel's profile docs; (?) marks what they leave open:
- A record carries `$token`, the profile's id (`$distinct_id`, or `$group_key` + `$group_id`) and exactly
  one operation (?); modifiers (`$ip`, `$time`, `$ignore_time`, `$ignore_alias`, `$latitude`, `$longitude`)
  are accepted and ignored. Any other `$` key refuses the record.
- `$set` overwrites, `$set_once` sets only missing keys (both take an object).
- `$add` adds numbers; a missing property starts at 0; a value that is not a number refuses the record; a
  current value that is not a number is left alone (?).
- `$append` adds its value as one item to a list, created when missing (a scalar becomes a one-item list
  first (?)); `$union` takes lists and adds the items not already there; `$remove` drops every occurrence
  of its value from a list (?).
- `$unset` takes a list of names; `$delete` (any value) removes the whole profile.
- Group profiles take `$set`, `$set_once`, `$union`, `$remove`, `$unset` and `$delete`.
"""

from __future__ import annotations

from typing import Any

USER_OPS = ("$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete")
GROUP_OPS = ("$set", "$set_once", "$union", "$remove", "$unset", "$delete")
MODIFIERS = frozenset({"$ip", "$time", "$ignore_time", "$ignore_alias", "$latitude", "$longitude"})
USER_KEYS = frozenset({"$token", "$distinct_id", "$device_id", "$user_id"}) | MODIFIERS
GROUP_KEYS = frozenset({"$token", "$group_key", "$group_id"}) | MODIFIERS


class UpdateError(ValueError):
    """The record cannot be applied; the message is what `verbose=1` reports."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_update(record: Any, token: str, *, group: bool) -> tuple[tuple[str, ...], str, Any]:
    """(profile key, operation, value) of a valid record, else UpdateError. The key is `(distinct_id,)`
    or `(group_key, group_id)`."""
    if not isinstance(record, dict):
        raise UpdateError("a profile update must be an object")
    if record.get("$token") != token:
        raise UpdateError("$token is missing or does not match this project")
    id_fields = ("$group_key", "$group_id") if group else ("$distinct_id",)
    for name in id_fields:
        if not isinstance(record.get(name), str) or not record[name]:
            raise UpdateError(f"{name} must be a non-empty string")
    allowed, known = (GROUP_OPS, GROUP_KEYS) if group else (USER_OPS, USER_KEYS)
    ops = [k for k in record if k not in known]
    for key in ops:
        if key not in allowed:
            raise UpdateError(f"unknown profile operation {key[:40]!r}; expected one of {', '.join(allowed)}")
    if len(ops) != 1:
        raise UpdateError("a profile update needs exactly one operation" + (f", not {len(ops)}" if ops else ""))
    op, value = ops[0], record[ops[0]]
    _check_value(op, value)
    return tuple(record[name] for name in id_fields), op, value


def _check_value(op: str, value: Any) -> None:
    if op == "$delete":
        return
    if op == "$unset":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise UpdateError("$unset takes a list of property names")
        return
    if not isinstance(value, dict):
        raise UpdateError(f"{op} takes an object of properties")
    if op == "$add":
        bad = [key for key, v in value.items() if not _is_number(v)]
        if bad:
            raise UpdateError(f"$add of {bad[0][:40]!r} needs a number")
    if op == "$union":
        bad = [key for key, v in value.items() if not isinstance(v, list)]
        if bad:
            raise UpdateError(f"$union of {bad[0][:40]!r} needs a list")


def apply_update(props: dict[str, Any], op: str, value: Any) -> None:
    """Apply one checked operation to `props` in place."""
    if op == "$delete":
        props.clear()
    elif op == "$unset":
        for name in value:
            props.pop(name, None)
    elif op == "$set":
        props.update(value)
    elif op == "$set_once":
        for key, v in value.items():
            props.setdefault(key, v)
    elif op == "$add":
        for key, v in value.items():
            current = props.get(key, 0)
            if _is_number(current):
                props[key] = current + v
    elif op == "$append":
        for key, v in value.items():
            props[key] = _as_list(props.get(key)) + [v]
    elif op == "$union":
        for key, items in value.items():
            current = _as_list(props.get(key))
            props[key] = current + [item for i, item in enumerate(items)
                                    if item not in current and item not in items[:i]]  # fmt: skip
    elif op == "$remove":
        for key, v in value.items():
            if isinstance(props.get(key), list):
                props[key] = [item for item in props[key] if item != v]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]

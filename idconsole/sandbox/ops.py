"""Amplitude Identify user-property operations, applied to a user's property dict.

Semantics follow Amplitude's Identify API docs:
- plain `{key: value}` is a `$set`; operations and plain keys never mix in one object (400);
- `$set` overwrites, `$setOnce` only sets a missing key;
- `$add` adds a number (a missing property starts at 0; numeric strings count as numbers; a non-numeric
  current value is left alone (?));
- `$append`/`$prepend` add the value (each item when the value is a list) to a list, creating it; a scalar
  current value becomes a one-item list first;
- `$preInsert`/`$postInsert` do the same but skip items already present;
- `$remove` drops every occurrence of the value(s) from a list (a scalar equal to the value is unset (?));
- `$unset` removes keys and `$clearAll` removes every property; both take the value `"-"`.
- One property may appear in only one operation per object (400 (?) — Amplitude documents the rule, not
  the answer). Operations run in the fixed order of OPERATIONS below, `$clearAll` first.
"""

from __future__ import annotations

import math
from typing import Any

OPERATIONS = (
    "$clearAll",
    "$set",
    "$setOnce",
    "$add",
    "$append",
    "$prepend",
    "$preInsert",
    "$postInsert",
    "$remove",
    "$unset",
)
MAX_DEPTH = 40


class OpError(ValueError):
    """The user_properties object is invalid; the message is the 400 reason."""


def depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1)."""
    best = 0
    stack = [(value, 0)]
    while stack:  # iterative: a hostile 10,000-deep body must not blow the Python stack
        item, d = stack.pop()
        if isinstance(item, dict):
            best = max(best, d + 1)
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            best = max(best, d + 1)
            stack.extend((v, d + 1) for v in item)
    return best


def normalize(user_properties: Any) -> list[tuple[str, Any]]:
    """Validate and turn user_properties into [(operation, {key: value})] in application order."""
    if user_properties is None:
        return []
    if not isinstance(user_properties, dict):
        raise OpError("user_properties must be an object")
    op_keys = [k for k in user_properties if k.startswith("$")]
    if not op_keys:
        return [("$set", dict(user_properties))] if user_properties else []
    if len(op_keys) != len(user_properties):
        raise OpError("user_properties mixes operations with plain properties")
    unknown = [k for k in op_keys if k not in OPERATIONS]
    if unknown:
        raise OpError(f"unknown user_properties operation {unknown[0]!r}")
    seen: set[str] = set()
    plan: list[tuple[str, Any]] = []
    for op in OPERATIONS:
        if op not in user_properties:
            continue
        body = user_properties[op]
        if op == "$clearAll":
            if body != "-":
                raise OpError('$clearAll takes the value "-"')
            plan.append((op, None))
            continue
        if not isinstance(body, dict):
            raise OpError(f"{op} must be an object of properties")
        for key, value in body.items():
            if key in seen:
                raise OpError(f"property {key!r} appears in more than one operation")
            seen.add(key)
            if op == "$unset" and value != "-":
                raise OpError(f'$unset of {key!r} takes the value "-"')
            if op == "$add" and _number(value) is None:
                raise OpError(f"$add of {key!r} needs a number")
        plan.append((op, body))
    return plan


def apply(props: dict[str, Any], plan: list[tuple[str, Any]]) -> None:
    """Apply a normalized plan to `props` in place."""
    for op, body in plan:
        if op == "$clearAll":
            props.clear()
            continue
        for key, value in body.items():
            _apply_one(props, op, key, value)


def _apply_one(props: dict[str, Any], op: str, key: str, value: Any) -> None:
    if op == "$set":
        props[key] = value
    elif op == "$setOnce":
        props.setdefault(key, value)
    elif op == "$unset":
        props.pop(key, None)
    elif op == "$add":
        current = props.get(key, 0)
        base = _number(current)
        if base is not None:
            props[key] = base + _number(value)  # type: ignore[operator]
    elif op in ("$append", "$prepend", "$preInsert", "$postInsert"):
        items = value if isinstance(value, list) else [value]
        current = _as_list(props.get(key))
        if op in ("$preInsert", "$postInsert"):
            fresh = []
            for item in items:
                if item not in current and item not in fresh:
                    fresh.append(item)
            items = fresh
        props[key] = items + current if op in ("$prepend", "$preInsert") else current + items
    elif op == "$remove":
        drop = value if isinstance(value, list) else [value]
        current = props.get(key)
        if isinstance(current, list):
            props[key] = [item for item in current if item not in drop]
        elif key in props and current in drop:
            props.pop(key)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None

"""What an Amplitude Identify operation will make of a user's properties, predicted on our side.

The plan shows it ("plan: "free" → "pro""), so it follows API.md's Identify rules as Amplitude documents
them: `$set` overwrites, `$setOnce` only sets a missing key, `$add` adds to a number (a missing key is 0;
a value that is not a number is left as it is), `$append`/`$prepend` add items to a list (a scalar is a
one-item list), `$preInsert`/`$postInsert` add only the items not already there, `$remove` takes items
out, `$unset` drops keys, `$clearAll` drops everything. A prediction, never a record: apply reads the
pre-state again right before it sends, and verification reads what the server really did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idconsole.changes.validate import as_number

#: a key the profile does not have (distinct from a property whose value is null)
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


def predict(props: Mapping[str, Any], operation: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """`props` after `operation` with `values` (a new dict; `props` is not changed)."""
    after = dict(props)
    if operation == "$clearAll":
        return {}
    for key, value in values.items():
        _apply(after, operation, key, value)
    return after


def _apply(props: dict[str, Any], op: str, key: str, value: Any) -> None:
    if op == "$set":
        props[key] = value
    elif op == "$setOnce":
        props.setdefault(key, value)
    elif op == "$unset":
        props.pop(key, None)
    elif op == "$add":
        base = as_number(props.get(key, 0))
        step = as_number(value)
        if base is not None and step is not None:
            props[key] = base + step
    elif op in ("$append", "$prepend", "$preInsert", "$postInsert"):
        items = list(value) if isinstance(value, list) else [value]
        current = _as_list(props.get(key, MISSING))
        if op in ("$preInsert", "$postInsert"):
            items = [item for n, item in enumerate(items) if item not in current and item not in items[:n]]
        props[key] = items + current if op in ("$prepend", "$preInsert") else current + items
    elif op == "$remove":
        drop = list(value) if isinstance(value, list) else [value]
        current = props.get(key, MISSING)
        if isinstance(current, list):
            props[key] = [item for item in current if item not in drop]
        elif current is not MISSING and current in drop:
            del props[key]


def _as_list(value: Any) -> list[Any]:
    if value is MISSING or value is None:
        return []
    return list(value) if isinstance(value, list) else [value]

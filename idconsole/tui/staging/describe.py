"""A change as the console's tables show it: vendor, operation, subject, detail (all untrusted text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idconsole.tui.staging.operations import VALUELESS_OPS

if TYPE_CHECKING:
    from idconsole.changes import Change


@dataclass(frozen=True)
class ChangeRow:
    """A change as the tables show it; every field is untrusted text, shown with `cell()`/`literal()`."""

    vendor: str
    op: str
    subject: str
    detail: str
    irreversible: bool = False


def value_text(value: Any) -> str:
    """A property value as typed: text as it is, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def describe_change(change: Change) -> ChangeRow:
    op = change.op
    vendor = change.vendor or "?"
    target = change.target_id or ""
    if op == "map":
        return ChangeRow(vendor, "map", change.user_id, f"→ {target}")
    if op == "unmap":
        return ChangeRow(vendor, "unmap", change.user_id, "remove its mapping")
    if op == "identify":
        operation = change.operation or "?"
        props = dict(change.properties)
        if operation == "$clearAll":
            detail = "$clearAll (every user property)"
        elif operation in VALUELESS_OPS:
            detail = f"{operation} {', '.join(props)}"
        else:
            detail = f"{operation} " + ", ".join(f"{k} = {value_text(v)}" for k, v in props.items())
        return ChangeRow(vendor, "identify", change.user_id, detail)
    if op == "mp_identify":
        return ChangeRow(vendor, "identify", change.user_id, f"→ identified {target}")
    if op == "mp_alias":
        return ChangeRow(vendor, "alias", change.user_id, f"→ {target}")
    if op == "mp_merge":
        return ChangeRow(vendor, "MERGE", change.user_id, f"+ {target} (irreversible)", True)
    return ChangeRow(vendor, op, change.user_id, target, change.irreversible)


def merge_ids(change: Change) -> tuple[str, ...]:
    """The ids a person must type to confirm an irreversible change (a Mixpanel merge)."""
    return tuple(change.ids) if change.irreversible else ()

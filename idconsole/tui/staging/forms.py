"""The stage dialog's fields <-> an engine `Change`: the only place the console builds a change.

`change_from_form()` goes through the engine's named constructors, so a change the dialog stages is
validated by the same rules (and refused in the same words) as `idconsole stage` and the CSV import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from idconsole.tui.staging.operations import VALUELESS_OPS

if TYPE_CHECKING:
    from idconsole.changes import Change

#: (kind, the dialog's field values, the other properties of an identify being edited)
Form = tuple[str, dict[str, str], dict[str, Any]]


def change_from_form(kind: str, values: Mapping[str, str], *, change_id: str | None = None,
                     extra_properties: Mapping[str, Any] | None = None) -> Change:
    """Build an engine Change from the dialog's fields. Raises BadInput (the engine's words) when invalid.

    For an identify, `values["json"] == "1"` parses the value as JSON (numbers, lists...); otherwise it is
    text (`$add` turns numeric text into a number). `extra_properties` keeps the other properties of an
    identify being edited (the dialog edits one at a time).
    """
    # imported here: the engine is not needed before the first change is staged (start-up)
    from idconsole.changes import Change, parse_assignments

    v = dict(values)
    if kind == "map":
        return Change.map(v.get("user_id", ""), v.get("global_user_id", ""), id=change_id)
    if kind == "unmap":
        return Change.unmap(v.get("user_id", ""), id=change_id)
    if kind == "identify":
        operation = v.get("op") or "$set"
        key = v.get("key", "")
        if operation in VALUELESS_OPS:
            props: dict[str, Any] = {key: "-"}
        else:
            sep = ":=" if v.get("json") == "1" else "="
            props = parse_assignments([f"{key}{sep}{v.get('value', '')}"], operation)
        merged = dict(extra_properties or {})
        merged.update(props)
        return Change.identify(v.get("user_id", ""), operation, merged, id=change_id)
    if kind == "mp_identify":
        return Change.mp_identify(v.get("anon_id", ""), v.get("identified_id", ""), id=change_id)
    if kind == "mp_alias":
        return Change.mp_alias(v.get("alias", ""), v.get("distinct_id", ""), id=change_id)
    if kind == "mp_merge":
        return Change.mp_merge(v.get("id_a", ""), v.get("id_b", ""), id=change_id)
    raise ValueError(f"unknown change kind {kind!r}")


def form_from_change(change: Change) -> Form:
    """The dialog's (kind, fields, other properties) for an existing change (editing)."""
    op = change.op
    target = change.target_id or ""
    if op == "map":
        return op, {"user_id": change.user_id, "global_user_id": target}, {}
    if op == "unmap":
        return op, {"user_id": change.user_id}, {}
    if op == "identify":
        props = dict(change.properties)
        values = {"user_id": change.user_id, "op": change.operation or "$set", "key": "", "value": ""}
        if props:
            key = next(iter(props))
            raw = props.pop(key)
            values["key"] = key
            if isinstance(raw, str):
                values["value"] = "" if change.operation in VALUELESS_OPS else raw
            else:
                values["value"] = json.dumps(raw, ensure_ascii=False)
                values["json"] = "1"
        return op, values, props
    if op == "mp_identify":
        return op, {"anon_id": change.user_id, "identified_id": target}, {}
    if op == "mp_alias":
        return op, {"alias": change.user_id, "distinct_id": target}, {}
    if op == "mp_merge":
        return op, {"id_a": change.user_id, "id_b": target}, {}
    return op, {"user_id": change.user_id}, {}

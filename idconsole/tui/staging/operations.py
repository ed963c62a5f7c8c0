"""What the console offers to stage: each operation's fields, label and help, for the stage dialog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    placeholder: str = ""


@dataclass(frozen=True)
class OpSpec:
    kind: str
    label: str
    vendor: str
    fields: tuple[FieldSpec, ...]
    irreversible: bool = False
    help: str = ""


USER = FieldSpec("user_id", "User id", "the user id to change")
OPS: tuple[OpSpec, ...] = (
    OpSpec(
        "map",
        "Amplitude: map a user into a global user",
        "amplitude",
        (USER, FieldSpec("global_user_id", "Global user id", "the user it is mapped into")),
        help="After the map, the global user's stream holds this user's events. Properties are not merged.",
    ),
    OpSpec("unmap", "Amplitude: unmap a user", "amplitude", (USER,), help="Removes the user's current mapping."),
    OpSpec(
        "identify",
        "Amplitude: set / unset a user property (identify)",
        "amplitude",
        (USER, FieldSpec("key", "Property", "property name"), FieldSpec("value", "Value", "value")),
        help="Sent with the Identify API; applies from the user's next event, not retroactively.",
    ),
    OpSpec(
        "mp_identify",
        "Mixpanel: identify (anonymous → identified)",
        "mixpanel",
        (FieldSpec("anon_id", "Anonymous id", "$anon_id"), FieldSpec("identified_id", "Identified id", "$identified_id")),
        help="$identify: the anonymous id must not already be merged.",
    ),
    OpSpec(
        "mp_alias",
        "Mixpanel: create alias (legacy)",
        "mixpanel",
        (FieldSpec("alias", "Alias", "alias"), FieldSpec("distinct_id", "Distinct id", "distinct_id")),
        help="$create_alias: an alias maps to exactly one distinct_id.",
    ),
    OpSpec(
        "mp_merge",
        "Mixpanel: merge two ids (IRREVERSIBLE)",
        "mixpanel",
        (FieldSpec("id_a", "First id", "distinct id"), FieldSpec("id_b", "Second id", "distinct id")),
        irreversible=True,
        help="$merge cannot be undone: the two ids become one cluster for good.",
    ),
)
OPS_BY_KIND = {op.kind: op for op in OPS}

#: Identify operations the dialog offers ($clearAll is left to the CLI: it wipes a whole user)
PROPERTY_OPS: tuple[str, ...] = ("$set", "$setOnce", "$add", "$append", "$prepend", "$unset", "$preInsert",
                                 "$postInsert", "$remove")
#: operations that take no value (the wire sends "-")
VALUELESS_OPS = frozenset({"$unset", "$clearAll"})

"""What a staged change can be: its kinds, their vendors, and the Identify user-property operations.

Plain names with no idconsole imports beyond the error type, so both the Change model (`model`) and the
checks on it (`validate`) can use them without importing each other in a circle (`model` re-exports
every name here: `model.MAP` and `kinds.MAP` are the same).
"""

from __future__ import annotations

from idconsole.api.errors import BadInput

AMPLITUDE = "amplitude"
MIXPANEL = "mixpanel"

MAP, UNMAP, IDENTIFY = "map", "unmap", "identify"
MP_IDENTIFY, MP_ALIAS, MP_MERGE = "mp_identify", "mp_alias", "mp_merge"
KINDS = (MAP, UNMAP, IDENTIFY, MP_IDENTIFY, MP_ALIAS, MP_MERGE)
VENDOR_OF = {
    MAP: AMPLITUDE, UNMAP: AMPLITUDE, IDENTIFY: AMPLITUDE,
    MP_IDENTIFY: MIXPANEL, MP_ALIAS: MIXPANEL, MP_MERGE: MIXPANEL,
}  # fmt: skip

#: every Amplitude Identify user-property operation (the order Amplitude applies them in)
OPERATIONS = (
    "$set", "$setOnce", "$add", "$append", "$prepend", "$unset",
    "$preInsert", "$postInsert", "$remove", "$clearAll",
)  # fmt: skip
#: operations whose repetition changes the result (a re-send would double-apply)
NON_IDEMPOTENT_OPERATIONS = frozenset({"$add", "$append", "$prepend", "$preInsert", "$postInsert", "$remove"})
#: operations whose values are ignored (Amplitude wants "-")
VALUELESS_OPERATIONS = frozenset({"$unset", "$clearAll"})


def normalize_operation(operation: str) -> str:
    """`set` / `$set` / `SET` / `setOnce` / `set-once` → the canonical `$set` / `$setOnce` spelling."""
    if not isinstance(operation, str):
        raise BadInput("The identify operation must be text, e.g. $set.")
    raw = operation.strip()
    key = raw.lstrip("$").replace("-", "").replace("_", "").lower()
    for op in OPERATIONS:
        if op[1:].lower() == key:
            return op
    raise BadInput(f"Unknown user property operation {raw!r}.", hint=f"Use one of {', '.join(OPERATIONS)}.")

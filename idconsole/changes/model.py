"""One staged change: what a person asked for, before anything is sent.

A `Change` is immutable, JSON-serialisable (`to_json` / `from_json`), has a stable `id` (kept across
saves, restarts and the journal), knows its vendor, whether it is irreversible (Mixpanel merge) and
whether it is idempotent, and has a one-line human `description()`. Ids are kept as the raw strings
the user gave: nothing here trims, escapes or rewrites them (the UI makes them literal and visible).

Kinds (`Change.op`) and their fields (`to_json()` keys besides `id` and `op`):

| op            | vendor    | JSON fields                                   | wire                               |
|---------------|-----------|-----------------------------------------------|------------------------------------|
| `map`         | amplitude | `user_id`, `global_user_id`                   | POST /usermap mapping              |
| `unmap`       | amplitude | `user_id`                                     | POST /usermap `{"unmap": true}`    |
| `identify`    | amplitude | `user_id`, `operation` (`$set`...), `properties` | POST /identify user_properties  |
| `mp_identify` | mixpanel  | `anon_id`, `identified_id`                    | POST /track `$identify`            |
| `mp_alias`    | mixpanel  | `alias`, `distinct_id`                        | POST /track `$create_alias`        |
| `mp_merge`    | mixpanel  | `distinct_ids` (exactly two)                  | POST /import `$merge` (irreversible)|

Build changes with the named constructors (`Change.map(...)`, `Change.identify(...)`, ...): they
refuse what can never be sent (BadInput with `validate.staging_refusal`'s sentence: bad ids,
self-maps). `from_json` only checks the structure, so a hand-edited or older staged file still loads
and the plan reports what is wrong with it (as a blocking problem).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from idconsole.api.errors import BadInput

# the kinds and operations live in `kinds` (so `validate` needs no import of this module); re-exported
from idconsole.changes.kinds import (  # noqa: F401
    AMPLITUDE,
    IDENTIFY,
    KINDS,
    MAP,
    MIXPANEL,
    MP_ALIAS,
    MP_IDENTIFY,
    MP_MERGE,
    NON_IDEMPOTENT_OPERATIONS,
    OPERATIONS,
    UNMAP,
    VALUELESS_OPERATIONS,
    VENDOR_OF,
    normalize_operation,
)
from idconsole.changes.validate import staging_refusal


def new_change_id() -> str:
    """A short random id, stable for the life of the change (staged file, journal, undo)."""
    return "c" + secrets.token_hex(6)


def _freeze(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True, eq=True)
class Change:
    """One staged change. Prefer the named constructors; see the module docstring for the fields.

    `user_id` is the primary id of every kind (Amplitude user, Mixpanel anon id / alias / first merge id);
    `target_id` the second one where there is one (global user, identified id, distinct id, second
    merge id). The kind-specific names (`global_user_id`, `anon_id`, ...) are properties.
    """

    op: str
    user_id: str
    target_id: str | None = None
    operation: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_change_id)

    def __post_init__(self) -> None:
        if not isinstance(self.properties, MappingProxyType):
            object.__setattr__(self, "properties", _freeze(self.properties or {}))

    __hash__ = None  # type: ignore[assignment]  # properties may hold lists

    # --- named constructors (validate; raise BadInput) -------------------------------------------

    @classmethod
    def map(cls, user_id: str, global_user_id: str, *, id: str | None = None) -> Change:
        return cls._checked(MAP, user_id, global_user_id, id=id)

    @classmethod
    def unmap(cls, user_id: str, *, id: str | None = None) -> Change:
        return cls._checked(UNMAP, user_id, id=id)

    @classmethod
    def identify(
        cls, user_id: str, operation: str, properties: Mapping[str, Any] | None = None, *, id: str | None = None
    ) -> Change:
        """`operation` is one of OPERATIONS (the `$` may be left out: `set`, `setOnce`, `add`...).
        `$unset` takes keys (values ignored, sent as "-"); `$clearAll` takes none."""
        operation = normalize_operation(operation)
        props = dict(properties or {})
        if operation in VALUELESS_OPERATIONS:
            props = {k: "-" for k in props}
        return cls._checked(IDENTIFY, user_id, None, operation, props, id=id)

    @classmethod
    def mp_identify(cls, anon_id: str, identified_id: str, *, id: str | None = None) -> Change:
        return cls._checked(MP_IDENTIFY, anon_id, identified_id, id=id)

    @classmethod
    def mp_alias(cls, alias: str, distinct_id: str, *, id: str | None = None) -> Change:
        return cls._checked(MP_ALIAS, alias, distinct_id, id=id)

    @classmethod
    def mp_merge(cls, distinct_id_a: str, distinct_id_b: str, *, id: str | None = None) -> Change:
        return cls._checked(MP_MERGE, distinct_id_a, distinct_id_b, id=id)

    @classmethod
    def _checked(
        cls,
        op: str,
        user_id: str,
        target_id: str | None = None,
        operation: str | None = None,
        properties: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
    ) -> Change:
        change = cls(op, user_id, target_id, operation, properties or {}, id=id or new_change_id())
        refusal = staging_refusal(change)
        if refusal:
            raise BadInput(refusal)
        return change

    # --- what it is ------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.op

    @property
    def vendor(self) -> str:
        return VENDOR_OF.get(self.op, "unknown")

    @property
    def irreversible(self) -> bool:
        return self.op == MP_MERGE

    @property
    def idempotent(self) -> bool:
        """False when sending it twice does more than sending it once (`$add`, `$append`..., every
        Mixpanel identity event): such a change is never re-sent after an unknown outcome."""
        if self.op == IDENTIFY:
            return self.operation not in NON_IDEMPOTENT_OPERATIONS
        return self.vendor == AMPLITUDE

    @property
    def global_user_id(self) -> str | None:
        return self.target_id if self.op == MAP else None

    @property
    def anon_id(self) -> str | None:
        return self.user_id if self.op == MP_IDENTIFY else None

    @property
    def identified_id(self) -> str | None:
        return self.target_id if self.op == MP_IDENTIFY else None

    @property
    def alias(self) -> str | None:
        return self.user_id if self.op == MP_ALIAS else None

    @property
    def distinct_id(self) -> str | None:
        return self.target_id if self.op == MP_ALIAS else None

    @property
    def distinct_ids(self) -> tuple[str, str] | None:
        return (self.user_id, self.target_id or "") if self.op == MP_MERGE else None

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id this change touches (the users whose state it changes or depends on)."""
        return (self.user_id,) if self.target_id is None else (self.user_id, self.target_id)

    def content_key(self) -> tuple[Any, ...]:
        """Equal for two changes that ask for the same thing (duplicates), whatever their ids."""
        return (self.op, self.user_id, self.target_id, self.operation, _canon(dict(self.properties)))

    def description(self) -> str:
        """One line for people. Ids appear raw (the UI makes them literal and visible)."""
        if self.op == MAP:
            return f"map {self.user_id} → {self.target_id}"
        if self.op == UNMAP:
            return f"unmap {self.user_id}"
        if self.op == IDENTIFY:
            if self.operation == "$clearAll":
                return f"identify {self.user_id}: $clearAll (remove every user property)"
            if self.operation == "$unset":
                return f"identify {self.user_id}: $unset {', '.join(self.properties)}"
            body = ", ".join(f"{k}={_short_json(v)}" for k, v in self.properties.items())
            return f"identify {self.user_id}: {self.operation} {body}"
        if self.op == MP_IDENTIFY:
            return f"mixpanel identify: anonymous {self.user_id} → identified {self.target_id}"
        if self.op == MP_ALIAS:
            return f"mixpanel alias {self.user_id} → {self.target_id}"
        if self.op == MP_MERGE:
            return f"mixpanel MERGE {self.user_id} + {self.target_id} (irreversible)"
        return f"{self.op} {self.user_id}"

    # --- wire ------------------------------------------------------------------------------------

    def to_mapping(self):  # -> idconsole.api.models.Mapping
        from idconsole.api.models import Mapping as WireMapping

        if self.op == MAP:
            return WireMapping(self.user_id, self.target_id)
        if self.op == UNMAP:
            return WireMapping(self.user_id, unmap=True)
        raise ValueError(f"{self.op} is not a user mapping")

    def to_identification(self) -> dict[str, Any]:
        """The Identify API object for this change."""
        if self.op != IDENTIFY:
            raise ValueError(f"{self.op} is not an identify")
        body: Any = "-" if self.operation == "$clearAll" else dict(self.properties)
        return {"user_id": self.user_id, "user_properties": {self.operation: body}}

    # --- JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "op": self.op}
        if self.op == MAP:
            data.update(user_id=self.user_id, global_user_id=self.target_id)
        elif self.op == UNMAP:
            data["user_id"] = self.user_id
            if self.target_id is not None:  # only from a malformed file; the plan blocks it
                data["global_user_id"] = self.target_id
        elif self.op == IDENTIFY:
            data.update(user_id=self.user_id, operation=self.operation, properties=dict(self.properties))
        elif self.op == MP_IDENTIFY:
            data.update(anon_id=self.user_id, identified_id=self.target_id)
        elif self.op == MP_ALIAS:
            data.update(alias=self.user_id, distinct_id=self.target_id)
        elif self.op == MP_MERGE:
            data["distinct_ids"] = [self.user_id, self.target_id]
        else:
            data.update(user_id=self.user_id, target_id=self.target_id)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Change:
        """Structure only (strings where strings belong); semantic problems are left to the plan.
        Raises BadInput for something that is not a change at all."""
        if not isinstance(data, dict):
            raise BadInput("A staged change must be a JSON object.")
        op = data.get("op")
        if op not in KINDS:
            raise BadInput(f"Unknown change kind {op!r} (known: {', '.join(KINDS)}).")
        cid = data.get("id")
        if not isinstance(cid, str) or not cid:
            cid = new_change_id()
        operation = None
        props: dict[str, Any] = {}
        if op in (MAP, UNMAP):
            user, target = data.get("user_id"), data.get("global_user_id")
        elif op == IDENTIFY:
            user, target = data.get("user_id"), None
            operation = data.get("operation")
            props = data.get("properties") or {}
            if not isinstance(operation, str) or not isinstance(props, dict):
                raise BadInput("An identify change needs an `operation` string and a `properties` object.")
        elif op == MP_IDENTIFY:
            user, target = data.get("anon_id"), data.get("identified_id")
        elif op == MP_ALIAS:
            user, target = data.get("alias"), data.get("distinct_id")
        else:
            pair = data.get("distinct_ids")
            if not isinstance(pair, list) or len(pair) != 2:
                raise BadInput("A merge needs `distinct_ids`: exactly two ids.")
            user, target = pair
        if not isinstance(user, str) or (target is not None and not isinstance(target, str)):
            raise BadInput(f"A {op} change has a missing or non-text id.")
        return cls(op, user, target, operation, props, id=cid)

    def replace_id(self, new_id: str | None = None) -> Change:
        return Change(self.op, self.user_id, self.target_id, self.operation, dict(self.properties),
                      id=new_id or new_change_id())


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _short_json(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Checks on single changes and ids, and the parsing of `KEY=VALUE` assignments.

- `staging_refusal(change)`: THE staging-time check every face uses (the CLI's `stage`, the CSV import,
  the console's dialogs, through the named constructors or directly): None when the change may be
  staged, else one sentence saying why not, the same words whichever face asked. It refuses every
  `change_problems` plus self-maps (A into A).
- `id_problem(value, name)`: why an id can never be right — empty or only whitespace, a control
  character (NUL, newline, ESC, DEL, C1; also U+2028/U+2029 line breaks and lone surrogates, which no
  wire format carries), longer than MAX_ID_LENGTH characters. The id is quoted through `visible()`, so
  the sentence itself is safe to print anywhere.
- `change_problems(change)`: what makes a change impossible to send (bad ids as above, unmap with a
  global id, $add of a non-number, ...). The plan reports every one as *blocking*, so an old staged
  file holding such an id still loads and is blocked, never sent.
- `junk_id_reasons(id)`: why an id looks like a bug rather than a user (`null`, `undefined`, `0`, `-1`,
  shorter than 5 characters, leading/trailing whitespace). The plan reports them as *warnings*.
- `parse_assignments(["k=v", "n:=3"], operation)`: `KEY=VALUE` keeps VALUE as text, `KEY:=JSON` parses
  VALUE as JSON (numbers, true/false, lists, objects). `$add` needs a number (either form: `n=3` works).
  `$unset` takes bare keys (`KEY` or `KEY=anything`); `$clearAll` takes none (a lone `-` is accepted).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import BadInput
from idconsole.changes import kinds
from idconsole.untrusted import visible

if TYPE_CHECKING:  # model imports this module (its constructors call staging_refusal)
    from idconsole.changes.model import Change

JUNK_IDS = frozenset({"null", "none", "nil", "undefined", "nan", "0", "-1", "[object object]", "(null)", "n/a"})
MIN_ID_LENGTH = 5
#: no vendor id is longer; a longer one is a pasted blob, not an id
MAX_ID_LENGTH = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: control characters, line/paragraph separators, lone surrogates (undecodable command-line bytes)
_NEVER_IN_AN_ID = frozenset({"Cc", "Zl", "Zp", "Cs"})
_WHAT_IT_IS = {"Cc": "a control character", "Cs": "an undecodable character"}
#: how much of a refused id a sentence quotes
_QUOTED = 80
#: no real property is nested deeper; far deeper ones would exhaust the JSON encoder's recursion later
MAX_VALUE_DEPTH = 100

#: the names of a change's two ids, as the faces label them
ID_NAMES = {
    kinds.MAP: ("user id", "global user id"),
    kinds.UNMAP: ("user id", "global user id"),
    kinds.IDENTIFY: ("user id", ""),
    kinds.MP_IDENTIFY: ("anonymous id", "identified id"),
    kinds.MP_ALIAS: ("alias", "distinct id"),
    kinds.MP_MERGE: ("first distinct id", "second distinct id"),
}


def junk_id_reasons(value: str) -> list[str]:
    """Reasons this id looks like junk; empty when it looks like a real id."""
    if not isinstance(value, str):
        return ["is not text"]
    reasons: list[str] = []
    if value == "" or not value.strip():
        return ["is empty"]
    if value != value.strip():
        reasons.append("has leading or trailing whitespace")
    if value.strip().lower() in JUNK_IDS:
        reasons.append(f"is the placeholder value {value.strip()!r}")
    elif len(value.strip()) < MIN_ID_LENGTH:
        reasons.append(f"is shorter than {MIN_ID_LENGTH} characters")
    if _CONTROL.search(value):
        reasons.append("contains control characters")
    return reasons


def is_empty_id(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def as_number(value: Any) -> int | float | None:
    """A JSON number (or numeric text) as a number; None when it is not one (booleans are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def nesting_depth(value: Any) -> int:
    """How many lists/objects deep `value` goes (0 for a scalar); iterative, so any depth is measured."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def quoted(value: str) -> str:
    """An id inside a sentence: in double quotes, control characters escaped, cut when long."""
    return '"' + visible(value, limit=_QUOTED) + '"'


def id_problem(value: Any, name: str) -> str | None:
    """Why `value` can never be a right id (`name` says which one: "user id", "alias"...); None when
    it may be one. Looking like junk (`null`, too short) is not a problem here: that is a warning."""
    if not isinstance(value, str):
        return f"the {name} is not text"
    if not value.strip():
        return f"the {name} is required (it is empty or only whitespace)"
    for ch in value:
        category = unicodedata.category(ch)
        if category in _NEVER_IN_AN_ID:
            what = _WHAT_IT_IS.get(category, "a line break")
            return f"the {name} {quoted(value)} contains {what} ({visible(ch)}), which no real id has"
    if len(value) > MAX_ID_LENGTH:
        return f"the {name} is {len(value):,} characters long; an id has at most {MAX_ID_LENGTH:,}"
    return None


def same_ids_problem(change: Change) -> str | None:
    """A change that names one id twice: a map into itself, a merge or alias of an id with itself."""
    if change.op not in ID_NAMES or change.target_id is None or change.user_id != change.target_id:
        return None
    if is_empty_id(change.user_id):
        return None
    shown = quoted(change.user_id)
    if change.op == kinds.MAP:
        return f"a user cannot be mapped into itself (the user id and the global user id are both {shown})"
    if change.op == kinds.MP_MERGE:
        return f"a merge needs two different ids (both are {shown})"
    first, second = ID_NAMES[change.op]
    return f"the {first} and the {second} must differ (both are {shown})"


def staging_refusal(change: Change) -> str | None:
    """THE staging-time check (every face, same words): None when `change` may be staged, else one
    sentence saying why not. `change_problems` plus a map into itself."""
    problems = change_problems(change)
    if change.op == kinds.MAP and not problems:
        self_map = same_ids_problem(change)
        if self_map:
            problems.append(self_map)
    return "; ".join(problems) if problems else None


def change_problems(change: Change) -> list[str]:
    """Every reason this change cannot be sent as it is (empty when it can). A map into itself is left
    to the plan (its own `self_map` problem); `staging_refusal` refuses it at staging time."""
    op = change.op
    problems: list[str] = []
    if op not in kinds.KINDS:
        return [f"unknown change kind {op!r}"]
    names = ID_NAMES[op]
    first = id_problem(change.user_id, names[0])
    if first:
        problems.append(first)
    if op == kinds.UNMAP:
        if change.target_id is not None:
            problems.append(
                "an unmap must not carry a global user id (Amplitude rejects it); unmap removes whatever "
                "the user is mapped to"
            )
    elif op == kinds.IDENTIFY:
        if change.target_id is not None:
            problems.append("an identify has no second id")
        problems.extend(_identify_problems(change))
    else:
        second = id_problem("" if change.target_id is None else change.target_id, names[1])
        if second:
            problems.append(second)
    if op in (kinds.MP_MERGE, kinds.MP_IDENTIFY, kinds.MP_ALIAS):
        same = same_ids_problem(change)
        if same:
            problems.append(same)
    if op == kinds.MP_IDENTIFY and not first and not is_uuid4_device_id(change.user_id):
        problems.append(
            f"the anonymous id {visible(change.user_id, limit=80)} is not a UUID v4 (optionally as "
            "$device:<uuid>), which Mixpanel's create-identity API requires; it would be refused (status 0)"
        )
    return problems


#: Mixpanel documents `$anon_id` as a UUID v4 device id; the SDKs spell it `$device:<uuid>` too (?)
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


def is_uuid4_device_id(value: str) -> bool:
    bare = value[len("$device:"):] if value.startswith("$device:") else value
    return _UUID4.fullmatch(bare) is not None


def _identify_problems(change: Change) -> list[str]:
    operation, props = change.operation, dict(change.properties)
    if operation not in kinds.OPERATIONS:
        return [f"unknown user property operation {operation!r} (use one of {', '.join(kinds.OPERATIONS)})"]
    if operation == "$clearAll":
        return []
    if not props:
        return [f"{operation} needs at least one property"]
    problems = []
    for key, value in props.items():
        if not isinstance(key, str) or not key.strip():
            problems.append("a property name is empty")
        elif key.startswith("$"):
            problems.append(f"property name {key!r} starts with '$' (reserved for operations)")
        depth = nesting_depth(value)
        if depth > MAX_VALUE_DEPTH:
            problems.append(f"the value of {key!r} is nested {depth:,} levels deep; at most {MAX_VALUE_DEPTH} are allowed")
        elif operation == "$add" and as_number(value) is None:
            problems.append(f"$add needs a number for {key!r}, not {json.dumps(value, default=str)[:40]}")
        if operation == "$unset" and value != "-":
            problems.append(f'$unset of {key!r} takes the value "-"')
    return problems


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_assignments(assignments: Iterable[str], operation: str) -> dict[str, Any]:
    """Turn CLI/editor `KEY=VALUE` / `KEY:=JSON` strings into a properties dict for `operation`.
    Raises BadInput naming the bad assignment."""
    operation = kinds.normalize_operation(operation)
    items = list(assignments)
    if operation == "$clearAll":
        extra = [a for a in items if a not in ("-", "*", "")]
        if extra:
            raise BadInput(f"$clearAll takes no properties (got {extra[0]!r}).", hint="Pass `-` or nothing.")
        return {}
    props: dict[str, Any] = {}
    for item in items:
        key, value = parse_assignment(item, operation)
        if key in props:
            raise BadInput(f"Property {key!r} is given twice.")
        props[key] = value
    if not props:
        raise BadInput(f"{operation} needs at least one KEY=VALUE.")
    return props


def parse_assignment(item: str, operation: str) -> tuple[str, Any]:
    operation = kinds.normalize_operation(operation)
    if operation == "$unset":
        key = item.split("=", 1)[0]
        key = key[:-1] if key.endswith(":") else key
        if not key.strip():
            raise BadInput(f"Bad property {item!r}: the name is empty.")
        return key, "-"
    idx = item.find("=")
    if idx == -1:
        raise BadInput(f"Bad KEY=VALUE {item!r}: no '='.", hint="Write name=value (text) or name:=JSON.")
    value: Any
    if idx > 0 and item[idx - 1] == ":":
        key, raw = item[: idx - 1], item[idx + 1 :]
        try:
            # NaN and Infinity are not JSON: Python's decoder accepts them, the vendors would not
            value = json.loads(raw, parse_constant=_refuse_constant)
        except ValueError:
            raise BadInput(f"Bad KEY:=JSON {item[:80]!r}: {raw[:40]!r} is not valid JSON.") from None
        except RecursionError:  # the decoder recurses once per level
            raise BadInput(f"Bad KEY:=JSON for {key[:80]!r}: the value is nested too deeply; a property value "
                           f"may be nested at most {MAX_VALUE_DEPTH} levels.") from None
    else:
        key, value = item[:idx], item[idx + 1 :]
    if not key.strip():
        raise BadInput(f"Bad KEY=VALUE {item!r}: the name is empty.")
    if key.startswith("$"):
        raise BadInput(f"Bad KEY=VALUE {item!r}: property names cannot start with '$'.")
    if operation == "$add":
        number = as_number(value)
        if number is None:
            raise BadInput(f"$add needs a number: {item!r} is not one.", hint="e.g. logins=1 or credit=-2.5")
        value = number
    return key, value

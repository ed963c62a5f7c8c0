"""Import staged changes from CSV — all or nothing.

Columns: `op,user_id,global_user_id[,key,value]`. A header row is optional (a first row whose first
cell is `op` is skipped). Blank lines and lines starting with `#` are ignored. UTF-8 (a BOM is fine).
One row is one change:

| op                                   | user_id        | global_user_id | key      | value                  |
|--------------------------------------|----------------|----------------|----------|------------------------|
| `map`                                | user           | global user    | —        | —                      |
| `unmap`                              | user           | (empty)        | —        | —                      |
| `set` / `$set`, `setOnce`, `append`, `prepend`, `preInsert`, `postInsert`, `remove` | user | (empty) | property | text value |
| `add` / `$add`                       | user           | (empty)        | property | a number (e.g. `-2.5`) |
| `unset` / `$unset`                   | user           | (empty)        | property | (empty)                |
| `clearAll` / `$clearAll`             | user           | (empty)        | (empty)  | (empty)                |
| `mp-identify`                        | anonymous id   | identified id  | —        | —                      |
| `mp-alias`                           | alias          | distinct id    | —        | —                      |
| `mp-merge`                           | first id       | second id      | —        | —                      |

(`mp_identify` style and `$`-less / any-case operation names are accepted.) Values are text, except
`add`, which needs a number. Ids are taken exactly as written (spaces included — the plan warns);
ids that can never be right (blank, control characters, over 1024 characters, a map into itself) are
refused with `validate.staging_refusal`'s sentence, the one every face gives. Every bad row is
reported with its line number and the reason; if there is any, nothing is staged.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.validate import as_number, staging_refusal

MAX_ROWS = 200_000
MAPPING_OPS = {"map": model.MAP, "unmap": model.UNMAP}
MIXPANEL_OPS = {
    "mp-identify": model.MP_IDENTIFY, "mp_identify": model.MP_IDENTIFY,
    "mp-alias": model.MP_ALIAS, "mp_alias": model.MP_ALIAS,
    "mp-merge": model.MP_MERGE, "mp_merge": model.MP_MERGE,
}  # fmt: skip


class CsvImportError(BadInput):
    """Some rows are bad; `errors` holds every (line, reason). Nothing was staged."""

    kind = "bad_input"

    def __init__(self, source: str, errors: list[tuple[int, str]]) -> None:
        shown = errors[:50]
        lines = "\n".join(f"  line {line}: {reason}" for line, reason in shown)
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(
            f"{source}: {len(errors)} bad row(s); nothing was staged.\n{lines}{more}",
            hint="Fix them and import the file again.",
        )
        self.errors = errors


def parse_csv_text(text: str, *, source: str = "CSV") -> list[Change]:
    """Every change of the CSV, or CsvImportError listing every bad row."""
    if text.startswith("\ufeff"):
        text = text[1:]
    errors: list[tuple[int, str]] = []
    changes: list[Change] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    first_data_row = True
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((reader.line_num or start, f"not valid CSV: {exc}"))
            break
        line = start
        if not row or all(not cell.strip() for cell in row):
            continue
        if row[0].lstrip().startswith("#"):
            continue
        if first_data_row:
            first_data_row = False
            if row[0].strip().lower() == "op":
                continue
        if len(changes) + len(errors) >= MAX_ROWS:
            errors.append((line, f"more than {MAX_ROWS:,} rows; split the file"))
            break
        try:
            changes.append(parse_row(row))
        except BadInput as exc:
            errors.append((line, exc.message))
    if errors:
        raise CsvImportError(source, errors)
    if not changes:
        raise BadInput(f"{source} has no changes in it.", hint="Columns: op,user_id,global_user_id[,key,value]")
    return changes


def parse_row(row: list[str]) -> Change:
    if len(row) > 5:
        raise BadInput(f"{len(row)} columns; at most 5 (op,user_id,global_user_id,key,value)")
    cells = [*row, "", "", "", ""][:5]
    op_raw, user, target, key, value = cells
    op = op_raw.strip()
    low = op.lower()
    if not op:
        raise BadInput("the op is empty")
    if low in MAPPING_OPS or low in MIXPANEL_OPS:
        kind = MAPPING_OPS.get(low) or MIXPANEL_OPS[low]
        if key or value:
            raise BadInput(f"{op} takes no key/value columns")
        if kind == model.UNMAP:
            if target:
                raise BadInput("unmap takes no global_user_id (it removes whatever the user is mapped to)")
            change = Change(model.UNMAP, user)
        else:
            change = Change(kind, user, target)
    else:
        try:
            operation = model.normalize_operation(op)
        except BadInput:
            raise BadInput(
                f"unknown op {op!r} (use map, unmap, set, setOnce, add, append, prepend, unset, preInsert, "
                "postInsert, remove, clearAll, mp-identify, mp-alias, mp-merge)"
            ) from None
        if target:
            raise BadInput(f"{op} takes no global_user_id (column 3 must be empty)")
        if operation == "$clearAll":
            if key or value:
                raise BadInput("clearAll takes no key or value")
            props = {}
        elif operation == "$unset":
            if not key.strip():
                raise BadInput("unset needs the property name (column 4)")
            props = {key: "-"}
        else:
            if not key.strip():
                raise BadInput(f"{op} needs the property name (column 4)")
            v: Any = value
            if operation == "$add":
                v = as_number(value)
                if v is None:
                    raise BadInput(f"add needs a number in column 5, not {value[:40]!r}")
            props = {key: v}
        change = Change(model.IDENTIFY, user, None, operation, props)
    refusal = staging_refusal(change)  # the words the CLI's `stage` and the console's dialog use
    if refusal:
        raise BadInput(refusal)
    return change


def import_csv(path: str | Path) -> list[Change]:
    """Read and parse a CSV file (see the module docstring). Does not stage; `StagedSet.extend` does."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"No such file: {p}.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {p}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvImportError(str(p), [(line, "not UTF-8 text")]) from None
    return parse_csv_text(text, source=str(p))

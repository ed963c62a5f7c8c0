"""Questions a support team asks the journal, answered once for both faces.

- `entries_touching(entries, user_id)`: "what did we do to hank?" — the entries with a change that
  names the id (as the user, the global/target id, a Mixpanel id) or that re-pointed a user away from
  it (the previous global id recorded in the entry's pre-state).
- `select_changes(entry, "1,3")`: a chosen subset of an entry's
  changes, by their 1-based numbers as `journal show ID` lists them (`1,3` or `2-4`), for `undo --changes`
  and the console's marked rows. Bad numbers are BadInput with one sentence (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable

from idconsole.api.errors import BadInput
from idconsole.changes import model
from idconsole.changes.journal_entry import JournalEntry
from idconsole.changes.model import Change
from idconsole.untrusted import visible

#: a range longer than this is a typo, not a selection (an apply of that many changes takes hours)
MAX_RANGE = 100_000


def entry_touches(entry: JournalEntry, user_id: str) -> bool:
    """True when one of the entry's changes names `user_id`, or moved a user off it (pre-state)."""
    previous = (entry.pre_state or {}).get("mappings") or {}
    for change in entry.changes:
        if user_id in change.ids:
            return True
        if change.op in (model.MAP, model.UNMAP) and isinstance(previous, dict) \
                and previous.get(change.user_id) == user_id:
            return True
    return False


def entries_touching(entries: Iterable[JournalEntry], user_id: str) -> list[JournalEntry]:
    """The entries (in the order given) whose changes touch `user_id` (matched exactly, as ids are)."""
    return [e for e in entries if entry_touches(e, user_id)]


def select_changes(entry: JournalEntry, numbers: str | Iterable[int]) -> list[Change]:
    """The entry's changes with these 1-based numbers (`"1,3"`, `"2-4"`, `"1, 3-5"`, or ints), in the
    entry's order; BadInput with one sentence for anything else (text that is no number, 0, a number
    the entry does not have)."""
    total = len(entry.changes)
    wanted = parse_change_numbers(numbers) if isinstance(numbers, str) else list(numbers)
    missing = [n for n in wanted if not 1 <= n <= total]
    if missing:
        which = "no changes" if total == 0 else f"{total} change(s), numbered 1 to {total}"
        raise BadInput(f"Journal entry {entry.journal_id} has {which}; there is no change {missing[0]}.")
    chosen = set(wanted)
    return [c for n, c in enumerate(entry.changes, 1) if n in chosen]


def parse_change_numbers(text: str) -> list[int]:
    """`"1,3"`, `"2-4"`, `"1, 3-5"` -> [1, 3, 4, 5] (each once); BadInput for text that is not that."""
    numbers: dict[int, None] = {}
    parts = [p.strip() for p in (text or "").split(",")]
    if not any(parts):
        raise BadInput("--changes needs at least one change number (as `idconsole journal show ID` lists them).")
    for part in filter(None, parts):
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise BadInput(f"{visible(part, limit=40)!r} is not a change number; give numbers as "
                           "`idconsole journal show ID` lists them, e.g. --changes 1,3.") from None
        if first < 1 or last < first:
            raise BadInput(f"{visible(part, limit=40)!r} is not a change number; numbers start at 1 "
                           "and a range goes upwards, e.g. --changes 2-4.")
        if last - first >= MAX_RANGE:
            raise BadInput(f"{visible(part, limit=40)!r} is a range of more than {MAX_RANGE} changes; "
                           "no journal entry has that many.")
        numbers.update(dict.fromkeys(range(first, last + 1)))
    return list(numbers)

"""Undo: the inverse of a journal entry, as new changes to stage (nothing is sent here).

`undo(entry) -> (changes, notes)`. Only changes the server acknowledged are undone (a change that was
rejected or never sent did nothing; one whose outcome is unknown is noted, not guessed). Per kind:

- `map u → g`: back to what the journal's pre-state says u had: `map u → previous` or, if u was not
  mapped, `unmap u`. Several changes of one user in the entry restore the state from before the first.
- `unmap u`: `map u → previous` (nothing to do if u was not mapped before).
- `identify`: `$add k d` → `$add k -d` (exact whatever else happened since). Everything else restores
  the previous value read before sending: `$set k old`, or `$unset k` where k did not exist; `$clearAll`
  sets every previous property back. Where the profile could not be read (EU, not read), `$append`-like
  operations fall back to `$remove` of what was added (noted as approximate) and the rest are noted
  as impossible.
- `mp_identify`, `mp_alias`: Mixpanel has no way to undo them (noted). `mp_merge`: cannot be undone.
"""

from __future__ import annotations

from typing import Any

from idconsole.changes import model
from idconsole.changes.journal import ACKED, IN_FLIGHT, UNKNOWN, JournalEntry
from idconsole.changes.model import Change
from idconsole.changes.validate import as_number

_ABSENT = object()


def undo(entry: JournalEntry) -> tuple[list[Change], list[str]]:
    """The changes that would put things back as they were before `entry`, and notes about what
    cannot be (or only approximately). Stage them to send them; this sends nothing."""
    changes: list[Change] = []
    notes: list[str] = []
    pre = entry.pre_state or {}
    mappings_before: dict[str, Any] = pre.get("mappings") or {}
    props_before: dict[str, dict[str, Any]] = pre.get("properties") or {}
    unreadable: dict[str, str] = pre.get("properties_unreadable") or {}

    acked: list[Change] = []
    for change in entry.changes:
        status = entry.change_status(change.id)
        if status == ACKED or entry.resolutions.get(change.id) == "applied":
            acked.append(change)
        elif status in (UNKNOWN, IN_FLIGHT):
            notes.append(f"not undone: {change.description()} — its outcome is unknown; check the user and "
                         "stage a fix by hand if it took effect")
    if not acked:
        notes.append("nothing in this entry was acknowledged by the server, so there is nothing to undo")
        return changes, notes

    # --- mappings: one restoring change per user, from the state before the first change ---
    restored: set[str] = set()
    for change in acked:
        if change.op not in (model.MAP, model.UNMAP) or change.user_id in restored:
            continue
        u = change.user_id
        restored.add(u)
        if u not in mappings_before:
            notes.append(f"cannot undo {change.description()}: the journal has no previous mapping for {u}")
            continue
        previous = mappings_before[u]
        final = _final_mapping(acked, u)
        if previous == final:
            notes.append(f"{u}: already back to {previous or '(not mapped)'} within this entry; nothing to undo")
        elif previous is None:
            changes.append(Change.unmap(u))
        else:
            changes.append(Change.map(u, previous))

    # --- identify: per user, newest first ---
    identifies = [c for c in acked if c.op == model.IDENTIFY]
    handled_keys: set[tuple[str, str]] = set()
    for change in identifies:
        changes.extend(_undo_identify(change, props_before, unreadable, identifies, handled_keys, notes))

    # --- Mixpanel ---
    for change in acked:
        if change.op == model.MP_MERGE:
            notes.append(f"cannot be undone: {change.description()} — Mixpanel merges are irreversible")
        elif change.op in (model.MP_IDENTIFY, model.MP_ALIAS):
            notes.append(f"cannot be undone: {change.description()} — Mixpanel has no API to split ids again")
    return changes, notes


def _final_mapping(acked: list[Change], user: str) -> str | None:
    final: str | None = None
    for change in acked:
        if change.user_id == user and change.op in (model.MAP, model.UNMAP):
            final = change.target_id if change.op == model.MAP else None
    return final


def _undo_identify(
    change: Change,
    props_before: dict[str, dict[str, Any]],
    unreadable: dict[str, str],
    identifies: list[Change],
    handled: set[tuple[str, str]],
    notes: list[str],
) -> list[Change]:
    u = change.user_id
    op = change.operation
    out: list[Change] = []
    before = props_before.get(u)
    why = unreadable.get(u, "the previous values were not recorded")
    if op == "$add":
        # exact whatever else happened since; keys another operation of this entry also touched are
        # restored from the previous value instead (by that operation's undo)
        negated = {k: _negate(v) for k, v in change.properties.items() if _only_adds(identifies, u, k)}
        if negated:
            out.append(Change.identify(u, "$add", negated))
        return out
    if before is None:
        if op in ("$append", "$prepend", "$preInsert", "$postInsert"):
            out.append(Change.identify(u, "$remove", dict(change.properties)))
            notes.append(f"approximate undo of {change.description()}: $remove of what was added ({why}); "
                         "it also removes equal items that were there before")
        else:
            notes.append(f"cannot undo {change.description()}: {why}")
        return out
    keys = list(before) if op == "$clearAll" else list(change.properties)
    to_set: dict[str, Any] = {}
    to_unset: list[str] = []
    for key in keys:
        if (u, key) in handled:
            continue  # restored by an earlier change of this entry: restore once, to the oldest value
        handled.add((u, key))
        if _only_adds(identifies, u, key):
            continue
        if key in before:
            to_set[key] = before[key]
        else:
            to_unset.append(key)
    if to_set:
        out.append(Change.identify(u, "$set", to_set))
    if to_unset:
        out.append(Change.identify(u, "$unset", {k: "-" for k in to_unset}))
    return out


def _only_adds(identifies: list[Change], user: str, key: str) -> bool:
    ops = {c.operation for c in identifies if c.user_id == user and key in c.properties}
    return ops == {"$add"}


def _negate(value: Any) -> Any:
    number = as_number(value)
    if number is None:
        return value
    return -number

"""Undo: the inverse of a journal entry, as new changes to stage (nothing is sent here).

`undo(entry) -> (changes, notes)`. Only changes the server acknowledged are undone (a change that was
rejected or never sent did nothing; one whose outcome is unknown is noted, not guessed). Per kind:

- `map u → g`: back to what the journal's pre-state says u had: `map u → previous` or, if u was not
  mapped, `unmap u`. Several changes of one user in the entry restore the state from before the first.
- `unmap u`: `map u → previous` (nothing to do if u was not mapped before).
- Order of the mapping changes (`undo_order.order_restore`): the inverse must plan clean whenever the
  server still holds the entry's recorded after-state, so no step may close a cycle. Unmaps first
  (they only free targets); then re-pointings of mapped users, each only once following mappings from
  its target provably cannot lead back to it (when that cannot be proven, all but one of them are
  split: unmapped first, mapped back at the end, with a note); then maps of unmapped users, lowest in
  the before-state graph first, so each map's target already holds its final mapping. No step closes
  a cycle, and the chains steps create are the before-state's (a re-pointing may briefly point into a
  user not yet back). A user whose mapping back would re-close a cycle the before-state had is left as
  it is, with a note (the plan refuses cycles).
  `current` (mappings the caller just read) makes the order exact and notes users changed since.
- `identify`: `$add k d` → `$add k -d` (exact whatever else happened since). Everything else restores
  the previous value read before sending: `$set k old`, or `$unset k` where k did not exist; `$clearAll`
  sets every previous property back. Where the profile could not be read (EU, not read), `$append`-like
  operations fall back to `$remove` of what was added (noted as approximate) and the rest are noted
  as impossible.
- `mp_identify`, `mp_alias`: Mixpanel has no way to undo them (noted). `mp_merge`: cannot be undone.
- A chosen subset (`only`, `undo ID --changes N,...`): only those changes are undone, ordered by the same
  rule on the entry's after-state (the changes not chosen stay in effect, so their mappings count).
  A user's mapping goes back to what it was before its first chosen change; a later change of that
  user's mapping or of a restored property that was not chosen is taken back too, and a note says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from idconsole.changes import model
from idconsole.changes.journal import ACKED, IN_FLIGHT, UNKNOWN, JournalEntry
from idconsole.changes.model import Change
from idconsole.changes.undo_order import order_restore
from idconsole.changes.validate import as_number

_ABSENT = object()


def undo(
    entry: JournalEntry,
    *,
    current: Mapping[str, str | None] | None = None,
    only: Collection[str] | None = None,
) -> tuple[list[Change], list[str]]:
    """The changes that would put things back as they were before `entry`, and notes about what
    cannot be (or only approximately). Stage them to send them; this sends nothing.

    `current`: mappings read from the server just now (id -> global id or None), if the caller read
    any. They refine the order (fewer ids whose mapping is unknown) and reveal users changed since;
    without them the entry's recorded after-state is assumed to still hold.

    `only`: undo just these of the entry's changes (their ids; `journal_query.select_changes` picks them
    by number). The others stay in effect: the order is worked out on the entry's after-state of all
    of them, and a note says when undoing a chosen change also takes back one that was not chosen."""
    changes: list[Change] = []
    notes: list[str] = []
    pre = entry.pre_state or {}
    mappings_before: dict[str, Any] = pre.get("mappings") or {}
    props_before: dict[str, dict[str, Any]] = pre.get("properties") or {}
    unreadable: dict[str, str] = pre.get("properties_unreadable") or {}
    chosen_ids = None if only is None else set(only)
    partial = chosen_ids is not None and not {c.id for c in entry.changes} <= chosen_ids

    applied: list[Change] = []  # every change of the entry that took effect
    acked: list[Change] = []  # ...of those, the ones to undo
    for change in entry.changes:
        status = entry.change_status(change.id)
        wanted = chosen_ids is None or change.id in chosen_ids
        if status == ACKED or entry.resolutions.get(change.id) == "applied":
            applied.append(change)
            if wanted:
                acked.append(change)
        elif not wanted:
            continue
        elif status in (UNKNOWN, IN_FLIGHT):
            notes.append(f"not undone: {change.description()} — its outcome is unknown; check the user and "
                         "stage a fix by hand if it took effect")
        elif partial:
            notes.append(f"not undone: {change.description()} — the server did not apply it "
                         f"({status.replace('_', ' ')}), so there is nothing to take back")
    if not acked:
        what = "none of the chosen changes" if partial else "nothing in this entry"
        notes.append(f"{what} was acknowledged by the server, so there is nothing to undo")
        return changes, notes

    # --- mappings: one restoring change per user, from the state before its first chosen change ---
    changes.extend(_undo_mappings(acked, applied, mappings_before, current, notes, partial=partial))

    # --- identify: per user, newest first ---
    identifies = [c for c in acked if c.op == model.IDENTIFY]
    handled_keys: set[tuple[str, str]] = set()
    for change in identifies:
        changes.extend(_undo_identify(change, props_before, unreadable, identifies, handled_keys, notes))
    if partial:
        notes.extend(_also_taken_back(identifies, [c for c in applied if c not in acked]))

    # --- Mixpanel ---
    for change in acked:
        if change.op == model.MP_MERGE:
            notes.append(f"cannot be undone: {change.description()} — Mixpanel merges are irreversible")
        elif change.op in (model.MP_IDENTIFY, model.MP_ALIAS):
            notes.append(f"cannot be undone: {change.description()} — Mixpanel has no API to split ids again")
    return changes, notes


def _undo_mappings(
    acked: list[Change],
    applied: list[Change],
    mappings_before: Mapping[str, Any],
    current: Mapping[str, str | None] | None,
    notes: list[str],
    *,
    partial: bool = False,
) -> list[Change]:
    """One change per user of `acked` back to its mapping before the first of them (`applied`: every
    change of the entry that took effect, so the users it leaves alone keep their after-state),
    ordered by `order_restore`."""
    targets: dict[str, str | None] = {}
    after: dict[str, str | None] = {}  # the entry's recorded after-state of every user it mapped
    for change in applied:
        if change.op in (model.MAP, model.UNMAP) and change.user_id not in after:
            after[change.user_id] = _final_mapping(applied, change.user_id)
    done: set[str] = set()
    for change in acked:
        u = change.user_id
        if change.op not in (model.MAP, model.UNMAP) or u in done:
            continue
        done.add(u)
        final = after[u]
        previous = _mapping_before(change, applied, mappings_before)
        if previous is _ABSENT:
            notes.append(f"cannot undo {change.description()}: the journal has no previous mapping for {u}")
            continue
        if partial:
            notes.extend(_later_mappings_taken_back(change, acked, applied))
        if previous == final:
            notes.append(f"{u}: already back to {previous or '(not mapped)'} within this entry; nothing to undo")
            continue
        targets[u] = previous
    state: dict[str, str | None] = dict(after)
    for u, now in (current or {}).items():
        if u in targets and now != after[u]:
            if now == targets[u]:
                notes.append(f"{u}: already back to {now or '(not mapped)'} on the server; nothing to undo")
                del targets[u]
            else:
                notes.append(f"{u} changed since this entry: mapped to {now or '(not mapped)'} now, not "
                             f"{after[u] or '(not mapped)'}; the undo maps it back to {targets[u] or '(not mapped)'} "
                             "anyway — check the plan")
        state[u] = now
    order = order_restore(targets, state)
    if order.split:
        notes.append(f"{', '.join(order.split)}: unmapped first and mapped back afterwards, so that no step of "
                     "the undo can close a mapping cycle through ids whose mappings the journal did not record")
    for u in order.cycles:
        if partial:
            notes.append(f"not undone: mapping {u} back to {targets[u]} would close a mapping cycle with the "
                         "mappings this undo leaves in place (the plan refuses cycles); choose the changes that "
                         "made them too, or stage it by hand")
        else:
            notes.append(f"not undone: mapping {u} back to {targets[u]} would re-create the mapping cycle it was "
                         "on before this entry (the plan refuses cycles); stage it by hand if you really want it")
    return [Change.unmap(s.user_id) if s.target is None else Change.map(s.user_id, s.target) for s in order.steps]


def _mapping_before(change: Change, applied: list[Change], mappings_before: Mapping[str, Any]) -> Any:
    """The user's mapping just before `change`: the pre-state, moved on by the entry's earlier changes
    of that user (_ABSENT when neither says)."""
    value: Any = mappings_before.get(change.user_id, _ABSENT)
    for earlier in applied:
        if earlier is change:
            break
        if earlier.user_id == change.user_id and earlier.op in (model.MAP, model.UNMAP):
            value = earlier.target_id if earlier.op == model.MAP else None
    return value


def _later_mappings_taken_back(change: Change, acked: list[Change], applied: list[Change]) -> list[str]:
    """Mapping changes of the same user after `change` that were not chosen: restoring the user's
    mapping from before `change` takes them back too."""
    seen = False
    out: list[str] = []
    for later in applied:
        seen = seen or later is change
        if seen and later is not change and later not in acked and later.user_id == change.user_id \
                and later.op in (model.MAP, model.UNMAP):
            out.append(f"undoing {change.description()} also takes back {later.description()}, which came after "
                       f"it: the undo puts {change.user_id}'s mapping back to what it was before the first")
    return out


def _also_taken_back(chosen: list[Change], left: list[Change]) -> list[str]:
    """Properties restored from the pre-state that a change not chosen also set: it is taken back too."""
    out: list[str] = []
    for other in left:
        if other.op != model.IDENTIFY:
            continue
        for change in chosen:
            if change.user_id != other.user_id or change.operation == "$add":
                continue
            shared = set(change.properties) & set(other.properties) if change.operation != "$clearAll" \
                else set(other.properties)
            if shared:
                out.append(f"undoing {change.description()} puts {', '.join(sorted(shared))} of {change.user_id} "
                           f"back to the value before this entry, which also takes back {other.description()}")
                break
    return out


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

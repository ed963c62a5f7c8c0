"""Undo with the server's current mappings: `await undo_with_lookup(workspace, entry)`.

The journal records the previous mapping of each user an entry mapped, not the mappings of the ids
around them (the globals they point at, the users mapped into those). Reading them now lets the undo
order its steps exactly (no user has to be unmapped and mapped back just because nothing was known
about its target) and say which users changed since the entry. Only lookups are sent. If they fail,
the undo is worked out from the journal alone, and a note says so.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from idconsole.api.errors import IdConsoleError
from idconsole.changes import model
from idconsole.changes.journal import JournalEntry
from idconsole.changes.model import Change
from idconsole.changes.undo import undo

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

#: how many hops of mappings to follow from the ids of the entry
LOOKUP_ROUNDS = 4


async def undo_with_lookup(
    ws: Workspace, entry: JournalEntry, *, only: Collection[str] | None = None
) -> tuple[list[Change], list[str]]:
    """`undo(entry, only=...)`, ordered against the mappings the server holds now. Sends nothing but
    lookups."""
    start = _ids_of(entry)
    if not start or ws.connection.amplitude is None:
        return undo(entry, only=only)
    try:
        current = await read_mappings(ws, start)
    except IdConsoleError as exc:
        changes, notes = undo(entry, only=only)
        notes.append(f"could not read the current mappings ({exc.kind}: {exc}); the order of the undo was "
                     "worked out from the journal alone")
        return changes, notes
    return undo(entry, current=current, only=only)


async def read_mappings(ws: Workspace, ids: list[str], *, rounds: int = LOOKUP_ROUNDS) -> dict[str, str | None]:
    """id -> its global id now (None = not mapped) for `ids`, the ids they lead to (a few hops), and the
    users mapped into any of them."""
    known: dict[str, str | None] = {}
    wanted = list(dict.fromkeys(ids))
    for _ in range(rounds):
        batch = [i for i in wanted if i not in known]
        if not batch:
            break
        found = await ws.client.amplitude.get_mappings(batch)
        wanted = []
        for uid in batch:
            um = found.get(uid)
            target = um.global_user_id if um is not None else None
            known[uid] = target
            if target is not None:
                wanted.append(target)
            for source in um.mapped_from if um is not None else ():
                known.setdefault(source.user_id, uid)
    return known


def _ids_of(entry: JournalEntry) -> list[str]:
    """Every id the entry's mapping changes touched, and their recorded previous globals."""
    ids: list[str] = []
    previous = (entry.pre_state or {}).get("mappings") or {}
    for change in entry.changes:
        if change.op in (model.MAP, model.UNMAP):
            ids.extend(i for i in change.ids if i)
            before = previous.get(change.user_id)
            if isinstance(before, str) and before:
                ids.append(before)
    return list(dict.fromkeys(ids))

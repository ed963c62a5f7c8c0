"""After sending: re-read every affected user and say, per change, whether it is visible.

- `confirmed`: the service now shows what the change asked for;
- `pending`: it still shows the state from before (the vendors apply asynchronously: look again later);
- `failed`: it shows something else (another change or other traffic got there, or it was not applied);
- `unverifiable`: it cannot be read back (EU has no Profile API, `$add` without a known previous value,
  Mixpanel users without a profile, too many to read).

Mappings are judged against the state expected after *all* acknowledged changes of the same user (a
later change of the same user wins), starting from the pre-state apply read before sending.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import IdConsoleError, NotFound, NotOffered
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.prestate import read_properties
from idconsole.changes.validate import as_number

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

CONFIRMED, PENDING, FAILED, UNVERIFIABLE = "confirmed", "pending", "failed", "unverifiable"
MAX_PROFILE_READS = 200
MAX_MIXPANEL_READS = 20
READ_CONCURRENCY = 8
_ABSENT = object()


async def verify_changes(
    ws: Workspace,
    changes: list[Change],
    pre_state: dict[str, Any],
    *,
    acked_ids: set[str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """(change id -> status, change id -> note). `acked_ids`: the changes the server acknowledged
    (the expected state is built from those; others — unknown outcomes — are judged against it too,
    which tells whether they took effect)."""
    acked = acked_ids if acked_ids is not None else {c.id for c in changes}
    results: dict[str, str] = {}
    notes: dict[str, str] = {}
    await _verify_mappings(ws, [c for c in changes if c.op in (model.MAP, model.UNMAP)], pre_state, acked,
                           results, notes)
    await _verify_identify(ws, [c for c in changes if c.op == model.IDENTIFY], pre_state, acked, results, notes)
    await _verify_mixpanel(ws, [c for c in changes if c.vendor == model.MIXPANEL], results, notes)
    return results, notes


async def _verify_mappings(ws: Workspace, changes: list[Change], pre_state: dict[str, Any], acked: set[str],
                           results: dict[str, str], notes: dict[str, str]) -> None:
    if not changes:
        return
    before: dict[str, Any] = dict(pre_state.get("mappings") or {})
    expected: dict[str, str | None] = {}
    for change in changes:  # in plan order: the last acknowledged change of a user wins
        if change.id in acked:
            expected[change.user_id] = change.target_id if change.op == model.MAP else None
    users = sorted({c.user_id for c in changes})
    current = await ws.client.amplitude.get_mappings(users)
    for change in changes:
        u = change.user_id
        um = current.get(u)
        now = um.global_user_id if um is not None else None
        own = change.target_id if change.op == model.MAP else None
        want = expected.get(u, own)
        if now == want and (change.id in acked or now == own):
            results[change.id] = CONFIRMED
        elif u in before and now == before[u]:
            results[change.id] = PENDING
            notes[change.id] = f"{u} still shows {before[u] or '(not mapped)'}; the service may not show it yet"
        else:
            results[change.id] = FAILED
            notes[change.id] = f"{u} is mapped to {now or '(nothing)'}; expected {want or '(nothing)'}"


async def _verify_identify(ws: Workspace, changes: list[Change], pre_state: dict[str, Any], acked: set[str],
                           results: dict[str, str], notes: dict[str, str]) -> None:
    if not changes:
        return
    users = list(dict.fromkeys(c.user_id for c in changes))
    now_props, unreadable = await read_properties(ws, users[:MAX_PROFILE_READS])
    pre_props: dict[str, dict[str, Any]] = pre_state.get("properties") or {}
    # the running total each $add should have produced, per (user, key), from the known previous value
    running: dict[tuple[str, str], Any] = {}
    for change in changes:
        u = change.user_id
        if u not in now_props:
            results[change.id] = UNVERIFIABLE
            notes[change.id] = unreadable.get(u, "the profile was not read")
            continue
        now = now_props[u]
        before = pre_props.get(u)
        status, note = _judge(change, now, before, running, change.id in acked)
        results[change.id] = status
        if note:
            notes[change.id] = note


def _judge(change: Change, now: dict[str, Any], before: dict[str, Any] | None,
           running: dict[tuple[str, str], Any], acked: bool) -> tuple[str, str | None]:
    op = change.operation
    props = dict(change.properties)
    if op == "$clearAll":
        return (CONFIRMED, None) if not now else (PENDING, "the user still has properties")
    statuses = []
    for key, value in props.items():
        cur = now.get(key, _ABSENT)
        old = before.get(key, _ABSENT) if before is not None else None
        if op == "$set":
            statuses.append(CONFIRMED if cur == value else (PENDING if cur == old else FAILED))
        elif op == "$setOnce":
            statuses.append(CONFIRMED if cur is not _ABSENT else PENDING)
        elif op == "$unset":
            statuses.append(CONFIRMED if cur is _ABSENT else PENDING)
        elif op == "$add":
            if before is None:
                statuses.append(UNVERIFIABLE)
                continue
            base = running.get((change.user_id, key), as_number(old) if old is not _ABSENT else 0)
            if base is None:
                statuses.append(UNVERIFIABLE)
                continue
            target = base + (as_number(value) or 0)
            if acked:
                running[(change.user_id, key)] = target
            current = as_number(cur) if cur is not _ABSENT else None
            if current is not None and abs(current - target) < 1e-9:
                statuses.append(CONFIRMED)
            elif current is not None and abs(current - base) < 1e-9:
                statuses.append(PENDING)
            else:
                statuses.append(FAILED)
        elif op in ("$append", "$prepend", "$preInsert", "$postInsert"):
            items = value if isinstance(value, list) else [value]
            have = cur if isinstance(cur, list) else ([] if cur is _ABSENT else [cur])
            statuses.append(CONFIRMED if all(i in have for i in items) else PENDING)
        elif op == "$remove":
            items = value if isinstance(value, list) else [value]
            have = cur if isinstance(cur, list) else ([] if cur is _ABSENT else [cur])
            statuses.append(CONFIRMED if not any(i in have for i in items) else PENDING)
        else:
            statuses.append(UNVERIFIABLE)
    for worst in (FAILED, PENDING, UNVERIFIABLE):
        if worst in statuses:
            note = {
                FAILED: "the property shows a value neither from before nor the one asked for",
                PENDING: "the profile does not show it yet",
                UNVERIFIABLE: "the previous value is unknown, so the result cannot be checked",
            }[worst]
            return worst, note
    return CONFIRMED, None


async def _verify_mixpanel(ws: Workspace, changes: list[Change], results: dict[str, str],
                           notes: dict[str, str]) -> None:
    if not changes:
        return
    sem = asyncio.Semaphore(READ_CONCURRENCY)

    async def canonical(distinct_id: str) -> str | None:
        async with sem:
            try:
                return (await ws.client.mixpanel.profile(distinct_id)).distinct_id
            except (NotFound, NotOffered):
                return None

    for change in changes[MAX_MIXPANEL_READS:]:
        results[change.id] = UNVERIFIABLE
        notes[change.id] = f"not read back (only the first {MAX_MIXPANEL_READS} Mixpanel changes are)"

    async def one(change: Change) -> None:
        try:
            a, b = await asyncio.gather(canonical(change.user_id), canonical(change.target_id or ""))
        except IdConsoleError as exc:
            results[change.id] = UNVERIFIABLE
            notes[change.id] = f"could not read the profiles: {exc}"
            return
        if a is None or b is None:
            results[change.id] = UNVERIFIABLE
            notes[change.id] = "Mixpanel has no profile for one of the ids, so the cluster cannot be read"
        elif a == b:
            results[change.id] = CONFIRMED
        else:
            results[change.id] = PENDING
            notes[change.id] = f"the ids still resolve to {a} and {b}"

    await asyncio.gather(*(one(c) for c in changes[:MAX_MIXPANEL_READS]))

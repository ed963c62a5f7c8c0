"""The plan's "Before" for changes that are not mappings, read while planning: the current value of each
property an Identify touches (User Profile API, US), and the Mixpanel cluster each id of an identity
event is in now (engage's canonical id) — with what each will be after, in words both faces show.

`await read_current(workspace, ctx)` → change id → `Current` rows. For the eyes only: apply reads the
pre-state again right before it sends (`prestate.py`), so nothing read here is ever acted on stale.
It never fails a plan and never guesses: what the region, the credentials, the budgets or the clock do
not allow is a row that says `not read: <why>`.

Cost: at most MAX_PROFILE_READS profiles (of 600 a minute) and none while less than a quarter of that
budget is left; at most MAX_MIXPANEL_READS engage reads (the Query API has 60 an hour) and none while
less than half of it is left — the person at the keyboard needs it more than a plan does.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import IdConsoleError, NotFound
from idconsole.changes import model
from idconsole.changes.known_ids import PROFILE_RESERVE_SHARE
from idconsole.changes.model import Change
from idconsole.changes.plan_types import Current
from idconsole.changes.prestate import read_properties
from idconsole.changes.property_ops import MISSING, predict
from idconsole.changes.validate import as_number

if TYPE_CHECKING:
    from idconsole.changes.plan_context import PlanContext
    from idconsole.workspace import Workspace

MAX_PROFILE_READS = 20
MAX_MIXPANEL_READS = 6
QUERY_RESERVE_SHARE = 0.5
READ_TIMEOUT_S = 15.0
NOT_SET = "(not set)"
MIXPANEL_OPS = (model.MP_IDENTIFY, model.MP_ALIAS, model.MP_MERGE)


async def read_current(workspace: Workspace, ctx: PlanContext) -> dict[str, tuple[Current, ...]]:
    changes = ctx.valid_sendable
    identifies = [c for c in changes if c.op == model.IDENTIFY]
    mixpanel = [c for c in changes if c.op in MIXPANEL_OPS]
    (props, unread), clusters = await asyncio.gather(_read_props(workspace, identifies),
                                                     _read_clusters(workspace, mixpanel))
    out: dict[str, tuple[Current, ...]] = {}
    running: dict[str, dict[str, Any]] = {}  # a later change of the same user starts from the earlier's result
    for change in identifies:
        now = running.get(change.user_id, props.get(change.user_id))
        if now is None:
            out[change.id] = _unread_rows(change, unread.get(change.user_id, "not read"))
            continue
        out[change.id] = _property_rows(change, now)
        running[change.user_id] = predict(now, change.operation or "", change.properties)
    for change in mixpanel:
        out[change.id] = _cluster_rows(change, clusters)
    return out


# --- properties ------------------------------------------------------------------------------------

async def _read_props(ws: Workspace, changes: list[Change]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    users = list(dict.fromkeys(c.user_id for c in changes))
    if not users:
        return {}, {}
    why = _profile_room(ws)
    if why is not None:
        return {}, dict.fromkeys(users, why)
    asked = users[:MAX_PROFILE_READS]
    unread = dict.fromkeys(users[MAX_PROFILE_READS:], f"only the first {MAX_PROFILE_READS} users are read")
    try:
        props, failed = await asyncio.wait_for(read_properties(ws, asked), READ_TIMEOUT_S)
    except (IdConsoleError, TimeoutError) as exc:  # never fails the plan
        reason = f"no answer within {READ_TIMEOUT_S:g} s" if isinstance(exc, TimeoutError) else str(exc)
        return {}, {**unread, **dict.fromkeys(asked, reason)}
    return props, {**unread, **failed}


def _profile_room(ws: Workspace) -> str | None:
    if ws.connection.amplitude is None:
        return "no Amplitude credentials"
    if ws.connection.region == "eu" or ws.client.hosts.profile is None:
        return "the User Profile API is not offered in EU"
    budget = ws.client.find_budget("profile")
    if budget is not None and budget.remaining() < max(1, int(budget.limit * PROFILE_RESERVE_SHARE)):
        return f"the user profile budget is low ({budget.remaining()} of {budget.limit} left)"
    return None


def _property_rows(change: Change, now: dict[str, Any]) -> tuple[Current, ...]:
    op = change.operation or ""
    if op == "$clearAll":
        return (Current("all properties", f"{len(now)} properties" if now else "(none)", "(none)"),)
    after = predict(now, op, change.properties)
    rows = []
    for key in change.properties:
        before, result = now.get(key, MISSING), after.get(key, MISSING)
        words = _value(result)
        if result == before:  # the operation would change nothing for this key: say so, and why
            words = f"{words} ({_unchanged_why(op)})"
        rows.append(Current(key, _value(before), words))
    return tuple(rows)


def _unchanged_why(op: str) -> str:
    return {"$set": "no change", "$setOnce": "already set", "$add": "not a number: no change",
            "$unset": "no change", "$remove": "not there: no change"}.get(op, "already there")


def _unread_rows(change: Change, why: str) -> tuple[Current, ...]:
    op = change.operation or ""
    if op == "$clearAll":
        return (Current("all properties", f"not read: {why}", "(none)", read=False),)
    return tuple(Current(key, f"not read: {why}", _asked(op, value), read=False)
                 for key, value in change.properties.items())


def _asked(op: str, value: Any) -> str:
    """What an operation asks for when the current value is unknown."""
    if op == "$set":
        return _value(value)
    if op == "$setOnce":
        return f"{_value(value)} if not set"
    if op == "$add":
        step = as_number(value)
        return f"+{_value(value)}" if step is not None and step >= 0 else f"{_value(value)} added"
    if op == "$unset":
        return NOT_SET
    verb = {"$append": "append", "$prepend": "prepend", "$preInsert": "prepend if missing",
            "$postInsert": "append if missing", "$remove": "remove"}.get(op, op)
    return f"{verb} {_value(value)}"


def _value(value: Any) -> str:
    if value is MISSING:
        return NOT_SET
    return json.dumps(value, ensure_ascii=False, default=str)


# --- Mixpanel clusters ------------------------------------------------------------------------------

async def _read_clusters(ws: Workspace, changes: list[Change]) -> dict[str, str | None | Exception]:
    """id -> its cluster's canonical id, None (no profile), or why it was not read (an exception)."""
    ids = list(dict.fromkeys(i for c in changes for i in (c.user_id, c.target_id or "") if i))
    if not ids:
        return {}
    why = _query_room(ws)
    if why is not None:
        return dict.fromkeys(ids, LookupError(why))
    found: dict[str, str | None | Exception] = dict.fromkeys(
        ids[MAX_MIXPANEL_READS:], LookupError(f"only {MAX_MIXPANEL_READS} ids are read per plan"))

    async def one(distinct_id: str) -> None:
        try:
            found[distinct_id] = (await ws.client.mixpanel.profile(distinct_id)).distinct_id
        except NotFound:
            found[distinct_id] = None
        except IdConsoleError as exc:
            found[distinct_id] = exc

    asked = ids[:MAX_MIXPANEL_READS]
    try:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in asked)), READ_TIMEOUT_S)
    except TimeoutError:
        for i in asked:
            found.setdefault(i, LookupError(f"no answer within {READ_TIMEOUT_S:g} s"))
    return found


def _query_room(ws: Workspace) -> str | None:
    if ws.connection.mixpanel is None:
        return "no Mixpanel credentials"
    budget = ws.client.find_budget("mpquery")
    if budget is not None and budget.remaining() < max(1, int(budget.limit * QUERY_RESERVE_SHARE)):
        return f"saving the Query API budget ({budget.remaining()} of {budget.limit} left this hour)"
    return None


def _cluster_rows(change: Change, clusters: dict[str, str | None | Exception]) -> tuple[Current, ...]:
    a, b = change.user_id, change.target_id or ""
    state_a, state_b = clusters.get(a, LookupError("not read")), clusters.get(b, LookupError("not read"))
    together = isinstance(state_a, str) and state_a == state_b
    if change.op == model.MP_MERGE:
        after_a = after_b = "unchanged: already one cluster" if together else None
        # (irreversible: the change's own line and the plan's Irreversible section say it, in full)
        after_a = after_a or f"one cluster with {b}"
        after_b = after_b or f"one cluster with {a}"
    elif change.op == model.MP_IDENTIFY:
        after_a = "unchanged: already one cluster" if together else f"identified as {b}"
        after_b = "unchanged: already one cluster" if together else f"takes in {a}"
    else:  # alias
        after_a = "unchanged: already one cluster" if together else f"alias of {b}"
        after_b = "unchanged: already one cluster" if together else f"gains the alias {a}"
    return (_cluster_row(a, state_a, after_a), _cluster_row(b, state_b, after_b))


def _cluster_row(distinct_id: str, state: str | None | Exception, after: str) -> Current:
    if isinstance(state, Exception):
        return Current(distinct_id, f"not read: {_short(state)}", after, read=False)
    if state is None:
        return Current(distinct_id, "no profile (no cluster seen)", after)
    if state == distinct_id:
        return Current(distinct_id, "its own cluster", after)  # engage answers with this id as canonical
    return Current(distinct_id, f"in the cluster of {state}", after)


def _short(exc: Exception) -> str:
    text = exc.message if isinstance(exc, IdConsoleError) else str(exc)
    return text.strip().rstrip(".") or type(exc).__name__


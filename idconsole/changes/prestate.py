"""What apply reads before it sends: each mapped/unmapped user's current global id and the identify
targets' user properties — recorded in the journal for undo, and the baseline verification compares to."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import (
    AuthError,
    BadInput,
    NotFound,
    NotOffered,
    ServerRejected,
    Throttled,
    Unavailable,
)
from idconsole.changes import model
from idconsole.changes.model import Change

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

#: how many Amplitude profiles apply reads for the pre-state (undo) and for verification
MAX_PROFILE_READS = 200
READ_CONCURRENCY = 8


async def read_pre_state(ws: Workspace, changes: list[Change]) -> dict[str, Any]:
    """What undo needs: each mapped/unmapped user's current global id, and the current user
    properties of identify targets where the Profile API can read them. AuthError / Unavailable on the
    mappings propagate (apply then sends nothing); profile failures are noted per user."""
    users = sorted({c.user_id for c in changes if c.op in (model.MAP, model.UNMAP)})
    mappings: dict[str, str | None] = {}
    if users:
        found = await ws.client.amplitude.get_mappings(users)
        for uid in users:
            um = found.get(uid)
            mappings[uid] = um.global_user_id if um is not None else None
    properties: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    targets = list(dict.fromkeys(c.user_id for c in changes if c.op == model.IDENTIFY))
    if targets:
        props, unreadable = await read_properties(ws, targets)
        properties.update(props)
    return {
        "mappings": mappings,
        "mappings_read": bool(users),
        "properties": properties,
        "properties_unreadable": unreadable,
    }


async def read_properties(ws: Workspace, users: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """user -> user_properties (a user Amplitude has not seen reads as {}), and user -> why unreadable."""
    props: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    if ws.connection.amplitude is None:
        return props, {u: "no Amplitude credentials" for u in users}
    if ws.connection.region == "eu":
        return props, {u: "the User Profile API is not offered in EU" for u in users}
    for u in users[MAX_PROFILE_READS:]:
        unreadable[u] = f"not read (only the first {MAX_PROFILE_READS} profiles are read)"
    sem = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(user: str) -> None:
        async with sem:
            try:
                profile = await ws.client.amplitude.profile(user, cohort_ids=False)
            except NotFound:
                props[user] = {}
            except NotOffered as exc:
                unreadable[user] = str(exc)
            except (AuthError, Unavailable, Throttled, ServerRejected, BadInput) as exc:
                unreadable[user] = f"{exc.kind}: {exc}"
            else:
                props[user] = dict(profile.user_properties)

    await asyncio.gather(*(one(u) for u in users[:MAX_PROFILE_READS]))
    return props, unreadable

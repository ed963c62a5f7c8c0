"""`idconsole lookup ID... [--by user|device|amplitude|search] [--json]` — Amplitude mappings.

`--by user` (default) asks User Mapping for the ids directly. `device`, `amplitude` and `search` first
resolve each id through User search (360 queries/hour; results cached) to user ids; ids that match no
user are reported on stderr, the rest still printed, exit 1.

JSON (stdout): `{USER_ID: {"mapped_to": [{"user_id", "amplitude_id"}], "mapped_from": [...]}}`.
"""

from __future__ import annotations

from typing import Any

from idconsole.api.errors import BadInput
from idconsole.headless.open_workspace import run_async
from idconsole.headless.output import mappings_lines, note, print_json, visible, write
from idconsole.workspace import Workspace

EXIT_OK, EXIT_SOME_MISSING = 0, 1


def run(ns: Any) -> int:
    _check_ids(ns.ids, ns.by)
    return run_async(lookup, ns)


def _check_ids(ids: list[str], by: str) -> None:
    for raw in ids:
        if raw == "" or raw.isspace():
            raise BadInput("An empty id cannot be looked up.")
        if by == "amplitude" and not raw.strip().isdigit():
            raise BadInput(f"Amplitude ids are numbers: {visible(raw, limit=80)!s} is not one.",
                           hint="Use --by search to look up any kind of id.")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _amplitude(ws: Workspace):
    if ws.connection.amplitude is None:
        raise BadInput(
            f"Profile {ws.connection.name!r} has no Amplitude credentials; lookup needs Amplitude.",
            hint="Add them with `idconsole profiles add NAME --vendor amplitude`.",
        )
    return ws.client.amplitude


def _budget_note(ws: Workspace) -> None:
    try:
        budgets = ws.client.budgets()
    except Exception:  # the note is a courtesy; never fail a lookup over it
        return
    for b in budgets:
        if b.family == "usersearch":
            window = "hour" if b.window_s == 3600 else f"{b.window_s:g} s"
            note(f"User search budget: {b.remaining} of {b.limit} per {window} left.")


async def lookup(ws: Workspace, ns: Any) -> int:
    amplitude = _amplitude(ws)
    queries = _unique([q.strip() if ns.by == "amplitude" else q for q in ns.ids])
    resolved: dict[str, list[str]] = {}
    unresolved: list[str] = []

    if ns.by == "user":
        user_ids = queries
    else:
        for query in queries:
            result = await amplitude.search(query)
            users = _unique([m.user_id for m in result.matches if m.user_id])
            resolved[query] = users
            if not users:
                unresolved.append(query)
                anonymous = [m.amplitude_id for m in result.matches if not m.user_id and m.amplitude_id is not None]
                why = (f"it matches only Amplitude id(s) without a user id: {', '.join(map(str, anonymous))}"
                       if anonymous else "no user matches it")
                note(f"idconsole: {visible(query)}: {why}.")
        user_ids = _unique([u for users in resolved.values() for u in users])
        _budget_note(ws)

    mappings = await amplitude.get_mappings(user_ids) if user_ids else {}
    document = {}
    for uid in user_ids:
        entry = mappings.get(uid)
        document[uid] = entry.to_json() if entry is not None else {"mapped_to": [], "mapped_from": []}

    if ns.json:
        print_json(document)
    else:
        from idconsole.api.models import UserMappings

        blocks: list[str] = []
        if ns.by != "user":
            for query, users in resolved.items():
                if users:
                    blocks.append(f"{visible(query)} → {', '.join(visible(u) for u in users)}")
            if blocks:
                blocks.append("")
        for uid in user_ids:
            blocks += mappings_lines(uid, mappings.get(uid) or UserMappings(user_id=uid))
        for line in blocks:
            write(line)
    if unresolved:
        note(f"idconsole: {len(unresolved)} of {len(queries)} id(s) matched no user.")
        return EXIT_SOME_MISSING
    return EXIT_OK

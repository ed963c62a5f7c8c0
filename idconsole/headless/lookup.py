"""`idconsole lookup ID... [--by user|device|amplitude|search] [--json]` — who an id is, and its chain.

Every id goes through the one lookup the console's Lookup screen runs (`idconsole.identity.lookup`):
User Mapping first (all ids in one batch), User search only for an id that has no mappings (360
queries/hour; answers cached), then the chain upward from the user it resolved to, cycles marked.
`--by` forces one method: `user` never searches, `device` / `amplitude` / `search` only search.

JSON (stdout), keyed by the ids as given: `{ID: {"mapped_to": [{"user_id", "amplitude_id"}],
"mapped_from": [...], "resolved": {"user_id", "amplitude_id", "by"} | null, "chain": [user ids followed
upward, the resolved user first], "cycle": bool}}`; `mapped_to` / `mapped_from` are the resolved user's.
An id matching several users has `resolved` null and `"matches": [{"user_id", "amplitude_id"}]`.
`--after-staged` adds each user's identity after the staged changes (`"after_staged"`, headless/lookup_after.py).

Exit 5 when any id is unknown to Amplitude (the whole document is still printed, the unknown ids in it
with `resolved` null); an anonymous or ambiguous id is known (exit 0, a note on stderr says what to do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idconsole.api.errors import BadInput
from idconsole.api.models import UserMappings
from idconsole.headless.lookup_after import after_lines, after_states
from idconsole.headless.lookup_mixpanel import lookup_mixpanel
from idconsole.headless.open_workspace import run_async
from idconsole.headless.output import mappings_lines, note, print_json, visible, write
from idconsole.identity.lookup import Lookup, look_up_many, search_ahead_allowed, search_budget_of
from idconsole.identity.resolve import (
    AMBIGUOUS,
    ANONYMOUS,
    BY_AMPLITUDE,
    BY_DEVICE,
    BY_SEARCH,
    BY_USER,
    UNKNOWN,
    check_query,
)
from idconsole.identity.vendor_choice import MIXPANEL, pick_vendor
from idconsole.workspace import Workspace

if TYPE_CHECKING:
    from idconsole.api.amplitude import AmplitudeApi

EXIT_OK, EXIT_UNKNOWN = 0, 5

#: "resolved:" words per method (how the id led to its user)
BY_WORDS = {BY_USER: "user id", BY_DEVICE: "device id", BY_AMPLITUDE: "Amplitude id", BY_SEARCH: "search match"}
LABEL_WIDTH = 15  # as mappings_lines pads "  mapped from:"


def run(ns: Any) -> int:
    _check_ids(ns.ids, ns.by)
    return run_async(_lookup_vendor, ns)


async def _lookup_vendor(ws: Workspace, ns: Any) -> int:
    """`--vendor mixpanel` (or a default that says so): the Mixpanel face, headless/lookup_mixpanel.py."""
    if pick_vendor(ws, getattr(ns, "vendor", None)) == MIXPANEL:
        return await lookup_mixpanel(ws, ns)
    return await lookup(ws, ns)


def _check_ids(ids: list[str], by: str | None) -> None:
    for raw in ids:
        check_query(raw)
        if by == BY_AMPLITUDE and not raw.strip().isdigit():
            raise BadInput(f"Amplitude ids are numbers: {visible(raw, limit=80)!s} is not one.",
                           hint="Use --by search to look up any kind of id.")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _amplitude(ws: Workspace) -> AmplitudeApi:
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
            note(f"idconsole: User search budget: {b.remaining} of {b.limit} per {window} left.")


async def look_up_all(ws: Workspace, ids: list[str], *, by: str | None = None) -> dict[str, Lookup]:
    """Each id's lookup, in order (duplicates once), side by side: the mappings of all ids go out in one
    batch, then each round's next hops together, and every answer is shared, so a chain step another id
    already showed is not asked again. One id without `--by` sends its search ahead, as the console does."""
    amplitude = _amplitude(ws)
    queries = _unique([q.strip() if by == BY_AMPLITUDE else q for q in ids])
    ahead = search_ahead_allowed(by, search_budget_of(ws.client.budgets), len(queries))
    return await look_up_many(amplitude, queries, by=by, search_ahead=ahead)


async def lookup(ws: Workspace, ns: Any) -> int:
    found = await look_up_all(ws, ns.ids, by=ns.by)
    if any(f.searched for f in found.values()):
        _budget_note(ws)
    after = after_states(ws, found) if getattr(ns, "after_staged", False) else None
    if ns.json:
        documents = {query: f.to_json() for query, f in found.items()}
        for query, state in (after or {}).items():
            documents[query]["after_staged"] = state.to_json() if state is not None else None
        print_json(documents)
    else:
        blocks: list[str] = []
        for query, f in found.items():
            if blocks:
                blocks.append("")
            blocks += lookup_lines(f)
            blocks += after_lines(after.get(query)) if after is not None else []
        for line in blocks:
            write(line)
    for f in found.values():
        _explain(f)
    unknown = [q for q, f in found.items() if f.resolution.outcome == UNKNOWN]
    if unknown and len(found) > 1:
        note(f"idconsole: {len(unknown)} of {len(found)} ids are unknown to Amplitude.")
    return EXIT_UNKNOWN if unknown else EXIT_OK


def _explain(f: Lookup) -> None:
    """A note on stderr for every id that did not resolve to one user."""
    query, resolution = visible(f.query), f.resolution
    if resolution.outcome == UNKNOWN:
        note(f"idconsole: {query}: unknown to Amplitude (no mappings, no user search match).")
    elif resolution.outcome == ANONYMOUS:
        note(f"idconsole: {query}: an anonymous user (Amplitude id {resolution.amplitude_id}) without a "
             "user id, so without mappings; `idconsole profile ID --device` shows its profile.")
    elif resolution.outcome == AMBIGUOUS:
        note(f"idconsole: {query}: {len(resolution.matches)} users match it; look one up by its user id.")


def _label(text: str) -> str:
    return f"  {text}:".ljust(LABEL_WIDTH)


def _amp(amplitude_id: int | None, gap: str = " ") -> str:
    return f"{gap}(amplitude id {amplitude_id})" if amplitude_id is not None else ""


def lookup_lines(f: Lookup) -> list[str]:
    """One id's block: how it resolved, the whole chain, then its user's mappings."""
    resolution = f.resolution
    lines = [visible(f.query)]
    if resolution.outcome == UNKNOWN:
        return [*lines, f"{_label('resolved')}(unknown: no mappings, no user search match)"]
    if resolution.outcome == ANONYMOUS:
        words = BY_WORDS.get(resolution.by or "", "search match")
        return [*lines, f"{_label('resolved')}{words} of an anonymous user{_amp(resolution.amplitude_id)}, "
                        "no user id (so no mappings)"]
    if resolution.outcome == AMBIGUOUS:
        lines.append(f"{_label('resolved')}(several users match; look one up by its user id)")
        lines += [f"{' ' * LABEL_WIDTH}{visible(m.user_id or '')}{_amp(m.amplitude_id, '  ')}"
                  for m in resolution.matches]
        return lines
    user_id = f.user_id or ""
    how = BY_WORDS.get(resolution.by or "", resolution.by or "")
    if user_id == f.query:
        lines.append(f"{_label('resolved')}{how}{_amp(f.amplitude_id)}")
    else:
        lines.append(f"{_label('resolved')}{how} of user {visible(user_id)}{_amp(f.amplitude_id)}")
    chain = f.chain
    if chain is None or (not chain.steps and chain.cycle_to is None):
        lines.append(f"{_label('chain')}(none: maps into nothing)")
    else:
        text = chain.describe(visible)
        if chain.cycle_to is not None:
            text += "  (a cycle: shown once, never followed again)"
        elif chain.is_chain:
            text += "  (a chain: Amplitude resolves nothing transitively)"
        lines.append(f"{_label('chain')}{text}")
    lines += mappings_lines(user_id, f.mappings or UserMappings(user_id))[1:]
    return lines

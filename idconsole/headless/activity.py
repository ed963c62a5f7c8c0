"""`idconsole activity ID [--all-ids] [--limit N] [--vendor amplitude|mixpanel] [--json]` — where a user's
events are: the events of the user (with `--all-ids`, of every id of its identity tree) merged newest first,
each tagged with its user id, device and platform, with the places the identity changed.

The engine is the console's (`identity.activity`, `identity.timeline`); this is only its command-line face.

- Amplitude: the id is resolved as `lookup` resolves it. `--limit N` (default 1000) is the most events
  shown; each id's stream is read up to N events (a 1000-event page costs one of the 360 requests an hour
  user search and user activity share). The cost is said on stderr before anything is read. If it does not
  fit what is left of the budget the command refuses (exit 2) — unless `--limit` is given: then the ids
  are read in order (the user, its chain, what maps into it) while the budget has room, the rest are listed
  as not fetched, and `truncated` is true.
- Mixpanel: the events of the id's identity cluster (engage + one stream query of the Query API's 60/hour);
  `--all-ids` changes nothing there (the query covers the cluster).

JSON (stdout): `{"ids": [{"user_id", "amplitude_id", "first_seen", "last_seen", "events", "sessions",
"device_ids", ...}], "events": [{"time", "event_type", "user_id", "device_id", "amplitude_id", "session_id",
"platform"}], "truncated": bool, "markers": [...], "devices": [...], "not_fetched": [...], "cost": {...}}`.
No event property values, ever. Exit 5 for an id the vendor does not know (`{"error": ...}` under --json);
an id matching several users is bad input (exit 2: look one up by its user id).
"""

from __future__ import annotations

from typing import Any

from idconsole.api.errors import BadInput
from idconsole.headless.errors import EXIT_NOT_FOUND, EXIT_OK
from idconsole.headless.open_workspace import run_async
from idconsole.headless.output import note, print_json, visible, write
from idconsole.identity.activity import (
    DEFAULT_MAX_EVENTS,
    ActivityResult,
    estimate,
    fetch_activity,
    targets_of,
)
from idconsole.identity.lookup import look_up
from idconsole.identity.mixpanel_lookup import QUERY_COST, as_stream, look_up_mixpanel
from idconsole.identity.resolve import AMBIGUOUS, UNKNOWN, check_query
from idconsole.identity.timeline import EVENT, IdHeader, Row, Timeline, build_timeline, mapping_records
from idconsole.identity.vendor_choice import MIXPANEL, pick_vendor
from idconsole.workspace import Workspace


def run(ns: Any) -> int:
    check_query(ns.id)
    if ns.limit is not None and ns.limit < 1:
        raise BadInput(f"--limit must be 1 or more, not {ns.limit}.")
    return run_async(show_activity, ns)


def not_found(ns: Any, message: str) -> int:
    note(f"idconsole: {message}")
    if ns.json:
        print_json({"error": {"kind": "not_found", "message": message}})
    return EXIT_NOT_FOUND


async def show_activity(ws: Workspace, ns: Any) -> int:
    if pick_vendor(ws, ns.vendor) == MIXPANEL:
        return await _mixpanel(ws, ns)
    client = ws.client
    found = await look_up(client.amplitude, ns.id)
    outcome = found.resolution.outcome
    if outcome == UNKNOWN:
        return not_found(ns, f"Amplitude does not know {visible(ns.id, limit=200)} (no mappings, no user search match).")
    if outcome == AMBIGUOUS:
        names = ", ".join(visible(m.user_id or "", limit=80) for m in found.resolution.matches[:5])
        raise BadInput(f"{visible(ns.id, limit=200)} matches {len(found.resolution.matches)} users ({names}).",
                       hint="Ask for one of them by its user id.")
    limit = ns.limit or DEFAULT_MAX_EVENTS
    targets = targets_of(found, all_ids=ns.all_ids)
    cost = estimate(client, targets, max_events=limit)
    note(f"idconsole: {cost.sentence()}")
    if not cost.fits and ns.limit is None:
        raise BadInput(f"{cost.sentence()} That is more than is left, so nothing was read.",
                       hint="Add --limit N to read what the budget allows (the user and its chain first), "
                            "or leave out --all-ids.")
    result = await fetch_activity(client, targets, max_events=limit, within_budget=ns.limit is not None)
    ids = [t.user_id for t in targets if t.user_id]
    timeline = build_timeline(result.streams, labels=result.labels, journal=mapping_records(ws.journal.entries(), ids))
    return _show(ns, timeline, limit, result, cost.to_json())


async def _mixpanel(ws: Workspace, ns: Any) -> int:
    client = ws.client
    budget = client.budget("mpquery")
    note(f"idconsole: Reading the cluster's events costs {QUERY_COST} requests of the Mixpanel Query API budget "
         f"({budget.limit} per hour, {budget.remaining()} left).")
    if budget.remaining() < QUERY_COST:
        raise BadInput(f"The Mixpanel Query API budget has {budget.remaining()} requests left; reading this "
                       f"cluster needs {QUERY_COST}, so nothing was read.", hint="Try again later in the hour.")
    if ns.all_ids:
        note("idconsole: --all-ids: Mixpanel's stream query already covers every id of the cluster.")
    found = await look_up_mixpanel(client, ns.id)
    if found.activity_note:
        note(f"idconsole: {visible(found.activity_note, limit=400)}")
    if not found.known:
        return not_found(ns, f"Mixpanel has no profile and no events for {visible(ns.id, limit=200)}.")
    timeline = build_timeline([as_stream(found)], labels=[found.canonical_id or ns.id])
    cost = {"requests": found.requests, "budget": "mpquery", "remaining": budget.remaining(), "limit": budget.limit}
    return _show(ns, timeline, ns.limit or DEFAULT_MAX_EVENTS, None, cost)


def _show(ns: Any, timeline: Timeline, limit: int, result: ActivityResult | None, cost: dict[str, Any]) -> int:
    rows = _rows(timeline, limit)
    events = [r for r in rows if r.kind == EVENT]
    missing = result.missing if result is not None else []
    truncated = timeline.truncated or timeline.event_count > len(events) or bool(missing)
    for item in missing:
        note(f"idconsole: {visible(item.target.label, limit=200)}: {item.note}")
    if ns.json:
        document = timeline.to_json()
        document["events"] = [r.event.to_json() for r in events if r.event is not None]
        document.update(truncated=truncated, not_fetched=[i.to_json() for i in missing], cost=cost)
        print_json(document)
        return EXIT_OK
    for header in timeline.headers:
        for line in header_lines(header):
            write(line)
    shared = [d for d in timeline.devices if d.shared]
    for device in shared:
        write(f"shared device {visible(device.device_id)}: seen under {len(device.user_ids)} user ids")
    write("")
    for row in rows:
        write(row_line(row))
    if truncated:
        note(f"idconsole: showing {len(events)} of the events read (newest first); more exist "
             "(raise --limit, or read the rest in the console).")
    return EXIT_OK


def _rows(timeline: Timeline, limit: int) -> list[Row]:
    """Rows newest first until `limit` events (markers between them kept)."""
    out: list[Row] = []
    count = 0
    page = 0
    view = timeline.view()
    while True:
        got = view.page(page)
        for row in got.rows:
            if row.kind == EVENT:
                if count >= limit:
                    return out
                count += 1
            out.append(row)
        if not got.has_more:
            return out
        page += 1


def header_lines(header: IdHeader) -> list[str]:
    amp = f" (amplitude id {header.amplitude_id})" if header.amplitude_id is not None else ""
    cut = f", the newest {header.fetched} read" if header.truncated else ""
    devices = ", ".join(visible(d) for d in header.device_ids) or "(none)"
    return [f"{visible(header.user_id or '(no user id)')}{amp}: {header.events} events, {header.sessions} sessions, "
            f"first seen {header.first_seen or '?'}, last seen {header.last_seen or '?'}{cut}",
            f"  devices: {devices}"]


def _when(row: Row) -> str:
    if row.time is not None:
        return row.time.strftime("%Y-%m-%d %H:%M:%S")
    text = row.event.time_text if row.event is not None else None
    return visible(text or "(no time)", limit=19)


def row_line(row: Row) -> str:
    """One line per row; every field from the API shown literally (`visible`)."""
    if row.marker is not None:
        return f"{_when(row)}  ── {row.marker.describe(visible)}"
    event = row.event
    assert event is not None
    user = visible(event.user_id) if event.user_id else "(no user id)"
    return (f"{_when(row)}  {visible(event.event_type, limit=40):<40}  user {user}  "
            f"device {visible(event.device_id or '(none)')}  {visible(event.platform or '')}").rstrip()

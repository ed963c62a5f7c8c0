"""`idconsole lookup ID... --vendor mixpanel [--json]` — Mixpanel distinct ids, first class.

Per id (`identity.mixpanel_lookup`): the cluster's canonical id and properties (engage), and the distinct
ids OBSERVED in the cluster's events (Profile Event Activity) — Mixpanel lists no cluster, so they are
labelled observed. Works for ids Amplitude has never seen (the phone's `$device:...` id). Each id costs two
requests of the Mixpanel Query API's 60 an hour; the cost is said on stderr first, and a set of ids that does
not fit what is left is refused (exit 2) before anything is read.

JSON (stdout), keyed by the ids as given: `{ID: {"canonical_id", "observed_ids": [...], "properties", ...}}`.
Exit 5 when any id is unknown to Mixpanel (no profile and no events); the whole document is still printed.
"""

from __future__ import annotations

from typing import Any

from idconsole.api.errors import BadInput
from idconsole.headless.errors import EXIT_NOT_FOUND, EXIT_OK
from idconsole.headless.output import mixpanel_profile_lines, note, print_json, visible, write
from idconsole.identity.mixpanel_lookup import QUERY_COST, MixpanelLookup, look_up_mixpanel
from idconsole.workspace import Workspace


async def lookup_mixpanel(ws: Workspace, ns: Any) -> int:
    if getattr(ns, "by", None) is not None:
        raise BadInput("--by applies to Amplitude lookups only.",
                       hint="Mixpanel looks an id up by any distinct id of its cluster.")
    ids = list(dict.fromkeys(ns.ids))
    budget = ws.client.budget("mpquery")
    need = QUERY_COST * len(ids)
    note(f"idconsole: Looking up {len(ids)} Mixpanel id(s) costs {need} requests of the Query API budget "
         f"({budget.limit} per hour, {budget.remaining()} left).")
    if need > budget.remaining():
        raise BadInput(f"That is more than the {budget.remaining()} requests left, so nothing was read.",
                       hint="Look up fewer ids, or try again later in the hour.")
    found = {query: await look_up_mixpanel(ws.client, query) for query in ids}
    if ns.json:
        print_json({query: f.to_json() for query, f in found.items()})
    else:
        for n, f in enumerate(found.values()):
            if n:
                write("")
            for line in lines(f):
                write(line)
    for f in found.values():
        if f.activity_note:
            note(f"idconsole: {visible(f.activity_note, limit=400)}")
        if not f.known:
            note(f"idconsole: {visible(f.query, limit=200)}: unknown to Mixpanel (no profile, no events).")
    return EXIT_NOT_FOUND if any(not f.known for f in found.values()) else EXIT_OK


def lines(found: MixpanelLookup) -> list[str]:
    out = [visible(found.query)]
    if not found.known:
        return [*out, "  (unknown: no profile, no events)"]
    if found.profile is not None:
        out += ["  " + line for line in mixpanel_profile_lines(found.profile)]
    else:
        out.append("  canonical id: (no profile: the cluster has events but no properties)")
    observed = ", ".join(visible(i) for i in found.observed_ids) or "(none)"
    devices = ", ".join(visible(d) for d in found.observed_device_ids) or "(none)"
    out.append(f"  observed ids: {observed}  (seen in the cluster's {found.events} events; Mixpanel lists no "
               "cluster, so there may be more)")
    out.append(f"  observed device ids: {devices}")
    return out

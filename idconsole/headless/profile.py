"""`idconsole profile ID [--device] [--recs REC_ID,...] [--vendor amplitude|mixpanel] [--json]`.

Amplitude (default when the connection has it): the User Profile API — not offered in EU (NotOffered,
exit 2, nothing sent). Mixpanel: the engage profile; `distinct_id` is the cluster's canonical id.
Unknown user: a clear message, exit 5 (the contract's "an id the vendor does not know"); with `--json`
the document `{"error": {"kind": "not_found", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from idconsole.api.errors import BadInput, NotFound
from idconsole.headless.errors import EXIT_NOT_FOUND, EXIT_OK
from idconsole.headless.open_workspace import run_async
from idconsole.headless.output import (
    amplitude_profile_lines,
    mixpanel_profile_lines,
    note,
    print_json,
    visible,
    write,
)
from idconsole.workspace import Workspace


def run(ns: Any) -> int:
    if ns.id == "" or ns.id.isspace():
        raise BadInput("An empty id cannot be looked up.")
    parse_recs(ns.recs)
    return run_async(show_profile, ns)


def parse_recs(text: str | None) -> list[str]:
    if text is None:
        return []
    recs = [r.strip() for r in text.split(",")]
    recs = [r for r in recs if r]
    if not recs:
        raise BadInput("--recs needs at least one recommendation id (REC_ID,REC_ID,...).")
    return list(dict.fromkeys(recs))


def choose_vendor(ws: Workspace, requested: str | None) -> str:
    conn = ws.connection
    if requested is None:
        if conn.amplitude is not None:
            return "amplitude"
        if conn.mixpanel is not None:
            return "mixpanel"
        raise BadInput(f"Profile {conn.name!r} has no vendor credentials.")
    if getattr(conn, requested) is None:
        label = "Amplitude" if requested == "amplitude" else "Mixpanel"
        raise BadInput(
            f"Profile {conn.name!r} has no {label} credentials.",
            hint=f"Add them with `idconsole profiles add NAME --vendor {requested}`.",
        )
    return requested


async def show_profile(ws: Workspace, ns: Any) -> int:
    vendor = choose_vendor(ws, ns.vendor)
    user = visible(ns.id, limit=200)
    try:
        if vendor == "amplitude":
            kind = "device id" if ns.device else "user id"
            recs = parse_recs(ns.recs)
            if ns.device:
                amp = await ws.client.amplitude.profile(device_id=ns.id, rec_ids=recs)
            else:
                amp = await ws.client.amplitude.profile(user_id=ns.id, rec_ids=recs)
            document, lines = amp.to_json(), amplitude_profile_lines(amp)
        else:
            if ns.device or ns.recs:
                raise BadInput("--device and --recs apply to Amplitude profiles only.",
                               hint="Mixpanel looks a profile up by any distinct id of its cluster.")
            kind = "distinct id"
            mp = await ws.client.mixpanel.profile(ns.id)
            document, lines = mp.to_json(), mixpanel_profile_lines(mp)
    except NotFound:
        label = "Amplitude" if vendor == "amplitude" else "Mixpanel"
        message = f"{label} has no user with {kind} {user}."
        note(f"idconsole: {message}")
        if ns.json:
            print_json({"error": {"kind": "not_found", "message": message}})
        return EXIT_NOT_FOUND
    if ns.json:
        print_json(document)
    else:
        for line in lines:
            write(line)
    return EXIT_OK

"""`idconsole report ID [--json] [--journal ID]` — the investigation summary to paste into the ticket.

The report is the console's (`identity.report`): the ids and how they resolve, the identity tree, an
activity summary per id, where the identity changed, and the staged plan (when it concerns this user) or,
with `--journal ID`, that journal entry (its requests, outcome and verification). Markdown on stdout
(progress and notes on stderr), or with `--json` one JSON document of the same facts.

Credentials, event property values, user property values and staged property values are left out; the
text is scrubbed once more with the workspace's redactor. Exit 5 when Amplitude does not know the id
(`{"error": {"kind": "not_found", ...}}` under --json), 2 for a journal id that matches no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idconsole.headless.activity import not_found
from idconsole.headless.errors import EXIT_OK
from idconsole.headless.open_workspace import run_async, workspace_redactor
from idconsole.headless.output import note, print_json, visible, write
from idconsole.identity.report import MAX_IDS, build_report, to_markdown
from idconsole.identity.resolve import check_query
from idconsole.workspace import Workspace


def run(ns: Any) -> int:
    check_query(ns.id)
    return run_async(show_report, ns)


def redacted(value: Any, redact: Callable[[str], str]) -> Any:
    """Every string of a JSON document passed through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redacted(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v, redact) for v in value]
    return value


async def show_report(ws: Workspace, ns: Any) -> int:
    journal_id = getattr(ns, "journal", None)
    note(f"idconsole: a report reads one page of user activity for each of up to {MAX_IDS} ids of the tree "
         "(one request each of the 360-an-hour user search and activity budget, as far as it has room).")
    report = await build_report(ws, ns.id, journal_id=journal_id)
    if not report.known:
        return not_found(ns, f"Amplitude does not know {visible(ns.id, limit=200)} (no mappings, no user search match).")
    redact = workspace_redactor(ws)
    if ns.json:
        print_json(redacted(report.to_json(), redact))
        return EXIT_OK
    for line in to_markdown(report, redact=redact).splitlines():
        write(line)
    return EXIT_OK

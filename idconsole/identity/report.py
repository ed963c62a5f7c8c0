"""The report for the ticket: a Markdown summary a support engineer pastes into the ticket, and its JSON.
Textual-free; `idconsole report ID` and the console's report key both build it here.

    report = await build_report(workspace, "hank@globex.net", journal_id=None)
    text = to_markdown(report, redact=workspace_redactor)      # or report.to_json()

What it says: the ids and how they resolve, the identity tree (chain upward, what is mapped into it), an
activity summary per id (first/last seen, events, sessions, devices; shared devices flagged), where the
identity changed (a device's first event under a new user id, journal mappings), then either the staged
plan (not sent: changes, warnings, the exact requests) or a journal entry (its requests, outcome and
verification).

What it leaves out, on purpose: credentials (and the redactor the face passes scrubs the text once more),
every event property and user property value, event types, and the values of staged identify changes
(their keys are listed). Ids are the point of the report and are kept, each in a code span so no id can
become Markdown, a link or HTML; control and invisible characters are made visible.

Cost: the lookup, then one page of user activity per id of the tree (at most `MAX_IDS` ids, within the
user search + activity budget: what does not fit is listed as not fetched), and a plan's own lookups.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idconsole.changes.journal_entry import JournalEntry
from idconsole.changes.kinds import IDENTIFY, MAP, MP_ALIAS, MP_IDENTIFY, MP_MERGE, UNMAP
from idconsole.changes.model import Change
from idconsole.changes.plan import build_plan
from idconsole.changes.plan_types import Plan
from idconsole.identity.activity import ActivityResult, fetch_activity, targets_of
from idconsole.identity.lookup import Lookup, look_up
from idconsole.identity.resolve import (
    AMBIGUOUS,
    ANONYMOUS,
    BY_AMPLITUDE,
    BY_DEVICE,
    BY_SEARCH,
    BY_USER,
    UNKNOWN,
)
from idconsole.identity.timeline import Timeline, build_timeline, mapping_records
from idconsole.untrusted import visible

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

#: ids of the tree whose activity a report reads (the user, its chain, then what maps into it)
MAX_IDS = 10
#: events read per id (one page: one unit of the budget)
EVENTS_PER_ID = 1000
#: children of the root listed by name
MAX_LISTED = 20
LEFT_OUT = ("Credentials, event property values, user property values, event types and the values of "
            "staged property changes are left out of this report.")
BY_WORDS = {BY_USER: "user id", BY_DEVICE: "device id", BY_AMPLITUDE: "Amplitude id", BY_SEARCH: "search match"}


@dataclass
class Report:
    query: str
    profile: str
    region: str
    generated_at: str
    lookup: Lookup
    activity: ActivityResult | None = None
    timeline: Timeline | None = None
    plan: Plan | None = None
    journal: JournalEntry | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.lookup.resolution.outcome != UNKNOWN

    def to_json(self) -> dict[str, Any]:
        """`idconsole report --json`: the same facts as the Markdown, no event or property values."""
        timeline = self.timeline
        return {
            "query": self.query, "profile": self.profile, "region": self.region, "generated_at": self.generated_at,
            "lookup": self.lookup.to_json(),
            "ids": [h.to_json() for h in timeline.headers] if timeline is not None else [],
            "not_fetched": [i.to_json() for i in self.activity.missing] if self.activity is not None else [],
            "devices": [d.to_json() for d in timeline.devices] if timeline is not None else [],
            "identity_changes": [m.to_json() for m in timeline.markers] if timeline is not None else [],
            "plan": _plan_json(self.plan) if self.plan is not None else None,
            "journal": _journal_json(self.journal) if self.journal is not None else None,
            "left_out": LEFT_OUT, "notes": list(self.notes),
        }


# --- building it ------------------------------------------------------------------------------------------


async def build_report(workspace: Workspace, query: str, *, journal_id: str | None = None,
                       max_ids: int = MAX_IDS, with_plan: bool = True) -> Report:
    """Look `query` up, read the tree's activity within the budget, add the journal entry `journal_id`
    (BadInput if there is none) or else the staged plan (when anything is staged)."""
    client = workspace.client
    journal = workspace.journal.require(journal_id) if journal_id is not None else None
    found = await look_up(client.amplitude, query)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report = Report(query, workspace.connection.name, workspace.connection.region, now, found, journal=journal)
    if not report.known:
        return report
    targets = targets_of(found, all_ids=True)
    if len(targets) > max_ids:
        report.notes.append(f"{len(targets) - max_ids} more ids of the tree were not read (a report reads at most "
                            f"{max_ids}); `idconsole activity ID --all-ids` reads them all.")
        targets = targets[:max_ids]
    if targets:
        report.activity = await fetch_activity(client, targets, max_events=EVENTS_PER_ID, within_budget=True)
        ids = [t.user_id for t in targets if t.user_id]
        records = mapping_records(workspace.journal.entries(), ids)
        report.timeline = build_timeline(report.activity.streams, labels=report.activity.labels, journal=records)
    if journal is None and with_plan:
        tree = {query, *(found.chain_ids), *(t.user_id for t in targets_of(found, all_ids=True) if t.user_id)}
        entries = workspace.staged.entries
        if any(set(e.change.ids) & tree for e in entries):   # the plan is about this user: show it
            report.plan = await build_plan(workspace)
        elif entries:
            report.notes.append(f"{len(entries)} staged change(s) concern other ids; the plan is left out.")
    return report


# --- Markdown -----------------------------------------------------------------------------------------------


def code(text: object) -> str:
    """An untrusted string as a Markdown code span: shown literally (no emphasis, link or HTML), control
    and invisible characters made visible, a fence longer than any run of backticks inside."""
    shown = visible("" if text is None else text)
    runs = [len(m) for m in re.findall(r"`+", shown)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _count(n: int | None, word: str) -> str:
    if n is None:
        return f"? {word}s"
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _resolution_lines(found: Lookup) -> list[str]:
    r = found.resolution
    amp = f" (Amplitude id {found.amplitude_id or r.amplitude_id})" if (found.amplitude_id or r.amplitude_id) else ""
    if r.outcome == UNKNOWN:
        return [f"- {code(found.query)}: unknown to Amplitude (no mappings, no user search match)"]
    if r.outcome == ANONYMOUS:
        return [f"- {code(found.query)}: {BY_WORDS.get(r.by or '', 'search match')} of an anonymous user{amp}, "
                "without a user id (so without mappings)"]
    if r.outcome == AMBIGUOUS:
        lines = [f"- {code(found.query)}: matches {len(r.matches)} users:"]
        return lines + [f"  - {code(m.user_id)} (Amplitude id {m.amplitude_id})" for m in r.matches]
    how = BY_WORDS.get(r.by or "", r.by or "")
    user = found.user_id or ""
    if user == found.query:
        lines = [f"- {code(found.query)}: {how}{amp}"]
    else:
        lines = [f"- {code(found.query)}: {how} of user {code(user)}{amp}"]
    chain = found.chain
    if chain is not None and (chain.steps or chain.cycle_to is not None):
        text = " → ".join(code(i) for i in chain.ids)
        if chain.cycle_to is not None:
            text += f" → {code(chain.cycle_to)} (a cycle)"
        elif chain.is_chain:
            text += " (a chain: Amplitude resolves nothing transitively)"
        lines.append(f"- chain: {text}")
    return lines


def _tree_lines(found: Lookup) -> list[str]:
    if found.user_id is None or found.mappings is None:
        return ["- (no identity tree: the id did not resolve to one user)"]
    lines = [f"- {code(found.user_id)} (looked up)"]
    for step in found.chain.steps if found.chain is not None else ():
        amp = f" (Amplitude id {step.amplitude_id})" if step.amplitude_id is not None else ""
        lines.append(f"  - maps into {code(step.user_id)}{amp}")
    sources = list(dict.fromkeys(m.user_id for m in found.mappings.mapped_from))
    if sources:
        lines.append(f"  - mapped from it: {_count(len(sources), 'id')}")
        lines += [f"    - {code(s)}" for s in sources[:MAX_LISTED]]
        if len(sources) > MAX_LISTED:
            lines.append(f"    - … and {len(sources) - MAX_LISTED} more")
    if len(lines) == 1:
        lines.append("  - no mappings: not mapped into any id, and no id is mapped into it")
    return lines


def _activity_lines(report: Report) -> list[str]:
    timeline, activity = report.timeline, report.activity
    if timeline is None or activity is None:
        return ["- (no activity read)"]
    lines = []
    for header in timeline.headers:
        amp = f" (Amplitude id {header.amplitude_id})" if header.amplitude_id is not None else ""
        devices = ", ".join(code(d) for d in header.device_ids) or "none"
        cut = f"; the newest {header.fetched:,} read" if header.truncated else ""
        lines.append(f"- {code(header.user_id)}{amp}: {_count(header.events, 'event')}, "
                     f"{_count(header.sessions, 'session')}, first seen {header.first_seen or '?'}, last seen "
                     f"{header.last_seen or '?'}{cut}; devices: {devices}")
    for missing in activity.missing:
        lines.append(f"- {code(missing.target.label)}: {missing.note}")
    shared = [d for d in timeline.devices if d.shared]
    for device in shared:
        lines.append(f"- shared device {code(device.device_id)}: seen under {len(device.user_ids)} user ids — "
                     "no evidence that its users are one person")
    if timeline.markers:
        lines += ["", "Where the identity changed (from the events read and the journal):", ""]
        for marker in timeline.markers:
            when = marker.time.strftime("%Y-%m-%d %H:%M UTC") if marker.time is not None else "(no time)"
            lines.append(f"- {when}: {marker.describe(code)}")
    return lines or ["- (no activity read)"]


def safe_description(change: Change) -> str:
    """A change in words, ids in code spans, without property values (identify lists its keys only)."""
    a, b = code(change.user_id), code(change.target_id)
    if change.op == MAP:
        return f"map {a} → {b}"
    if change.op == UNMAP:
        return f"unmap {a}"
    if change.op == IDENTIFY:
        keys = ", ".join(code(k) for k in change.properties) or "(no keys)"
        return f"identify {a}: {code(change.operation)} {keys} (values left out)"
    if change.op == MP_IDENTIFY:
        return f"Mixpanel identify: anonymous {a} → identified {b}"
    if change.op == MP_ALIAS:
        return f"Mixpanel alias {a} → {b}"
    if change.op == MP_MERGE:
        return f"Mixpanel merge {a} + {b} (irreversible)"
    return f"{code(change.op)} {a}"


def _plan_lines(plan: Plan) -> list[str]:
    lines = [f"The whole staged set; nothing is sent yet (revision {plan.revision}, built {plan.created_at}):", ""]
    for planned in plan.changes:
        flags = f" — warnings: {', '.join(planned.warnings)}" if planned.warnings else ""
        held = " (held: outcome unknown from an earlier apply)" if planned.status == "held" else ""
        lines.append(f"{planned.n}. {safe_description(planned.change)}{held}{flags}")
    if plan.warnings:
        lines += ["", "Warnings:", ""]
        lines += [f"- [{w.severity}] `{w.code}`: {visible(w.message)}" for w in plan.warnings]
    lines += ["", "Requests it would send:", ""]
    lines += [f"- {visible(r.describe(len(plan.requests)))}" for r in plan.requests] or ["- none"]
    return lines


def _journal_lines(entry: JournalEntry) -> list[str]:
    lines = [f"Journal entry {code(entry.journal_id)}: applied {visible(entry.at)} on profile "
             f"{code(entry.profile)} ({visible(entry.region)}){'' if entry.finished else ' — did not finish'}", ""]
    for key in ("operator", "ticket", "note"):
        value = getattr(entry, key, None) or entry.confirmed.get(key)
        if value:
            lines.append(f"- {key}: {code(value)}")
    lines += ["", "Changes, outcome and verification:", ""]
    for n, change in enumerate(entry.changes, 1):
        status = entry.change_status(change.id).replace("_", " ")
        verified = entry.verification.get(change.id)
        tail = f"; verified: {visible(verified)}" if verified else ""
        decision = entry.resolutions.get(change.id)
        tail += f"; decided later: {visible(decision)}" if decision else ""
        lines.append(f"{n}. {safe_description(change)} — {status}{tail}")
    lines += ["", "Requests sent:", ""]
    for r in entry.requests:
        error = f" — {visible((r.error or {}).get('message', ''), limit=200)}" if r.error else ""
        lines.append(f"- request {r.index}: {visible(r.method)} {visible(r.endpoint)} ({r.size} item"
                     f"{'' if r.size == 1 else 's'}): {r.state.replace('_', ' ')}{error}")
    if entry.stopped:
        lines.append(f"- stopped: {visible(entry.stopped)}")
    return lines


def to_markdown(report: Report, *, redact: Callable[[str], str] | None = None) -> str:
    """The report as Markdown; `redact` (the workspace's redactor) scrubs the finished text once more."""
    lines = [f"# Identity investigation: {code(report.query)}", "",
             f"- Profile {code(report.profile)} (region {visible(report.region)}), generated {report.generated_at} "
             "by idconsole.", f"- {LEFT_OUT}", "", "## How the id resolves", ""]
    lines += _resolution_lines(report.lookup)
    lines += ["", "## Identity tree", ""] + _tree_lines(report.lookup)
    lines += ["", "## Activity per id", ""] + _activity_lines(report)
    if report.journal is not None:
        lines += ["", "## Journal entry", ""] + _journal_lines(report.journal)
    elif report.plan is not None:
        lines += ["", "## Staged plan", ""] + _plan_lines(report.plan)
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {visible(n)}" for n in report.notes]
    text = "\n".join(lines) + "\n"
    return redact(text) if redact is not None else text


# --- JSON helpers -------------------------------------------------------------------------------------------


def _change_json(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {"id": change.id, "op": change.op, "user_id": change.user_id,
                            "target_id": change.target_id}
    if change.op == IDENTIFY:
        data.update(operation=change.operation, property_keys=list(change.properties))
    return data


def _plan_json(plan: Plan) -> dict[str, Any]:
    positions = plan.positions()
    return {"revision": plan.revision, "created_at": plan.created_at,
            "changes": [{"n": p.n, **_change_json(p.change), "status": p.status, "warnings": list(p.warnings)}
                        for p in plan.changes],
            "warnings": [w.to_json(positions) for w in plan.warnings],
            "requests": [r.to_json() for r in plan.requests]}


def _journal_json(entry: JournalEntry) -> dict[str, Any]:
    extra = {k: getattr(entry, k, None) or entry.confirmed.get(k) for k in ("operator", "ticket", "note")}
    return {"journal_id": entry.journal_id, "at": entry.at, "profile": entry.profile, "region": entry.region,
            "finished": entry.finished, "stopped": entry.stopped, **extra,
            "changes": [{**_change_json(c), "status": entry.change_status(c.id),
                         "verified": entry.verification.get(c.id), "resolution": entry.resolutions.get(c.id)}
                        for c in entry.changes],
            "requests": [r.to_json() for r in entry.requests]}

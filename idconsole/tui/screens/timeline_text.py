"""The timeline screen's words and cells: one place that turns `identity.timeline` rows and headers into
Rich Text / Content, every field from the API shown literally (never parsed as markup)."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from idconsole.changes.journal_entry import ACKED
from idconsole.changes.kinds import UNMAP
from idconsole.identity.activity import Cost, IdActivity
from idconsole.identity.markers import DEVICE_NEW_USER, Marker
from idconsole.identity.timeline import IdHeader, Page, Row
from idconsole.tui.text import literal, visible

#: (label, width): fixed widths fit 120 columns whatever the rows hold; a longer cell ends in "…" and the
#: highlighted row is shown in full under the table
COLUMNS = (("time", 19), ("event / identity change", 32), ("user id", 22), ("device", 26), ("platform", 9))
EVENT_WIDTH, USER_WIDTH, DEVICE_WIDTH, PLATFORM_WIDTH = 32, 22, 26, 9


def when(row: Row) -> str:
    if row.time is not None:
        return row.time.strftime("%Y-%m-%d %H:%M:%S")
    text = row.event.time_text if row.event is not None else None
    return visible(text or "(no time)", limit=19)


def short_marker(marker: Marker) -> str:
    """The marker in the event column: what changed; the user and device columns say who and where."""
    if marker.kind == DEVICE_NEW_USER:
        if marker.shared:
            return "new user id (shared device)"
        return "new user id; was " + ("anonymous" if marker.previous_user_ids == (None,) else "another user")
    outcome = "" if marker.status == ACKED else f" ({(marker.status or 'unknown').replace('_', ' ')})"
    if marker.op == UNMAP:
        return f"journal: unmapped{outcome}"
    return f"journal: mapped → {visible(marker.global_user_id or '?')}{outcome}"


def cells(row: Row) -> tuple[Text, ...]:
    """One table row: an event tagged with its user id, device and platform, or a marker."""
    if row.marker is not None:
        marker = row.marker
        return (Text(when(row), style="bold yellow"),
                Text(visible("◆ " + short_marker(marker), limit=EVENT_WIDTH), style="bold yellow", no_wrap=True),
                Text(visible(marker.user_id or "", limit=USER_WIDTH), style="yellow"),
                Text(visible(marker.device_id or "", limit=DEVICE_WIDTH), style="yellow"), Text(""))
    event = row.event
    assert event is not None
    user = Text(visible(event.user_id, limit=USER_WIDTH)) if event.user_id else Text("(no user id)", style="dim")
    return (Text(when(row)), Text(visible(event.event_type, limit=EVENT_WIDTH), no_wrap=True), user,
            Text(visible(event.device_id or "(none)", limit=DEVICE_WIDTH)),
            Text(visible(event.platform or "", limit=PLATFORM_WIDTH)))


def detail(row: Row) -> Content:
    """The highlighted row in full (under the table)."""
    if row.marker is not None:
        return Content.assemble((f"{when(row)}  identity changed: ", "bold"), literal(row.marker.describe(visible)))
    event = row.event
    assert event is not None
    return Content.assemble(
        (f"{when(row)}  ", "bold"), literal(event.event_type, limit=200),
        ("  user ", "dim"), literal(event.user_id or "(no user id)", limit=200),
        ("  device ", "dim"), literal(event.device_id or "(none)", limit=200),
        ("  platform ", "dim"), literal(event.platform or "?", limit=60),
        ("  read from ", "dim"), literal(row.stream or "?", limit=200))


def header_line(header: IdHeader) -> Content:
    """A header per id: first/last seen, events, sessions, devices."""
    amp = f" (amplitude id {header.amplitude_id})" if header.amplitude_id is not None else ""
    cut = f", the newest {header.fetched} read" if header.truncated else ""
    devices = ", ".join(visible(d, limit=40) for d in header.device_ids[:4]) or "(none)"
    more = f" +{len(header.device_ids) - 4}" if len(header.device_ids) > 4 else ""
    return Content.assemble(
        literal(header.user_id or "(no user id)", limit=60, style="bold"), (amp, "dim"),
        f": {header.events} events, {header.sessions} sessions, first seen {visible(header.first_seen or '?')}, "
        f"last seen {visible(header.last_seen or '?')}{cut}; devices ", literal(devices + more))


def ask_text(cost: Cost) -> Content:
    tail = "" if cost.fits else (" That is more than is left: the ids are read in order (the user, its chain, "
                                 "what maps into it) while the budget has room.")
    return Content.assemble(cost.sentence() + tail + "  ",
                            ("Enter", "bold"), " fetches, ", ("Esc", "bold"), " cancels.")


def progress_text(done: int, total: int, last: IdActivity | None) -> Content:
    name = literal(last.target.label, limit=60) if last is not None else Content("")
    return Content.assemble((f"Reading activity: {done} of {total} ids… ", "dim"), name,
                            ("  Esc stops (what arrived stays).", "dim"))


def page_text(page: Page, shown_events: int, filter_text: str) -> Content:
    start = page.number * page.size
    span = f"rows {start + 1}–{start + len(page.rows)}" if page.rows else "no rows"
    more = "  n: next page" if page.has_more else "  (last page)"
    back = "  p: previous" if page.number > 0 else ""
    flt = Content.assemble(("  filter: ", "dim"), literal(filter_text, limit=40)) if filter_text else Content("")
    return Content.assemble((f"page {page.number + 1} · {span} · {shown_events} events{more}{back}", "dim"), flt,
                            ("  / or f: filter by event type", "dim"))

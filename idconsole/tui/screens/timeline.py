"""The Timeline screen (`t` on Lookup): where the looked-up user's events are, across every id of its
identity tree, merged newest first, with markers where the identity changed and a header per id.

The engine is `identity.activity` (targets, cost, the cancellable fetch) and `identity.timeline` (the lazy
merge, markers, pages); this screen only asks, fetches in a worker and draws one page at a time.

- Before anything is read the cost in the 360/hour user search + activity budget is shown: Enter fetches,
  Esc cancels. What does not fit is skipped (the ids are read in order while the budget has room).
- Esc while reading stops the fetch between pages (a second Esc cancels the request in flight): what
  arrived stays and is drawn.
- The table holds only the current page (`n` next, `p` previous), so drawing is flat in the event count.
- `/` or `f` filters by event type (a part of the name; markers stay, they explain what is around them).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from idconsole.changes.shared_devices import sightings_for
from idconsole.identity.activity import (
    CANCELLED,
    DEFAULT_MAX_EVENTS,
    ActivityResult,
    IdActivity,
    estimate,
    fetch_activity,
    targets_of,
)
from idconsole.identity.lookup import Lookup
from idconsole.identity.markers import mapping_records
from idconsole.identity.timeline import Page, Timeline, TimelineView, build_timeline
from idconsole.tui.errors import route_worker_error
from idconsole.tui.screens import timeline_text as words
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.text import literal

ASKING, LOADING, SHOWN, FAILED = "asking", "loading", "shown", "failed"


class TimelineScreen(ConsoleScreen[None]):
    """`TimelineScreen(lookup)`: the timeline of a finished lookup's user (and its tree)."""

    AUTO_FOCUS = ""  # Enter must answer the cost question, not select a table row
    HELP_TITLE = "Timeline"
    HELP = """\
The events of **every id of the looked-up user's identity tree** (the user, what it maps into, what is mapped
into it), merged **newest first**. Each row says the user id the event was sent under, its device and platform.

- **◆ rows** mark where the identity changed: a device's first event under a new user id (the phone after the
  login), or a mapping the journal recorded.
- The header has one line per id: first/last seen, events, sessions, devices.
- Reading costs requests of the **360/hour** budget user search and user activity share: the cost is shown
  first, **Enter** fetches, **Esc** cancels. **Esc** while reading stops after the page being read (a second
  **Esc** stops at once); what arrived stays.
- **n** / **p** next / previous page, **/** or **f** filter by event type (Esc clears it), **Esc** back.
"""
    DEFAULT_CSS = """
    TimelineScreen #timeline-ask { height: auto; padding: 0 1; }
    TimelineScreen #timeline-headers { height: auto; max-height: 8; padding: 0 1; }
    TimelineScreen #timeline-filter { margin: 0 1; }
    TimelineScreen #timeline-table { height: 1fr; }
    TimelineScreen #timeline-detail { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    TimelineScreen #timeline-page { height: 1; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # show=False and the page keys always listed: the footer never changes when the data arrives (a
        # footer recompose costs more than the whole first page)
        Binding("enter", "fetch", "Fetch", id="timeline.fetch", show=False,
                tooltip="Read the activity (the cost is shown)"),
        Binding("escape", "back", "Back / stop", id="timeline.back",
                tooltip="Cancel the question, stop reading, clear the filter, or go back"),
        Binding("slash,f", "filter", "Filter", id="timeline.filter", tooltip="Filter by event type"),
        Binding("n", "next_page", "Next page", id="timeline.next_page"),
        Binding("p", "previous_page", "Previous page", id="timeline.previous_page"),
    ]

    def __init__(self, lookup: Lookup, *, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        super().__init__()
        self.lookup = lookup
        self.max_events = max_events
        self.targets = targets_of(lookup, all_ids=True)
        self.state = ASKING
        self.timeline: Timeline | None = None
        self.missing: list[IdActivity] = []
        self._stop = False
        self._done = 0
        self._arrived: list[IdActivity] = []
        self._view: TimelineView | None = None
        self._page: Page | None = None
        self._filter = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="timeline-ask", markup=False)
        yield Static(id="timeline-headers", markup=False)
        yield Input(placeholder="event type contains… (Enter applies, Esc clears)", id="timeline-filter")
        yield DataTable(id="timeline-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="timeline-detail", markup=False)
        yield Static(id="timeline-page", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        name = self.lookup.user_id or self.lookup.resolution.query
        self.sub_title = f"Timeline of {literal(name, limit=60).plain}"
        table = self.query_one(DataTable)
        for label, width in words.COLUMNS:
            table.add_column(label, width=width)
        table.disabled = True   # until there is something to show (Enter answers the question)
        self._open_filter(False)
        if not self.targets:
            self.state = FAILED
            self._say(Content("This lookup found no single user: there is no timeline to read."))
            return
        self._say(words.ask_text(estimate(self.app.active_workspace.client, self.targets,
                                          max_events=self.max_events)))

    def _say(self, content: Content) -> None:
        self.query_one("#timeline-ask", Static).update(content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fetch":
            return self.state == ASKING
        return True

    # --- fetching ------------------------------------------------------------------------------

    def action_fetch(self) -> None:
        if self.state == ASKING:
            self.state = LOADING
            self.refresh_bindings()
            table = self.query_one(DataTable)
            table.disabled = False   # focused now, not when the data arrives (that would redraw the footer)
            table.focus()
            self._say(words.progress_text(0, len(self.targets), None))
            self.fetch()

    @work(group="timeline", exclusive=True, exit_on_error=False)
    async def fetch(self) -> None:
        ws = self.app.active_workspace
        client = ws.client
        try:
            result = await fetch_activity(client, self.targets, max_events=self.max_events, within_budget=True,
                                          should_stop=lambda: self._stop, on_progress=self._progress)
        except Exception as exc:
            self.state = FAILED
            self.refresh_bindings()
            self.app.show_error(exc, context="Timeline failed")
            self._say(Content.assemble(("Timeline failed: ", "bold"), literal(str(exc), limit=400)))
            return
        self._finish(result)

    def _finish(self, result: ActivityResult) -> None:
        ws = self.app.active_workspace
        ids = [t.user_id for t in self.targets if t.user_id]
        timeline = build_timeline(result.streams, labels=result.labels, journal=mapping_records(ws.journal.entries(), ids),
                                  sightings=sightings_for(ws.client))
        self.missing = result.missing
        self.show_timeline(timeline, stopped=result.cancelled)

    def stop_now(self) -> None:
        """A second Esc while reading: cancel the request in flight too; the ids already read stay."""
        self.workers.cancel_group(self, "timeline")
        by_target = {(i.target.user_id, i.target.role): i for i in self._arrived}
        items = [by_target.get((t.user_id, t.role)) or IdActivity(t, CANCELLED, note="not fetched: cancelled")
                 for t in self.targets]
        self._finish(ActivityResult(items, cancelled=True))

    def _progress(self, item: IdActivity) -> None:
        self._done += 1
        self._arrived.append(item)
        if self.state == LOADING and not self._stop:
            self._say(words.progress_text(self._done, len(self.targets), item))

    def show_timeline(self, timeline: Timeline, *, stopped: bool = False) -> None:
        self.timeline = timeline
        self.state = SHOWN
        lines = [words.header_line(h) for h in timeline.headers]
        lines += [Content.assemble(literal(m.target.label, limit=60), ": ", literal(m.note, limit=300))
                  for m in self.missing]
        shared = [d for d in timeline.devices if d.shared]
        lines += [Content.assemble(("shared device ", "bold yellow"), literal(d.device_id, limit=60),
                                   f": seen under {len(d.user_ids)} user ids") for d in shared]
        self.query_one("#timeline-headers", Static).update(Content("\n").join(lines))
        head = "Stopped: what arrived is shown. " if stopped else ""
        cut = "Some streams were cut (newest events read). " if timeline.truncated else ""
        self._say(Content(f"{head}{cut}{timeline.event_count} events from {len(timeline.headers)} ids, "
                          f"{len(timeline.markers)} identity changes.").stylize("dim"))
        self._view = timeline.view()
        self.draw_page(0)

    # --- pages and filter ----------------------------------------------------------------------

    def draw_page(self, number: int) -> None:
        """Draw page `number` of the current view (only its rows are in the table)."""
        if self._view is None or self.timeline is None:
            return
        page = self._view.page(max(0, number))
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows(words.cells(row) for row in page.rows)
        self._page = page
        shown = self.timeline.event_count if self._view.event_types is None else \
            sum(self.timeline.event_types[t] for t in self._view.event_types)
        self.query_one("#timeline-page", Static).update(words.page_text(page, shown, self._filter))
        self._show_detail(0)

    def _show_detail(self, index: int) -> None:
        rows = self._page.rows if self._page is not None else ()
        detail = words.detail(rows[index]) if 0 <= index < len(rows) else Content("")
        self.query_one("#timeline-detail", Static).update(detail)

    @on(DataTable.RowHighlighted, "#timeline-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def action_next_page(self) -> None:
        if self._page is not None and self._page.has_more:
            self.draw_page(self._page.number + 1)

    def action_previous_page(self) -> None:
        if self._page is not None and self._page.number > 0:
            self.draw_page(self._page.number - 1)

    def action_filter(self) -> None:
        if self.timeline is None:
            return
        box = self._open_filter(True)
        box.value = self._filter
        box.focus()

    def _open_filter(self, shown: bool) -> Input:
        # hidden and disabled when closed: it must never take the focus (Enter answers the question)
        box = self.query_one("#timeline-filter", Input)
        box.display = shown
        box.disabled = not shown
        return box

    @on(Input.Submitted, "#timeline-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value)
        self.query_one(DataTable).focus()

    def apply_filter(self, text: str) -> None:
        """Keep the events whose type contains `text` (any case); empty shows every event."""
        if self.timeline is None:
            return
        self._filter = text.strip()
        if not self._filter:
            self._view = self.timeline.view()
            self._open_filter(False)
        else:
            needle = self._filter.casefold()
            self._view = self.timeline.view([t for t in self.timeline.event_types if needle in t.casefold()])
        self.draw_page(0)

    def action_back(self) -> None:
        box = self.query_one("#timeline-filter", Input)
        if self.state == LOADING and self._stop:
            self.stop_now()
        elif self.state == LOADING:
            self._stop = True   # asked between pages: the fetch returns with what arrived
            self._say(Content("Stopping after the page being read… what arrived stays. Esc again stops at once.")
                      .stylize("dim"))
        elif box.display:
            box.value = ""
            self.apply_filter("")
            self.query_one(DataTable).focus()
        else:
            self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Timeline")

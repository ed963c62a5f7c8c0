"""The Mixpanel view (`X` on Lookup): a distinct id's cluster as Mixpanel shows it — the canonical id, the
profile's properties, and the distinct ids OBSERVED in the cluster's events (Mixpanel has no API that lists
a cluster, so they are labelled observed), with the Query API's own budget (60/hour). Any id opens, also
one Amplitude never saw (the story's `$device:...` phone id).

The engine is `identity.mixpanel_lookup` (engage + one stream query); this screen reads it in a worker and
shows it. `i` / `a` / `g` stage a Mixpanel identify / alias / merge in the shared stage dialog, prefilled
with the highlighted observed id and the user looked up on Lookup (nothing is sent from here).
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from idconsole.changes.kinds import MP_ALIAS, MP_IDENTIFY, MP_MERGE
from idconsole.identity.mixpanel_lookup import QUERY_COST, MixpanelLookup, look_up_mixpanel
from idconsole.tui.errors import route_worker_error
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.staging import actions as staging_actions
from idconsole.tui.text import literal
from idconsole.tui.widgets.property_table import PropertyTable

OBSERVED_TITLE = "Distinct ids observed — Mixpanel has no API listing a cluster; these are the ids its events show"
BUDGET_FAMILY = "mpquery"


def budget_text(client: object) -> Content:
    try:
        budget = client.budget(BUDGET_FAMILY)  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        return Content("Query API budget: n/a").stylize("dim")
    return Content(f"Query API budget: {budget.remaining()} of {budget.limit} an hour left "
                   f"(this view costs {QUERY_COST}; 5 at once at most)").stylize("dim")


class MixpanelViewScreen(ConsoleScreen[None]):
    """`MixpanelViewScreen(distinct_id, other=...)`; `other` (the user looked up on Lookup) prefills the
    second id of a staged identify / alias / merge."""

    HELP_TITLE = "Mixpanel view"
    HELP = """\
A Mixpanel distinct id's **cluster**: the **canonical id** (the profile Mixpanel shows), its **properties**, and
the distinct ids **observed** in the cluster's events. Mixpanel has no API that lists a cluster's ids, so the
list is what the events show, never the whole cluster. Reading costs **2** requests of the Query API's
**60/hour** budget. Projects without the Profile Event Activity endpoint still show the profile.

- **i** stage `$identify`, **a** stage `$create_alias`, **g** stage `$merge` (irreversible), each prefilled with
  the highlighted observed id (or this id) and the user looked up on Lookup — reviewed in the plan first.
- **Esc** back.
"""
    DEFAULT_CSS = """
    MixpanelViewScreen #mp-summary { height: auto; padding: 0 1; }
    MixpanelViewScreen #mp-budget { height: 1; padding: 0 1; }
    MixpanelViewScreen #mp-body { height: 1fr; }
    MixpanelViewScreen #mp-properties { width: 3fr; }
    MixpanelViewScreen #mp-side { width: 2fr; }
    MixpanelViewScreen #mp-observed-title { height: auto; padding: 0 1; color: $text-muted; }
    MixpanelViewScreen #mp-observed { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "stage('mp_identify')", "Identify…", id="mixpanel_view.identify",
                tooltip="Stage a Mixpanel $identify (reviewed in the plan first)"),
        Binding("a", "stage('mp_alias')", "Alias…", id="mixpanel_view.alias",
                tooltip="Stage a Mixpanel $create_alias (reviewed in the plan first)"),
        Binding("g", "stage('mp_merge')", "Merge…", id="mixpanel_view.merge",
                tooltip="Stage a Mixpanel $merge (irreversible; reviewed in the plan first)"),
        Binding("escape", "back", "Back", id="mixpanel_view.back"),
    ]

    def __init__(self, distinct_id: str, *, other: str | None = None) -> None:
        super().__init__()
        self.distinct_id = distinct_id
        self.other = other if other != distinct_id else None
        self.found: MixpanelLookup | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content.assemble(("Reading Mixpanel for ", "dim"), literal(self.distinct_id, limit=100),
                                      ("…", "dim")), id="mp-summary", markup=False)
        yield Static(id="mp-budget", markup=False)
        with Horizontal(id="mp-body"):
            yield PropertyTable(id="mp-properties", empty="(no profile)")
            with Vertical(id="mp-side"):
                yield Static(OBSERVED_TITLE, id="mp-observed-title", markup=False)
                yield OptionList(id="mp-observed")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Mixpanel: {literal(self.distinct_id, limit=60).plain}"
        self._show_budget()
        self.load()

    def _show_budget(self) -> None:
        self.query_one("#mp-budget", Static).update(budget_text(self.app.active_workspace.client))

    @work(group="mixpanel_view", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            found = await look_up_mixpanel(self.app.active_workspace.client, self.distinct_id)
        except Exception as exc:
            self.app.show_error(exc, context="Mixpanel lookup failed")
            self.query_one("#mp-summary", Static).update(
                Content.assemble(("Mixpanel lookup failed: ", "bold"), literal(str(exc), limit=400)))
            return
        finally:
            self._show_budget()
        self.show_found(found)

    def show_found(self, found: MixpanelLookup) -> None:
        self.found = found
        summary = self.query_one("#mp-summary", Static)
        if not found.known:
            summary.update(Content.assemble("Mixpanel has no profile and no events for ",
                                            literal(found.query, limit=100), "."))
        else:
            canonical = (literal(found.canonical_id, limit=100, style="bold") if found.canonical_id
                         else Content("(no profile: only events)").stylize("dim"))
            parts = [Content("canonical id: "), canonical,
                     Content(f"   {found.events} events in the cluster, "
                             f"{len(found.observed_ids)} distinct ids observed")]
            if found.observed_device_ids:
                parts.append(Content.assemble("; devices: ", literal(", ".join(found.observed_device_ids[:3]),
                                                                     limit=120)))
            summary.update(Content.assemble(*parts))
        if found.activity_note:
            self.query_one("#mp-observed-title", Static).update(Content.assemble(
                ("No observed ids: ", "bold"), literal(found.activity_note, limit=300)))
        self.query_one(PropertyTable).set_mapping(found.properties)
        observed = self.query_one("#mp-observed", OptionList)
        observed.clear_options()
        observed.add_options(Option(self._id_label(i, found), id=f"observed-{n}")
                             for n, i in enumerate(found.observed_ids))
        if found.observed_ids:
            observed.highlighted = 0

    @staticmethod
    def _id_label(distinct_id: str, found: MixpanelLookup) -> Content:
        tag = ("  canonical", "dim") if distinct_id == found.canonical_id else ("", "")
        return Content.assemble(literal(distinct_id, limit=80), tag)

    def highlighted_id(self) -> str:
        """The highlighted observed id, else the id this view was opened for."""
        observed = self.query_one("#mp-observed", OptionList)
        ids = self.found.observed_ids if self.found is not None else ()
        index = observed.highlighted
        return ids[index] if index is not None and 0 <= index < len(ids) else self.distinct_id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stage" and self.app.readonly:
            return False
        return True

    def action_stage(self, kind: str) -> None:
        this, other = self.highlighted_id(), self.other or ""
        values = {MP_IDENTIFY: {"anon_id": this, "identified_id": other},
                  MP_ALIAS: {"alias": this, "distinct_id": other},
                  MP_MERGE: {"id_a": this, "id_b": other}}.get(kind)
        if values is not None:
            staging_actions.open_stage_dialog(self.app, kind, values=values)

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Mixpanel view")

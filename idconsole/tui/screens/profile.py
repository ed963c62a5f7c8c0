"""The Profile inspector: one user's Amplitude profile (or Mixpanel profile) in tabs.

Amplitude: User properties, Computed properties, Cohorts, Recommendations, Propensities, Raw JSON.
Mixpanel: the cluster's canonical distinct id (noted when it differs from the id asked for),
Properties, Raw JSON. EU Amplitude projects have no User Profile API: the screen says so plainly (the
client raises NotOffered without sending anything).

Every value is untrusted: tables use literal cells, the raw JSON is a read-only TextArea whose text
has every invisible or terminal-driving character escaped. `/` filters the property tables (key or
value), `e` exports the profile as JSON to the current directory or a typed path (`export_dialog`).
"""

from __future__ import annotations

import contextlib
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Header, Input, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker

from idconsole.api.errors import NotOffered
from idconsole.api.models import MixpanelProfile, UserProfile
from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.clipboard import copy_text
from idconsole.tui.errors import route_worker_error
from idconsole.tui.export_path import Export, json_bytes, profile_file_name
from idconsole.tui.profile_data import pretty_json, propensity_rows, recommendation_rows
from idconsole.tui.screens.export_dialog import open_export
from idconsole.tui.staging import actions as staging_actions
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.property_table import PropertyTable, compact
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

EU_MESSAGE = (
    "Amplitude's User Profile API is not offered in the EU region, so user properties, cohorts, "
    "recommendations and propensities cannot be shown for this EU project. Nothing was sent. "
    "The identity tree (Lookup) and user search work in the EU."
)

#: rec ids / prediction id asked for, per open workspace (forgotten with it)
_ASKED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

class ProfileScreen(WriteActionsGuard[None]):
    """`ProfileScreen(user_id, *, vendor="amplitude", device_id=None)`."""

    CSS_PATH = "../styles/profile.tcss"
    AUTO_FOCUS = "PropertyTable"
    HELP_TITLE = "Profile"
    HELP = """\
The profile of one user, as the vendor reports it now.

- **Amplitude**: user properties, computed properties, cohorts, recommendations (rec id, items, control
  group, source, title), propensities, and the raw JSON response. Recommendations and propensities are only
  returned for the ids you ask for: type them into the box on those tabs and press Enter.
- **Mixpanel**: the cluster's canonical distinct id (the screen says when it is not the id you asked for:
  the ids were merged), its properties and the raw JSON.
- **/** filters the property tables (key or value), **e** exports the profile as JSON (Enter: the current
  directory; or type a path), **c** copies the id, **r** reloads, **1**–**6** switch to the tabs in order,
  **Esc** goes back.
- **s** stages a change to the selected user property (set, add, append, ...), **u** stages unsetting it.
  Nothing is sent until you have read the plan and confirmed it (hidden in read-only mode).

The User Profile API is not offered in Amplitude's EU region; the screen says so and sends nothing.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="profile.back", tooltip="Back to the lookup"),
        Binding("slash", "focus_filter", "Filter", id="profile.filter",
                tooltip="Filter the property tables by key or value"),
        Binding("e", "export", "Export", id="profile.export",
                tooltip="Write the profile as JSON to a file here or a path you type (path shown)"),
        Binding("c", "copy_id", "Copy id", id="profile.copy", show=False,
                tooltip="Copy the user id to the clipboard"),
        Binding("r", "reload", "Reload", id="profile.reload", show=False, tooltip="Fetch the profile again"),
        Binding("s", "stage_set", "Set prop…", id="profile.stage_set",
                tooltip="Stage a property change (reviewed in the plan before anything is sent)"),
        Binding("u", "stage_unset", "Unset prop…", id="profile.stage_unset",
                tooltip="Stage removing the selected property"),
        # 1–6 show the tabs in order (not in the footer: the help and the palette list them)
        *(Binding(str(n), f"tab({n})", f"Tab {n}", id=f"profile.tab_{n}", show=False,
                  tooltip=f"Show the profile's tab number {n}") for n in range(1, 7)),
    ]
    WRITE_ACTIONS = frozenset({"stage_set", "stage_unset"})


    def __init__(self, user_id: str, *, vendor: str = "amplitude", device_id: str | None = None) -> None:
        super().__init__()
        if vendor not in ("amplitude", "mixpanel"):
            raise ValueError(f"unknown vendor {vendor!r}")
        self.user_id = user_id
        self.vendor = vendor
        self.device_id = device_id
        self.profile: UserProfile | MixpanelProfile | None = None
        #: the message shown instead of the tabs (EU, not found, failure), as plain text for tests
        self.message: str = ""
        #: where the last export was written
        self.exported: Path | None = None

    # --- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="profile-head"):
            yield Static(self._title(), id="profile-title", markup=False)
            yield Static("", id="profile-note", markup=False)
            yield Static("", id="profile-exported", markup=False)
            yield Input(placeholder="/ filter properties by key or value", id="profile-filter")
        yield Static("", id="profile-message", markup=False)
        with TabbedContent(id="profile-tabs"):
            if self.vendor == "amplitude":
                with TabPane("User properties", id="tab-user"):
                    yield PropertyTable(id="user-props", empty="(no user properties)")
                with TabPane("Computed properties", id="tab-computed"):
                    yield PropertyTable(id="computed-props", empty="(no computed properties)")
                with TabPane("Cohorts", id="tab-cohorts"):
                    yield PropertyTable(("Cohort id",), id="cohorts", empty="(in no cohort)")
                with TabPane("Recommendations", id="tab-recs"):
                    with Horizontal(classes="ask"):
                        yield Static("rec ids:", classes="ask-label")
                        yield Input(placeholder="rec ids, comma separated – Enter asks for them", id="rec-ids")
                    yield PropertyTable(("Rec id", "Items", "Control group", "Source", "Title"),
                                        id="recs", empty="(no recommendations for the rec ids asked for)")
                with TabPane("Propensities", id="tab-propensities"):
                    with Horizontal(classes="ask"):
                        yield Static("prediction id:", classes="ask-label")
                        yield Input(placeholder="prediction id – Enter asks for it", id="prediction-id")
                    yield PropertyTable(("Prediction", "Type", "Value"), id="propensities",
                                        empty="(no propensities for the prediction asked for)")
            else:
                with TabPane("Properties", id="tab-mp-props"):
                    yield PropertyTable(id="mp-props", empty="(no properties)")
            with TabPane("Raw JSON", id="tab-raw"):
                yield TextArea("", id="raw-json", read_only=True, show_line_numbers=True, soft_wrap=False)
        yield StatusBar()
        yield Footer()

    def _title(self) -> Content:
        vendor = "Amplitude" if self.vendor == "amplitude" else "Mixpanel"
        what = "device" if self.device_id and not self.user_id else (
            "distinct id" if self.vendor == "mixpanel" else "user")
        shown = self.user_id or self.device_id or ""
        return Content.assemble((f"{vendor} profile", "bold"), f" · {what} ", literal(shown, limit=90,
                                                                                          style="bold $accent"))

    @property
    def workspace(self) -> Workspace | None:
        return self.app.workspace

    def on_mount(self) -> None:
        asked = self._asked_here()
        if self.vendor == "amplitude":
            self.query_one("#rec-ids", Input).value = ", ".join(asked["rec_ids"])
            self.query_one("#prediction-id", Input).value = asked["prediction_id"] or ""
        self.load()

    def _asked_here(self) -> dict[str, Any]:
        ws = self.workspace
        if ws is None:
            return {"rec_ids": [], "prediction_id": None}
        if ws not in _ASKED:
            rec_ids: tuple[str, ...] = tuple(getattr(ws.connection, "rec_ids", ()) or ())
            prediction = getattr(ws.connection, "prediction_id", None)
            if getattr(ws, "is_demo", False) and not rec_ids:
                from idconsole.workspace import demo_profile_ids

                rec_ids, prediction = demo_profile_ids()
            _ASKED[ws] = {"rec_ids": list(rec_ids), "prediction_id": prediction}
        return _ASKED[ws]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export" and self.profile is None:
            return False
        if action == "focus_filter" and self.profile is None:
            return False
        # identify is an Amplitude operation: Mixpanel profiles have nothing to stage here
        if action in self.WRITE_ACTIONS and self.vendor != "amplitude":
            return False
        if action == "tab" and not (parameters and isinstance(parameters[0], int)
                                    and parameters[0] <= len(self._panes())):
            return False
        return super().check_action(action, parameters)

    # --- loading -----------------------------------------------------------------------------------

    def load(self) -> None:
        self.set_message("")
        self.run_load()

    @work(group="profile", exclusive=True, exit_on_error=False)
    async def run_load(self) -> None:
        tabs = self.query_one("#profile-tabs", TabbedContent)
        ws = self.workspace
        if ws is None:
            self.set_message("No connection: ctrl+o opens connection profiles.", error=True)
            return
        tabs.loading = True
        try:
            if self.vendor == "mixpanel":
                profile: UserProfile | MixpanelProfile = await ws.client.mixpanel.profile(self.user_id)
            else:
                asked = self._asked_here()
                prediction = asked["prediction_id"]
                profile = await ws.client.amplitude.profile(
                    user_id=self.user_id or None,
                    device_id=self.device_id,
                    computations=True,
                    rec_ids=list(asked["rec_ids"]),
                    propensity=bool(prediction),
                    prediction_id=prediction or None,
                    propensity_type="score" if prediction else None,
                )
        except NotOffered:
            self.set_message(EU_MESSAGE, notice=True)
            return
        except Exception as exc:
            self._report(exc)
            return
        finally:
            tabs.loading = False
            with contextlib.suppress(Exception):  # budgets changed: show them now
                self.query_one(StatusBar).refresh_status()
        self.profile = profile
        self.show_profile(profile)
        self.refresh_bindings()

    def _report(self, exc: BaseException) -> None:
        self.app.show_error(exc, context="Profile")
        self.set_message(f"Could not load the profile: {visible(str(exc), limit=600)}", error=True)

    def set_message(self, text: str, *, error: bool = False, notice: bool = False) -> None:
        """Show `text` instead of the tabs (or clear it)."""
        self.message = text
        box = self.query_one("#profile-message", Static)
        box.update(literal(text))
        box.display = bool(text)
        box.set_class(error, "-error")
        box.set_class(notice, "-notice")
        self.query_one("#profile-tabs").display = not text
        self.query_one("#profile-filter").display = not text
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Profile")

    # --- showing -----------------------------------------------------------------------------------

    def show_profile(self, profile: UserProfile | MixpanelProfile) -> None:
        note = self.query_one("#profile-note", Static)
        if isinstance(profile, MixpanelProfile):
            canonical = profile.distinct_id
            if canonical != self.user_id:
                note.update(Content.assemble(
                    ("Canonical distinct id: ", "bold"), literal(canonical, limit=90, style="bold $accent"),
                    (" – not the id asked for: Mixpanel merged ", "$warning"),
                    literal(self.user_id, limit=60), (" into this cluster.", "$warning"),
                ))
            else:
                note.update(Content.assemble(("Canonical distinct id: ", "bold"),
                                             literal(canonical, limit=90), (" (the id asked for)", "dim")))
            self.query_one("#mp-props", PropertyTable).set_mapping(profile.properties)
            raw: Any = {"requested_id": self.user_id, **profile.to_json()}
        else:
            parts: list[Content | tuple[str, str] | str] = [("Amplitude id: ", "bold"),
                                                            str(profile.amplitude_id or "unknown")]
            if profile.device_id:
                parts += ["  ", ("device id: ", "bold"), literal(profile.device_id, limit=60)]
            if profile.user_id and profile.user_id != self.user_id:
                parts += ["  ", ("user id: ", "bold"), literal(profile.user_id, limit=60)]
            note.update(Content.assemble(*parts))
            self.query_one("#user-props", PropertyTable).set_mapping(profile.user_properties)
            self.query_one("#computed-props", PropertyTable).set_mapping(profile.computed_properties)
            self.query_one("#cohorts", PropertyTable).set_rows((c,) for c in profile.cohort_ids)
            self.query_one("#recs", PropertyTable).set_rows(recommendation_rows(profile))
            self.query_one("#propensities", PropertyTable).set_rows(propensity_rows(profile.propensities))
            raw = profile.raw or profile.to_json()
        self.query_one("#raw-json", TextArea).load_text(pretty_json(raw))
        self._apply_filter(self.query_one("#profile-filter", Input).value)

    @on(Input.Changed, "#profile-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply_filter(event.value)

    def _apply_filter(self, text: str) -> None:
        for table in self.query(PropertyTable):
            table.apply_filter(text)

    @on(Input.Submitted, "#rec-ids")
    def _ask_recs(self, event: Input.Submitted) -> None:
        event.stop()
        ids = [r.strip() for r in event.value.split(",") if r.strip()]
        self._asked_here()["rec_ids"] = list(dict.fromkeys(ids))
        self.load()

    @on(Input.Submitted, "#prediction-id")
    def _ask_prediction(self, event: Input.Submitted) -> None:
        event.stop()
        self._asked_here()["prediction_id"] = event.value.strip() or None
        self.load()

    @on(Input.Submitted, "#profile-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        pane = self.query_one("#profile-tabs", TabbedContent).active_pane
        tables = pane.query(PropertyTable) if pane is not None else None
        if tables:
            tables.first().focus()

    # --- actions -----------------------------------------------------------------------------------

    def _panes(self) -> list[TabPane]:
        return list(self.query_one("#profile-tabs", TabbedContent).query(TabPane))

    def action_tab(self, number: int) -> None:
        panes = self._panes()
        if 1 <= number <= len(panes) and panes[number - 1].id:
            self.query_one("#profile-tabs", TabbedContent).active = panes[number - 1].id or ""

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_focus_filter(self) -> None:
        box = self.query_one("#profile-filter", Input)
        if box.display:
            box.focus()

    def _selected_property(self) -> tuple[str, str] | None:
        """The raw key and value under the cursor in the user properties table (never the escaped cell)."""
        row = self.query_one("#user-props", PropertyTable).selected_row()
        if row is None:
            return None
        key, value = row[0], row[1] if len(row) > 1 else ""
        return str(key), compact(value)

    def action_stage_set(self) -> None:
        if not self.app.check_writable("Staging a change"):
            return
        key, value = self._selected_property() or ("", "")
        staging_actions.stage_property(self.app, self.user_id, key, value)

    def action_stage_unset(self) -> None:
        if not self.app.check_writable("Staging a change"):
            return
        selected = self._selected_property()
        if selected is None:
            self.notify("Select a user property first.", severity="warning", markup=False)
            return
        staging_actions.unstage_property(self.app, self.user_id, selected[0])

    def action_reload(self) -> None:
        self.load()

    def action_copy_id(self) -> None:
        copy_text(self.app, self.user_id or self.device_id or "",
                  what="distinct id" if self.vendor == "mixpanel" else "user id")

    def export_document(self) -> dict[str, Any] | None:
        profile = self.profile
        if profile is None:
            return None
        document = profile.to_json()
        if isinstance(profile, MixpanelProfile):
            document = {"requested_id": self.user_id, **document}
        return document

    def action_export(self) -> None:
        document = self.export_document()
        if document is None:
            self.notify("There is no profile loaded to export.", title="Nothing to export", severity="warning",
                        markup=False)
            return
        name = profile_file_name(self.user_id or self.device_id or "", vendor=self.vendor)
        open_export(self, Export("The profile as JSON", name, json_bytes(document)), self._exported,
                    title="Profile")

    def _exported(self, path: Path) -> None:
        self.exported = path
        line = self.query_one("#profile-exported", Static)
        line.update(Content.assemble(("Exported to ", "dim"), literal(str(path))))
        line.display = True

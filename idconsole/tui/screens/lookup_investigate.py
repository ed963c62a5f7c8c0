"""The Lookup screen's investigation keys (a base of `LookupScreen`, kept apart so lookup.py stays one job):
`t` the looked-up user's timeline, `X` the Mixpanel view of the selected id (or of the text in the box, so
a `$device:...` id Amplitude never saw opens too), `C` compare the selected user with the looked-up one,
`R` the report for the ticket. Each one opens its screen; the engine work happens there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input, Tree

from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.widgets.vendor_toggle import LABELS, MIXPANEL, VendorChoice

if TYPE_CHECKING:
    from idconsole.identity.lookup import Lookup


class InvestigateActions(ConsoleScreen[None]):
    """Mixed into LookupScreen, which provides `found` and `selected_id()`."""

    # only t in the footer (the ticket's first question); the palette (ctrl+p) lists every one
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "timeline", "Timeline", id="lookup.timeline",
                tooltip="Events of every id of the looked-up user's tree, merged newest first"),
        Binding("X", "mixpanel_view", "Mixpanel view", id="lookup.mixpanel_view", show=False,
                tooltip="Mixpanel: canonical id, properties, ids observed in the cluster's events"),
        Binding("C", "compare", "Compare", id="lookup.compare", show=False,
                tooltip="The selected user and the looked-up one side by side (before a map or merge)"),
        Binding("R", "report", "Report", id="lookup.report", show=False,
                tooltip="A Markdown summary of the looked-up user for the ticket"),
        Binding("ctrl+t", "toggle_vendor", "Vendor", id="lookup.vendor", show=False,
                tooltip="The box looks ids up in Amplitude or Mixpanel (remembered for this profile)"),
    ]
    _vendor_choice: VendorChoice | None = None

    found: Lookup | None

    if TYPE_CHECKING:
        def selected_id(self) -> str | None: ...

    def _looked_up(self, what: str) -> Lookup | None:
        found = self.found
        if found is None or found.user_id is None:
            self.notify(f"Look a user up first: {what} is about the looked-up user.", title="No user",
                        severity="warning", markup=False)
            return None
        return found

    def action_timeline(self) -> None:
        from idconsole.tui.screens.timeline import TimelineScreen

        if (found := self._looked_up("the timeline")) is not None:
            self.app.push_screen(TimelineScreen(found))

    def on_screen_resume(self) -> None:
        # a timeline, compare or report read streams: the side panel can now list the devices
        from idconsole.tui.widgets.node_details import NodeDetails

        node = self.query_one("#identity-tree", Tree).cursor_node
        if node is not None and node.data is not None:
            self.query_one(NodeDetails).show(node.data)

    # --- the box's vendor ---------------------------------------------------------------------

    @property
    def vendor_choice(self) -> VendorChoice:
        if self._vendor_choice is None:
            from idconsole.identity.vendor_choice import pick_vendor  # the CLI's rule for the default

            ws = self.app.workspace
            if ws is None:
                self._vendor_choice = VendorChoice("default", ())
            else:
                self._vendor_choice = VendorChoice(ws.connection.name, tuple(ws.connection.vendors),
                                                   pick_vendor(ws, None))
        return self._vendor_choice

    def on_mount(self) -> None:
        self._show_vendor()

    def _show_vendor(self) -> None:
        box = self.query_one("#lookup-input", Input)
        if self.vendor_choice.vendor == MIXPANEL:
            box.border_title = "Mixpanel"
            box.placeholder = "Mixpanel distinct id ($device:…, user id) – Enter opens its cluster"
        else:
            box.border_title = None
            box.placeholder = "user id, device id, Amplitude id or email – Enter looks it up"

    def action_toggle_vendor(self) -> None:
        choice = self.vendor_choice
        if not choice.can_toggle:
            self.notify("This profile has one vendor only.", title="Vendor", severity="warning", markup=False)
            return
        vendor = choice.toggle()
        self._show_vendor()
        self.notify(f"The box now looks ids up in {LABELS[vendor]} (remembered for this profile).",
                    title="Vendor", markup=False)

    def asked_in_mixpanel(self, query: str) -> bool:
        """Enter with the toggle on Mixpanel: open the id's Mixpanel view instead of an Amplitude lookup."""
        ws = self.app.workspace
        if ws is None or "amplitude" not in ws.connection.vendors or self.vendor_choice.vendor != MIXPANEL:
            return False   # (a Mixpanel-only profile: lookup() opens the Mixpanel profile as before)
        from idconsole.tui.screens.mixpanel_view import MixpanelViewScreen

        other = self.found.user_id if self.found is not None else None
        self.app.push_screen(MixpanelViewScreen(query, other=other))
        return True

    def _box_text(self) -> str:
        return self.query_one("#lookup-input", Input).value.strip()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ws = self.app.workspace
        vendors = ws.connection.vendors if ws is not None else ()
        if action == "mixpanel_view" and "mixpanel" not in vendors:
            return False
        if action in ("timeline", "compare", "report") and "amplitude" not in vendors:
            return False
        return super().check_action(action, parameters)

    def action_mixpanel_view(self) -> None:
        """The selected id's cluster; with nothing selected, the id typed in the box (a `$device:` id
        Amplitude never saw opens too)."""
        from idconsole.tui.screens.mixpanel_view import MixpanelViewScreen

        typed = self._box_text()
        # a `$device:` id in the box is Mixpanel's own (Amplitude never has one): it wins over the tree
        distinct_id = typed if typed.startswith("$device:") else self.selected_id() or typed
        if not distinct_id:
            self.notify("Type a Mixpanel distinct id in the box (or select a user) first.", title="No id",
                        severity="warning", markup=False)
            return
        other = self.found.user_id if self.found is not None else None
        self.app.push_screen(MixpanelViewScreen(distinct_id, other=other))

    def action_compare(self) -> None:
        from idconsole.tui.screens.compare import CompareScreen

        if (found := self._looked_up("compare")) is None:
            return
        selected = self.selected_id()
        if selected is None or selected == found.user_id:
            self.notify("Select another user in the tree: it is compared with the looked-up user "
                        "(as if mapped into it).", title="Select a user", severity="warning", markup=False)
            return
        self.app.push_screen(CompareScreen(selected, found.user_id or ""))

    def action_report(self) -> None:
        from idconsole.tui.screens.report import ReportScreen

        if (found := self._looked_up("the report")) is not None:
            self.app.push_screen(ReportScreen(found.user_id or ""))

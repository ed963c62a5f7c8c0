"""The Lookup screen's investigation keys (a base of `LookupScreen`, kept apart so lookup.py stays one job):
`t` the looked-up user's timeline, `X` the Mixpanel view of the selected id (or of the text in the box, so
a `$device:...` id Amplitude never saw opens too), `C` compare the selected user with the looked-up one,
`R` the report for the ticket. Each one opens its screen; the engine work happens there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from idconsole.tui.screens.base import ConsoleScreen

if TYPE_CHECKING:
    from idconsole.identity.lookup import Lookup


class InvestigateActions(ConsoleScreen[None]):
    """Mixed into LookupScreen, which provides `found` and `selected_id()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "timeline", "Timeline", id="lookup.timeline",
                tooltip="Events of every id of the looked-up user's tree, merged newest first"),
        Binding("X", "mixpanel_view", "Mixpanel view", id="lookup.mixpanel_view",
                tooltip="Mixpanel: canonical id, properties, ids observed in the cluster's events"),
        Binding("C", "compare", "Compare", id="lookup.compare",
                tooltip="The selected user and the looked-up one side by side (before a map or merge)"),
        Binding("R", "report", "Report", id="lookup.report",
                tooltip="A Markdown summary of the looked-up user for the ticket"),
    ]

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

    def _box_text(self) -> str:
        return self.query_one("#lookup-input", Input).value.strip()

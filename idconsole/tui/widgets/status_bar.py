"""One line at the bottom of every main screen: profile, region, READ-ONLY, staged changes, rate budgets.

Self-contained: it reads `self.app.workspace` (and `self.app.readonly`) and refreshes itself once a
second; call `refresh_status()` after something changed to show it at once. Compose it as `StatusBar()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from idconsole.api.errors import IdConsoleError
from idconsole.tui.text import literal

if TYPE_CHECKING:
    from textual import getters

    from idconsole.tui.app import IdConsoleApp
    from idconsole.workspace import Workspace

#: budget family -> the short label shown; families not listed are shown by their own name
BUDGET_LABELS = {"usermap": "usermap", "usersearch": "search", "profile": "profile", "mixpanel": "mixpanel"}
SEPARATOR = Content(" │ ")


def staged_count(workspace: Workspace) -> int | None:
    """How many changes are staged, or None when staged.json cannot be read (the staged screen says why)."""
    try:
        return len(workspace.staged)
    except IdConsoleError:
        return None


def budget_parts(workspace: Workspace) -> list[Content]:
    parts = []
    for budget in workspace.budgets():
        label = BUDGET_LABELS.get(budget.family, budget.family)
        low = budget.limit and budget.remaining < max(1, budget.limit // 10)
        parts.append(
            Content.assemble(
                (f"{label} ", "dim"),
                (f"{budget.remaining}/{budget.limit}", "bold $error" if low else ""),
            )
        )
    return parts


class StatusBar(Static):
    """`StatusBar()`; `refresh_status()` redraws it now."""

    if TYPE_CHECKING:
        app = getters.app(IdConsoleApp)

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        /* above the Footer, which docks to the same edge */
        margin-bottom: 1;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = "status-bar", classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self._shown: Content | None = None
        #: budgets and the staged count need the client and staged.json: read them after the first frame
        self._full = False

    def on_mount(self) -> None:
        self.refresh_status()
        self.call_after_refresh(self._show_everything)
        self.set_interval(1.0, self.refresh_status)

    def _show_everything(self) -> None:
        self._full = True
        self.refresh_status()

    def status_content(self) -> Content:
        workspace = self.app.workspace
        readonly = self.app.readonly
        parts: list[Content] = []
        if workspace is None:
            parts.append(Content.styled("no connection", "bold"))
        else:
            connection = workspace.connection
            name = literal(connection.name, style="bold")
            if workspace.is_demo:
                name = Content.assemble(name, (" (sandbox)", "dim"))
            parts.append(name)
            parts.append(Content(connection.region.upper()))
        if readonly:
            parts.append(Content("READ-ONLY").stylize("bold reverse $warning"))
        if workspace is not None and self._full:
            # most important first: a narrow terminal cuts the budgets, not the staged count
            count = staged_count(workspace)
            parts.append(Content.assemble(
                ("staged ", "dim"),
                ("?", "bold $error") if count is None else (str(count), "bold $accent" if count else ""),
            ))
            parts.extend(budget_parts(workspace))
        return SEPARATOR.join(parts)

    def refresh_status(self) -> None:
        content = self.status_content()
        if content != self._shown:
            self._shown = content
            self.update(content)

"""The application shell: one Workspace, global keys, the screen stack. Screens do the work.

Contract for screens (reach the app as `self.app`, typed by `screens.base.ConsoleScreen` / `ConsoleModal`):

- `app.workspace` — the active `Workspace`, or None before a connection is chosen.
- `app.active_workspace` — the same, for screens that only exist with one (raises if there is none).
- `app.readonly` — True when nothing may change data (`--readonly` or a read-only workspace).
- `app.check_writable(what)` — False (and tells the user why) when read-only; call it first in
  every action that changes data. `bindings.WriteActionsGuard` hides such bindings.
- `app.set_workspace(ws)` — switch profile: closes the old client, shows the main screen.
- `app.show_error(exc, context=...)` — the error router (`idconsole.tui.errors`).
- `app.open_staged()`, `app.open_plan()`, `app.open_journal()` — navigation between the change screens
  (the screens never import each other for it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.notifications import Notify
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from idconsole.config.errors import IdConsoleError, local_io_error
from idconsole.config.settings import Settings, load_settings, remember_theme
from idconsole.tui.bindings import APP_BINDINGS
from idconsole.tui.commands import IdConsoleCommands
from idconsole.tui.errors import route_worker_error, show_error
from idconsole.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    import httpx

    from idconsole.workspace import Workspace


class PlaceholderScreen(Screen):
    """Stands in for the lookup screen while that module does not exist (partial checkouts)."""

    HELP = "The lookup screen is not available in this build."

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("The lookup screen is not available in this build.", id="placeholder")
        yield StatusBar()
        yield Footer()


class IdConsoleApp(App[int]):
    """`IdConsoleApp(workspace, readonly=False)`; `workspace=None` starts on the Connections screen."""

    # absolute: a relative CSS_PATH is resolved against the module of a subclass (tests subclass the app)
    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    TITLE = "idconsole"
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS
    COMMANDS: ClassVar = {IdConsoleCommands}

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        readonly: bool = False,
        notice: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self._hear(workspace)
        #: the httpx transport for every connection opened from the TUI (None: the network);
        #: tests pass an ASGITransport over the in-process sandbox
        self.transport = transport
        self._readonly = readonly
        #: a message to show once the first screen is up (e.g. why a profile could not be opened)
        self._notice = notice
        #: config.toml (idconsole.config.settings), applied at mount; its theme follows the palette's choice
        self.user_settings: Settings = load_settings()
        self._update_titles()

    # --- the contract -----------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        return self._readonly or bool(self.workspace is not None and self.workspace.readonly)

    @property
    def active_workspace(self) -> Workspace:
        """The active workspace, for the screens that only exist with one (staged, plan, journal...)."""
        if self.workspace is None:
            from idconsole.config.errors import ConfigError

            # such screens are not offered without a connection; reached anyway, say what to do
            raise ConfigError("No connection is open.", hint="ctrl+o opens the connection profiles.")
        return self.workspace

    def check_writable(self, what: str = "This action") -> bool:
        """True if data may be changed; otherwise say why and return False."""
        if not self.readonly:
            return True
        flag = " (--readonly)" if self._readonly else ""
        self.notify(
            f"{what} would change data: this is a read-only session{flag}.",
            title="Read-only",
            severity="warning",
            markup=False,
        )
        return False

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Make `workspace` the active one, close the previous one, and show the main screen."""
        old = self.workspace
        self.workspace = workspace
        self._hear(workspace)
        self._update_titles()
        self._show_main_screen()
        if old is not None and old is not workspace:
            self.run_worker(old.aclose(), group="workspace", exit_on_error=False)

    def on_notify(self, _event: Notify) -> None:
        # runs before Textual adds the new toast: over a dialog one toast at a time, as a stack of them
        # would reach its buttons (toasts sit top right, app.tcss)
        if isinstance(self.screen, ModalScreen):
            self.clear_notifications()

    def show_error(self, exc: BaseException, *, context: str = "") -> None:
        show_error(self, exc, context=context)

    def _hear(self, workspace: Workspace | None) -> None:
        """The workspace's notices (a damaged demo world set aside) become notifications, not stderr."""
        if workspace is not None:
            workspace.on_notice = lambda sentence: self.notify(sentence, title="Demo world", severity="warning",
                                                               markup=False, timeout=15)

    # --- screens ----------------------------------------------------------------------------------

    # The stack is [Textual's blank default screen, the main screen, dialogs...]: the main screen
    # (Lookup, or Connections without a workspace) is the bottom one a user can see.

    def _show_main_screen(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(self._main_screen())

    def _main_screen(self) -> Screen:
        if self.workspace is None:
            from idconsole.tui.screens.connections import ConnectionsScreen

            return ConnectionsScreen()
        try:
            from idconsole.tui.screens.lookup import LookupScreen
        except ModuleNotFoundError as exc:
            if exc.name != "idconsole.tui.screens.lookup":
                raise
            return PlaceholderScreen()
        return LookupScreen()

    def _update_titles(self) -> None:
        if self.workspace is None:
            self.sub_title = "no connection"
            return
        connection = self.workspace.connection
        parts = [connection.name, connection.region.upper()]
        if self.readonly:
            parts.append("read-only")
        self.sub_title = " · ".join(parts)

    def on_mount(self) -> None:
        self._apply_settings()
        self._show_main_screen()
        if self._notice:
            self.notify(self._notice, title="Could not open the profile", severity="error", markup=False,
                        timeout=15)

    def _apply_settings(self) -> None:
        """config.toml's keymap and theme (a bad entry keeps its default and is said once); a theme
        chosen later (the palette's Change theme) is written back to the file."""
        self.set_keymap(self.user_settings.keymap)
        self.theme = self.user_settings.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.user_settings.problems:
            self.notify(self.user_settings.problem_text(), title="Settings", severity="warning", markup=False,
                        timeout=20)

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name == self.user_settings.theme:
            return
        try:
            remember_theme(theme.name)
        except (IdConsoleError, OSError) as exc:
            error = local_io_error(exc) if isinstance(exc, OSError) else exc
            self.notify(str(error), title="Theme not remembered", severity="warning", markup=False)
            return
        self.user_settings = replace(self.user_settings, theme=theme.name)

    async def on_unmount(self) -> None:
        if self.workspace is not None:
            await self.workspace.aclose()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event)

    # --- actions ----------------------------------------------------------------------------------

    def action_help(self) -> None:
        from idconsole.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):  # F1 again closes it
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen))

    def action_connections(self) -> None:
        from idconsole.tui.screens.connections import ConnectionsScreen

        for screen in self.screen_stack[1:]:
            if isinstance(screen, ConnectionsScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(ConnectionsScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the staged set and the journal belong to a profile: nothing to show without one
        if action in ("staged", "journal") and self.workspace is None:
            return False
        # f2 on the staged changes (f3 on the journal) would open a second copy: not offered there
        if action == getattr(self.screen, "NAV_ACTION", None):
            return False
        return super().check_action(action, parameters)

    def action_staged(self) -> None:
        self.open_staged()

    def action_journal(self) -> None:
        self.open_journal()

    # --- navigation between the change screens (they never import each other for it) -------------

    def open_staged(self) -> None:
        from idconsole.tui.screens.staged import StagedScreen

        self.push_screen(StagedScreen())

    def open_plan(self) -> None:
        from idconsole.tui.screens.plan import PlanScreen

        self.push_screen(PlanScreen())

    def open_journal(self) -> None:
        from idconsole.tui.screens.journal import JournalScreen

        self.push_screen(JournalScreen())

    def action_open_demo(self) -> None:
        if self.workspace is not None and self.workspace.is_demo:
            # already there: go back to it rather than start a fresh sandbox (that would drop its state)
            while len(self.screen_stack) > 2:
                self.pop_screen()
            return
        from idconsole.workspace import Workspace

        try:
            workspace = Workspace.demo(readonly=self._readonly)
        except Exception as exc:  # the router shows it; the app stays where it was
            self.show_error(exc, context="Demo")
            return
        self.set_workspace(workspace)

    async def action_back(self) -> None:
        if len(self.screen_stack) > 2:  # never below the main screen
            self.pop_screen()



"""The app shell: first run, demo key, global keys (ids, remap), help, palette, read-only, the error router,
workspace switching, and `run()` (the command line into the TUI)."""

from __future__ import annotations

import argparse
from typing import ClassVar

import pytest
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.worker import Worker
from tui_support import TUI_SIZE, add_profile, make_app, settle

from idconsole.api import errors as api
from idconsole.config.errors import ConfigError
from idconsole.tui import run as tui_run
from idconsole.tui.app import IdConsoleApp
from idconsole.tui.bindings import APP_BINDINGS, WriteActionsGuard
from idconsole.tui.commands import screen_commands
from idconsole.tui.errors import describe, route_worker_error, show_error
from idconsole.tui.screens.connections import ConnectionsScreen
from idconsole.tui.screens.help import HelpScreen
from idconsole.tui.screens.message import MessageScreen
from idconsole.tui.widgets.status_bar import StatusBar

HOSTILE = "[@click=app.quit]x[/] [bold red]boom[/] \x1b[31m"


def _plain(app) -> str:
    # export_screenshot gives SVG; the plain text of every Static/Label is simpler to assert on
    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, (Static, Label)):
            parts.append(str(widget.render()))
    return "\n".join(parts)


class EditorScreen(WriteActionsGuard, Screen):
    """A screen with one read action and one write action, as the lookup/changes screens have."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "view", "View", id="editor.view", tooltip="View it [bold]now[/]"),
        Binding("s", "stage", "Stage", id="editor.stage"),
    ]
    WRITE_ACTIONS = frozenset({"stage"})
    HELP = "An editor for **tests**."

    def __init__(self) -> None:
        super().__init__()
        self.staged = 0

    def compose(self):
        yield StatusBar()
        yield Footer()

    def action_view(self) -> None:
        pass

    def action_stage(self) -> None:
        if self.app.check_writable("Staging"):  # type: ignore[attr-defined]
            self.staged += 1


class FailingScreen(Screen):
    """Runs a worker that fails with the given exception; routes it like every screen does."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def compose(self):
        yield Static("working", id="body")

    def on_mount(self) -> None:
        self.run_worker(self._fail(), exit_on_error=False)

    async def _fail(self) -> None:
        raise self.exc

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Lookup")


# --- first run and the demo ----------------------------------------------------------------------


async def test_first_run_lands_on_connections_with_a_one_key_demo(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        assert app.workspace is None
        assert app.sub_title == "no connection"
        assert app.screen.query_one("#welcome").display
        await pilot.press("d")
        await settle(pilot, app)
        assert app.workspace is not None and app.workspace.is_demo
        assert type(app.screen).__name__ in ("LookupScreen", "PlaceholderScreen")
        assert app.sub_title.startswith("demo · US")
        # the demo workspace has its own state dir; the status bar names it
        assert "demo" in str(app.screen.query_one(StatusBar).status_content())


async def test_demo_key_in_the_demo_goes_back_to_it_without_resetting_the_sandbox(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        main = app.screen
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.workspace is demo_workspace and app.screen is main


async def test_with_a_workspace_the_main_screen_is_lookup_and_esc_never_goes_below_it(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        main = app.screen
        assert type(main).__name__ in ("LookupScreen", "PlaceholderScreen")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        app.set_focus(None)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main


async def test_set_workspace_switches_profile_and_closes_the_old_client(tui_env, tmp_path):
    from idconsole.workspace import Workspace

    first = Workspace.demo(state_dir=tmp_path / "a")
    second = Workspace.demo(state_dir=tmp_path / "b")
    closed: list[str] = []
    for name, ws in (("first", first), ("second", second)):
        ws.aclose = _recording_close(ws.aclose, closed, name)
    app = make_app(first)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        app.set_workspace(second)
        await settle(pilot, app)
        assert app.workspace is second
        assert len(app.screen_stack) == 2  # the blank default screen and the new main screen
        assert closed == ["first"]
    assert closed == ["first", "second"]  # the active one is closed when the app exits


def _recording_close(close, closed, name):
    async def aclose() -> None:
        closed.append(name)
        await close()

    return aclose


# --- keys ------------------------------------------------------------------------------------------


def test_every_global_binding_has_an_id_and_a_description():
    for binding in APP_BINDINGS:
        assert binding.id and binding.id.startswith("app.")
        assert binding.description


async def test_keys_can_be_remapped_by_binding_id(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.set_keymap({"app.help": "f2"})
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_q_quits(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_opens_for_the_focused_screen_and_esc_closes_it(tui_env, key):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Help – Connections" in _plain(app)
        # the screen's own keys, derived from its bindings
        keys = str(app.screen.query_one("#help-keys", Static).render())
        assert "Demo" in keys and "Add" in keys and "Test" in keys and "Connections" in keys
        assert "Cursor up" not in keys  # the table's cursor keys are not the screen's actions
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)


async def test_f1_opens_help_in_dialogs_and_while_typing_and_closes_it_again(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("a")  # the profile form, a modal with the name input focused
        await pilot.pause()
        form = app.screen
        await pilot.press("question_mark")  # typed into the name, not a shortcut
        await pilot.pause()
        assert app.screen is form and form.query_one("#name", Input).value == "?"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys", Static).render())
        assert "Save" in keys and "Cancel" in keys
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen is form


async def test_help_shows_a_screens_how_to(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await app.push_screen(EditorScreen())
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.query_one("#help-how-to") is not None
        keys = str(app.screen.query_one("#help-keys", Static).render())
        assert "View" in keys and "Stage" in keys


async def test_palette_lists_the_screens_actions_with_their_keys(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        commands = {c.name: c.keys for c in screen_commands(app.screen)}
        assert commands["Add"] == "a"
        assert commands["Delete"] == "x / del"
        assert commands["Connections"] == "^o"
        assert commands["Help"] == "? / f1"
        assert "Open demo" not in commands or commands["Demo"] == "d"  # d is the demo here
        assert "Change theme" in commands
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"conn")
        await pilot.pause(0.5)
        prompts = [str(option.prompt) for option in app.screen.query_one(OptionList).options]
        assert any("Connections" in p and "^o" in p for p in prompts)
        await pilot.press("escape")
        await pilot.pause()


async def test_palette_runs_the_chosen_action(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"add")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "ProfileFormScreen"


async def test_palette_is_context_aware(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await app.push_screen(EditorScreen())
        await pilot.pause()
        names = {c.name for c in screen_commands(app.screen)}
        assert {"View", "Stage", "Help", "Connections", "Quit"} <= names
        assert "Add" not in names  # a Connections action, not this screen's
        assert "Open demo" not in names  # already in the demo
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"view")
        await pilot.pause(0.5)
        prompts = [str(option.prompt) for option in app.screen.query_one(OptionList).options]
        assert any("View it [bold]now[/]" in p for p in prompts)  # a tooltip is shown as written


# --- read-only -------------------------------------------------------------------------------------


async def test_readonly_hides_and_refuses_write_actions(tui_env, tmp_path):
    from idconsole.workspace import Workspace

    app = make_app(Workspace.demo(readonly=True, state_dir=tmp_path / "s"), readonly=True)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = EditorScreen()
        await app.push_screen(screen)
        await pilot.pause()
        assert app.readonly
        assert "read-only" in app.sub_title
        assert "READ-ONLY" in str(screen.query_one(StatusBar).status_content())
        actions = {b.binding.action for b in screen.active_bindings.values()}
        assert "view" in actions and "stage" not in actions
        assert "Stage" not in {c.name for c in screen_commands(screen)}
        await pilot.press("s")  # hidden binding: nothing happens
        await pilot.pause()
        assert screen.staged == 0
        assert not app.check_writable("Staging")  # and the action itself refuses, with a reason
        assert any(n.title == "Read-only" for n in app.notifications)
    # and without --readonly the same screen offers it
    app = make_app(Workspace.demo(state_dir=tmp_path / "t"))
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = EditorScreen()
        await app.push_screen(screen)
        await pilot.press("s")
        await pilot.pause()
        assert screen.staged == 1


# --- the error router --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "title", "modal"),
    [
        (api.AuthError("The secret key was rejected."), "Credentials rejected", True),
        (api.Throttled("Too many requests."), "Throttled", False),
        (api.Unavailable("Could not reach amplitude.com."), "Service unreachable", False),
        (api.NotFound("No such user."), "Not found", False),
        (api.ServerRejected("invalid_request"), "Rejected by the server", False),
        (api.UnknownOutcome("It may have been applied."), "Outcome unknown", True),
        (api.NotOffered("Not in the EU."), "Not offered here", False),
        (api.BadInput("Bad id."), "Invalid input", False),
        (ConfigError("No profile."), "Configuration problem", False),
        (KeyError("boom"), "Unexpected error", False),
    ],
)
def test_describe_titles_by_kind(exc, title, modal):
    report = describe(exc)
    assert report.title == title
    assert report.modal is modal
    if title == "Unexpected error":
        assert report.message.startswith("KeyError")


async def test_server_text_with_markup_is_shown_literally_and_triggers_nothing(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE, notifications=True) as pilot:
        await pilot.pause()
        show_error(app, api.ServerRejected(HOSTILE))
        await pilot.pause()
        note = app.notifications[-1]
        assert note.markup is False
        assert note.message.startswith("[@click=app.quit]x[/] [bold red]boom[/]")
        assert "\x1b" not in note.message and "\\x1b" in note.message
        for _ in range(20):  # the toast is mounted a few callbacks later
            await pilot.pause(0.05)
            if app.screen.query("Toast"):
                break
        toast_text = " ".join(str(w.render()) for w in app.screen.query("Toast"))
        assert "[@click=app.quit]x[/]" in toast_text
        await pilot.click("Toast")  # clicking the text must not run app.quit
        await pilot.pause()
        assert app.is_running
        # the modal kind too
        show_error(app, api.AuthError(HOSTILE))
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen)
        assert "[bold red]boom[/]" in str(app.screen.query_one("#message-text", Static).render())
        await pilot.click("#message-text")
        await pilot.pause()
        assert app.is_running
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)


async def test_worker_failures_reach_the_router_and_the_screen_stays_usable(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await app.push_screen(FailingScreen(api.Throttled("slow down [b]now[/b]")))
        await settle(pilot, app)
        assert app.is_running and isinstance(app.screen, FailingScreen)
        note = app.notifications[-1]
        assert note.title == "Lookup: Throttled"
        assert note.message == "slow down [b]now[/b]"
        await app.push_screen(FailingScreen(RuntimeError("internal detail")))
        await settle(pilot, app)
        note = app.notifications[-1]
        assert note.title == "Lookup: Unexpected error"
        assert note.message == "RuntimeError: internal detail"
        assert "Traceback" not in note.message


# --- run(): the command line into the TUI ---------------------------------------------------------


def _ns(**kw) -> argparse.Namespace:
    return argparse.Namespace(demo=kw.get("demo", False), profile=kw.get("profile"), readonly=kw.get("readonly", False))


@pytest.fixture
def captured_apps(monkeypatch):
    apps: list[IdConsoleApp] = []

    def fake_run(self, *args, **kwargs):
        apps.append(self)

    monkeypatch.setattr(IdConsoleApp, "run", fake_run)
    return apps


def test_run_without_configuration_opens_connections(tui_env, captured_apps):
    assert tui_run.run(_ns()) == 0
    (app,) = captured_apps
    assert app.workspace is None


def test_run_demo_and_readonly(tui_env, captured_apps):
    assert tui_run.run(_ns(demo=True, readonly=True)) == 0
    (app,) = captured_apps
    assert app.workspace.is_demo and app.workspace.readonly and app.readonly


def test_run_profile_and_environment(tui_env, captured_apps, monkeypatch):
    add_profile("acme")
    assert tui_run.run(_ns(profile="acme")) == 0
    assert captured_apps[-1].workspace.connection.name == "acme"
    monkeypatch.setenv("IDCONSOLE_AMPLITUDE_API_KEY", "k")
    monkeypatch.setenv("IDCONSOLE_AMPLITUDE_SECRET_KEY", "s")
    assert tui_run.run(_ns()) == 0
    assert captured_apps[-1].workspace.connection.name == "env"


def test_run_unknown_profile_exits_2_with_a_clear_message(tui_env, captured_apps, capsys):
    assert tui_run.run(_ns(profile="nosuch")) == 2
    assert not captured_apps
    err = capsys.readouterr().err
    assert err.startswith("idconsole: No profile named 'nosuch'")
    assert "Traceback" not in err


def test_run_demo_and_profile_together_is_a_usage_error(tui_env, captured_apps, capsys):
    assert tui_run.run(_ns(demo=True, profile="acme")) == 2
    assert not captured_apps
    assert "--demo and --profile cannot be used together" in capsys.readouterr().err


def test_run_profile_with_missing_secrets_opens_connections_with_the_reason(tui_env, captured_apps):
    add_profile("acme", secret_values={})
    assert tui_run.run(_ns(profile="acme")) == 0
    (app,) = captured_apps
    assert app.workspace is None
    assert "missing" in app._notice and "Amplitude API key" in app._notice


def test_the_command_line_reaches_run(tui_env, captured_apps, capsys):
    from idconsole.cli import main

    assert main(["--profile", "nosuch"]) == 2
    assert "No profile named 'nosuch'" in capsys.readouterr().err
    assert main(["--readonly"]) == 0
    assert captured_apps[-1].workspace is None and captured_apps[-1].readonly


# --- the status bar ----------------------------------------------------------------------------------


async def test_status_bar_counts_staged_changes_and_says_when_it_cannot(tui_env, tmp_path):
    from idconsole.changes.model import Change
    from idconsole.workspace import Workspace

    workspace = Workspace.demo(state_dir=tmp_path / "s")
    workspace.staged.add(Change.map("a@example.com", "b@example.com"))
    app = make_app(workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        text = str(bar.status_content())
        assert text.startswith("demo (sandbox) │ US │ staged 1 │ usermap ")
        assert "READ-ONLY" not in text
        broken = Workspace.demo(state_dir=tmp_path / "t")
        (tmp_path / "t").mkdir()
        (tmp_path / "t" / "staged.json").write_text("{not json")
        app.workspace = broken  # what the bar reads; the next refresh shows it
        bar.refresh_status()
        assert "staged ?" in str(bar.status_content())
        await broken.aclose()

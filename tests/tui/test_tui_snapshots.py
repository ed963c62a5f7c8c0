"""Pictures of the shell's screens at 120x40 (pytest-textual-snapshot). Regenerate after a deliberate
change with `pytest tests/test_tui_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

from textual.widgets import Checkbox, DataTable, Input
from tui_support import TUI_SIZE, add_profile, make_app

from idconsole.workspace import Workspace


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_connections_first_run(snap_compare, no_keyring):
    """First run on a machine without a keyring: the sentence, the welcome, the demo row."""
    assert snap_compare(make_app(), terminal_size=TUI_SIZE, run_before=_settle)


def test_connections_with_profiles(snap_compare, tui_env, monkeypatch):
    add_profile("acme-prod", vendors=("amplitude", "mixpanel"), region="eu", base_url=None,
                sa_username="svc.acme", project_id="12345")
    add_profile("staging", base_url="http://127.0.0.1:8765")
    add_profile("half-done", vendors=("amplitude",), secret_values={"amplitude_api_key": "k"})
    monkeypatch.setenv("IDCONSOLE_MIXPANEL_TOKEN", "from-env")
    monkeypatch.setenv("IDCONSOLE_MIXPANEL_API_SECRET", "from-env")

    async def select_acme(pilot) -> None:
        await _settle(pilot)
        table = pilot.app.screen.query_one("#profiles", DataTable)
        table.move_cursor(row=table.get_row_index("acme-prod"))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=TUI_SIZE, run_before=select_acme)


def test_profile_form(snap_compare, tui_env):
    async def open_form(pilot) -> None:
        await pilot.press("a")
        await pilot.pause()
        form = pilot.app.screen
        form.query_one("#name", Input).value = "acme-prod"
        form.query_one("#amplitude-api-key", Input).value = "typed-secret"  # shown as dots
        form.query_one("#use-mixpanel", Checkbox).value = True
        await pilot.pause()
        form.query_one("#name", Input).focus()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=TUI_SIZE, run_before=open_form)


def test_help_on_connections(snap_compare, tui_env):
    assert snap_compare(make_app(), press=["question_mark"], terminal_size=TUI_SIZE)


def test_palette_on_connections(snap_compare, tui_env):
    async def open_palette(pilot) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*"e")
        await pilot.pause(0.5)

    assert snap_compare(make_app(), terminal_size=TUI_SIZE, run_before=open_palette)


def test_status_bar_readonly(snap_compare, tui_env, tmp_path):
    """The status bar on a read-only demo session: READ-ONLY, rate budgets, staged count."""
    workspace = Workspace.demo(readonly=True, state_dir=tmp_path / "state")

    async def to_connections(pilot) -> None:
        await pilot.press("ctrl+o")
        await _settle(pilot)

    assert snap_compare(make_app(workspace, readonly=True), terminal_size=TUI_SIZE, run_before=to_connections)

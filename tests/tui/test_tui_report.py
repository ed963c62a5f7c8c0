"""Pilot tests of the report screen (`R` on Lookup) on the demo sandbox: the Markdown for the story user,
`c` sends it to the terminal's clipboard (and says not every terminal honours it), `e` then Enter writes a
new file in the current directory and shows its path; no secret in it."""

from __future__ import annotations

import stat

import pytest
from test_tui_export import open_dialog
from textual.widgets import Input
from tui_support import SANDBOX_SECRETS, TUI_SIZE, make_app, settle

from idconsole.sandbox import demo
from idconsole.tui.export_path import ExportError, report_file_name, write_new
from idconsole.tui.screens.export_dialog import ExportDialog
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.report import ReportScreen

pytestmark = pytest.mark.usefixtures("tui_env")


async def open_report(pilot, app, query: str) -> ReportScreen:
    await settle(pilot, app)
    box = app.screen.query_one("#lookup-input", Input)
    box.value = query
    box.focus()
    await pilot.press("enter")
    await settle(pilot, app)
    app.screen.identity_tree.focus()
    await pilot.press("R")
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, ReportScreen)
    return screen


async def test_report_copy_and_export(demo_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(demo_workspace)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await open_report(pilot, app, demo.STORY_USER)
        text = screen.text
        assert text is not None and demo.STORY_USER in text and demo.STORY_PHONE_USER in text
        assert text.lstrip().startswith("#")
        for secret in SANDBOX_SECRETS.values():
            assert secret not in text
        assert demo.STORY_USER in str(screen.query_one("#report-text").render())
        await pilot.press("c")
        await pilot.pause()
        assert copied == [text]
        note = app.notifications[-1]
        assert "terminal's clipboard" in note.message and "Not every terminal" in note.message
        assert note.markup is False
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await pilot.pause()
        files = list(tmp_path.glob("idconsole-report-*.md"))
        assert len(files) == 1 and files[0].read_text(encoding="utf-8").strip() == text.strip()
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert str(files[0]) in app.notifications[-1].message
        assert str(files[0].name) in str(screen.query_one("#report-status").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LookupScreen)


async def test_export_where_it_cannot_be_written_says_so(demo_workspace, tmp_path):
    """A directory that cannot take the file (here: a file where the directory should be — root ignores
    permission bits): one sentence in the dialog, nothing written, the dialog stays for another path."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = ReportScreen(demo.STORY_USER, directory=blocker)
        dialog = await open_dialog(pilot, app, screen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "Nothing was written" in dialog.error
        assert str(blocker) in dialog.error and "is a file, not a directory" in dialog.error
        assert screen.exported is None
        assert blocker.read_text(encoding="utf-8") == "x"


def test_export_never_overwrites_and_names_safely(tmp_path):
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert report_file_name("../[bold]x/$(rm)", now) == "idconsole-report-bold_x_rm-20260102-030405.md"
    first = tmp_path / report_file_name("u", now)
    write_new(first, b"# a\n")
    with pytest.raises(ExportError, match="already there and is never overwritten"):
        write_new(first, b"# b\n")
    assert first.read_text(encoding="utf-8") == "# a\n"
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp file left behind


async def test_a_hostile_id_is_shown_literally(demo_workspace):
    hostile = demo.MARKUP_IDS[0]   # "[bold red]admin[/]"
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = ReportScreen(hostile)
        app.push_screen(screen)
        await settle(pilot, app)
        assert screen.text is not None and hostile in screen.text
        shown = str(screen.query_one("#report-text").render())
        assert hostile in shown and "\x1b" not in shown

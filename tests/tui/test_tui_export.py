"""`e` on the Profile and Report screens opens "Export to", prefilled with the current directory and a generated
name: Enter writes there; a typed file or directory goes where it says; a path that cannot be written is one
sentence in the dialog (nothing written, the dialog stays); an existing file is never overwritten; Esc writes
nothing. The rules are `tui/export_path.py`'s, the dialog `screens/export_dialog.py`.

Real faults only: a file where a directory should be, a missing directory, a read-only directory (chmod
0555; as root, who ignores modes, the write runs with the effective uid of `nobody` for that key press).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Static
from tui_support import TUI_SIZE, make_app, settle

from idconsole.sandbox import demo
from idconsole.tui.export_path import default_path, profile_file_name, resolve
from idconsole.tui.screens.export_dialog import ExportDialog
from idconsole.tui.screens.profile import ProfileScreen
from idconsole.tui.screens.report import ReportScreen

pytestmark = pytest.mark.usefixtures("tui_env")

NAME = profile_file_name(demo.STORY_USER)
NOBODY = 65534


async def open_dialog(pilot, app, screen) -> ExportDialog:
    await settle(pilot, app)
    app.push_screen(screen)
    await settle(pilot, app)
    await pilot.press("e")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def type_path(pilot, dialog: ExportDialog, text: str) -> None:
    box = dialog.query_one("#export-path", Input)
    box.value = text
    box.cursor_position = len(text)
    await pilot.press("enter")
    await pilot.pause()


def shown(widget: Static) -> str:
    return str(widget.render())


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Permission bits apply inside (root ignores them): the effective uid is `nobody` meanwhile."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


async def test_e_then_enter_writes_the_default_file_here_and_says_where(demo_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        profile = ProfileScreen(demo.STORY_USER)
        dialog = await open_dialog(pilot, app, profile)
        box = dialog.query_one("#export-path", Input)
        assert box.value == str(tmp_path / NAME) and box.cursor_position == len(box.value)
        assert app.focused is box
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is profile
        target = tmp_path / NAME
        assert profile.exported == target and json.loads(target.read_text("utf-8"))["user_id"] == demo.STORY_USER
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert [p.name for p in tmp_path.iterdir()] == [NAME]  # no temp file left behind
        line = profile.query_one("#profile-exported", Static)
        assert line.display and str(target) in shown(line)  # the screen's status line has the full path
        note = app.notifications[-1]
        assert note.title == "Exported" and str(target) in note.message and note.markup is False
        # again: the name is taken, so the default is the next free one (Enter still just works)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#export-path", Input).value == str(tmp_path / NAME.replace(".json", "-2.json"))
        await pilot.press("enter")
        await pilot.pause()
        assert profile.exported == tmp_path / NAME.replace(".json", "-2.json") and profile.exported.is_file()


async def test_the_report_goes_into_a_typed_directory_and_its_status_shows_the_path(demo_workspace, tmp_path,
                                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    home = tmp_path / "home"
    (home / "tickets").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        report = ReportScreen(demo.STORY_USER)
        dialog = await open_dialog(pilot, app, report)
        await type_path(pilot, dialog, "out")  # relative: from the current directory
        assert app.screen is report
        (written,) = (tmp_path / "out").iterdir()
        assert written.name.startswith("idconsole-report-") and written.suffix == ".md"
        assert report.exported == written and written.read_text("utf-8").strip() == (report.text or "").strip()
        assert str(written) in shown(report.query_one("#report-status", Static))
        dialog = await open_dialog(pilot, app, ReportScreen(demo.STORY_USER))
        await type_path(pilot, dialog, "~/tickets/SUP-12.md")  # a file, `~` expanded
        assert (home / "tickets" / "SUP-12.md").is_file()
        assert stat.S_IMODE((home / "tickets" / "SUP-12.md").stat().st_mode) == 0o600


async def test_a_read_only_directory_is_one_sentence_and_the_dialog_stays(demo_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with tempfile.TemporaryDirectory() as top:  # outside pytest's owner-only tmp tree, so `nobody` can reach it
        os.chmod(top, 0o755)
        locked = Path(top) / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        app = make_app(demo_workspace)
        try:
            async with app.run_test(size=TUI_SIZE) as pilot:
                dialog = await open_dialog(pilot, app, ProfileScreen(demo.STORY_USER))
                with unprivileged():
                    await type_path(pilot, dialog, str(locked))
                assert app.screen is dialog
                assert dialog.error == f"Could not write {locked / NAME}: permission denied. Nothing was written."
                assert dialog.error in shown(dialog.query_one("#export-error", Static))
                assert list(locked.iterdir()) == []
                # fixed by typing another path: the same dialog writes it
                await type_path(pilot, dialog, str(tmp_path))
                assert app.screen is not dialog and (tmp_path / NAME).is_file()
        finally:
            locked.chmod(0o755)


async def test_a_missing_directory_or_a_file_as_parent_is_said_and_nothing_is_written(demo_workspace, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        dialog = await open_dialog(pilot, app, ProfileScreen(demo.STORY_USER))
        await type_path(pilot, dialog, "no-such-dir/p.json")
        assert app.screen is dialog
        assert dialog.error == (f"Could not write {tmp_path / 'no-such-dir' / 'p.json'}: the directory "
                                f"{tmp_path / 'no-such-dir'} does not exist. Nothing was written.")
        await type_path(pilot, dialog, "plain.txt/p.json")
        assert app.screen is dialog and "a part of that path is a file, not a directory" in dialog.error
        assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]  # no directory made, nothing written


async def test_an_existing_file_is_never_overwritten(demo_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keep = tmp_path / "keep.json"
    keep.write_text("precious", encoding="utf-8")
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        profile = ProfileScreen(demo.STORY_USER)
        dialog = await open_dialog(pilot, app, profile)
        await type_path(pilot, dialog, "keep.json")
        assert app.screen is dialog and profile.exported is None
        assert dialog.error == (f"Could not write {keep}: a file of that name is already there and is never "
                                "overwritten; type another name. Nothing was written.")
        assert keep.read_text(encoding="utf-8") == "precious"
        assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


async def test_escape_writes_nothing(demo_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        profile = ProfileScreen(demo.STORY_USER)
        await open_dialog(pilot, app, profile)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is profile and profile.exported is None
        assert list(tmp_path.iterdir()) == [] and not profile.query_one("#profile-exported", Static).display
        assert not [n for n in app.notifications if n.title == "Exported"]


def test_the_path_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "d").mkdir()
    assert default_path("a.json", cwd=tmp_path) == tmp_path / "a.json"
    assert resolve("", "a.json", cwd=tmp_path) == tmp_path / "a.json"
    assert resolve("  d  ", "a.json", cwd=tmp_path) == tmp_path / "d" / "a.json"
    assert resolve("new/", "a.json", cwd=tmp_path) == tmp_path / "new" / "a.json"  # a directory by its slash
    assert resolve("x.json", "a.json", cwd=tmp_path) == tmp_path / "x.json"
    assert resolve("~/x.json", "a.json", cwd=tmp_path) == tmp_path / "home" / "x.json"
    assert resolve(str(tmp_path / "d" / "y"), "a.json", cwd=Path("/")) == tmp_path / "d" / "y"
    (tmp_path / "d" / "a.json").write_text("", encoding="utf-8")
    assert resolve("d", "a.json", cwd=tmp_path) == tmp_path / "d" / "a-2.json"

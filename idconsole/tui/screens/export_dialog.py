"""The "Export to" dialog that `e` opens on the Profile and Report screens: one box prefilled with the default
path (the current directory and a generated name, cursor at the end) so Enter writes at once; the user may
type another file or a directory instead. The rules (names, resolving, writing owner-only and atomically,
never overwriting, the error sentence) are `tui/export_path.py`'s; this is only their face.

A failure is said in the dialog in one sentence and the dialog stays, so the path can be fixed; Esc
writes nothing. `open_export` shows where the file went (notification, then the caller's status line).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from idconsole.tui.export_path import Export, ExportError, default_path, export_to
from idconsole.tui.screens.base import ConsoleModal
from idconsole.tui.text import literal, visible


class ExportDialog(ConsoleModal[Path | None]):
    """`ExportDialog(export, directory=None)`: dismisses with the path written, or None (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel", tooltip="Close without writing anything"),
    ]
    HELP = """\
## Export to

**Enter** writes to the path in the box: the current directory and a generated name. Type another file
name, or a directory (the generated name is used inside it); `~` is your home, a relative path starts
in the current directory. The file is owner-only and an existing file is never overwritten. **Esc**
cancels; nothing is written.
"""
    DEFAULT_CSS = """
    ExportDialog #export-what { color: $text-muted; margin-bottom: 1; }
    ExportDialog #export-error { color: $text-error; height: auto; margin-top: 1; }
    ExportDialog #export-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, export: Export, *, directory: Path | None = None) -> None:
        super().__init__()
        self.export = export
        self.directory = directory or Path.cwd()
        #: the sentence shown after a failed write ("" when none), as plain text for tests
        self.error = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static("Export to", classes="dialog-title", markup=False)
            what = Content.assemble(self.export.what, ". A directory gets the file ", literal(self.export.name), ".")
            yield Static(what, id="export-what", markup=False)
            yield Input(str(default_path(self.export.name, cwd=self.directory)), id="export-path",
                        placeholder="a file or a directory – Enter writes")
            yield Static("", id="export-error", markup=False)
            yield Static("Enter writes (owner-only; never over an existing file) · Esc cancels", id="export-hint",
                         markup=False)

    def on_mount(self) -> None:
        # wider than a plain dialog (paths are long); inline, as the app's `.dialog` rule outranks DEFAULT_CSS
        self.query_one("#export-dialog").styles.width = 100
        box = self.query_one("#export-path", Input)
        box.focus()
        box.cursor_position = len(box.value)  # Enter accepts it as it is; typing edits the end (the name)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            path = export_to(event.value, self.export, cwd=self.directory)
        except ExportError as exc:
            self.error = str(exc)
            self.query_one("#export-error", Static).update(literal(self.error))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_export(screen: Screen[Any], export: Export, on_written: Callable[[Path], None], *,
                title: str, directory: Path | None = None) -> None:
    """Open the dialog over `screen`; once written, say the full path (notification) and call `on_written`."""

    def written(path: Path | None) -> None:
        if path is None:
            return
        screen.notify(f"{title} written to {visible(str(path))}", title="Exported", markup=False, timeout=8)
        on_written(path)

    screen.app.push_screen(ExportDialog(export, directory=directory), written)

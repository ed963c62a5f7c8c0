"""The staged changes' CSV import (`i`): the path asked in a dialog, the file read and validated off the UI
thread, every row staged in one write or none — and when none, each bad row listed with its line number
under the table (`ImportErrors`) until the next import succeeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from idconsole.tui.bindings import WriteActionsGuard
from idconsole.tui.display import plural
from idconsole.tui.errors import show_error
from idconsole.tui.text import visible
from idconsole.tui.widgets.import_errors import ImportErrors

if TYPE_CHECKING:
    from idconsole.changes import Change, StagedSet


class StagedImport(WriteActionsGuard[None]):
    """The import half of `StagedScreen`, which gives it `staged` and `_edit`."""

    if TYPE_CHECKING:
        @property
        def staged(self) -> StagedSet: ...

        def _edit(self, what: str, fn: Callable[[], Any], *, select_id: str | None = None) -> bool: ...

    def action_import_csv(self) -> None:
        if not self.app.check_writable("Importing changes"):
            return
        from idconsole.tui.screens.stage_dialog import ImportCsvDialog

        def done(path: str | None) -> None:
            if path:
                self.import_csv(path)

        self.app.push_screen(ImportCsvDialog(), done)

    @work(group="staged-import", exclusive=True, exit_on_error=False, thread=True)
    def import_csv(self, path: str) -> None:
        """Read and validate the CSV off the UI thread; stage every row in one write, or none."""
        from idconsole.changes import import_csv

        try:
            parsed = list(import_csv(Path(path).expanduser()))
        except Exception as exc:
            self.app.call_from_thread(self._import_failed, path, exc)
            return
        self.app.call_from_thread(self._stage_imported, path, parsed)

    def _import_failed(self, path: str, exc: BaseException) -> None:
        from idconsole.changes import CsvImportError

        rows = list(exc.errors) if isinstance(exc, CsvImportError) else []
        if not rows:
            show_error(self.app, exc, context="Import (nothing was staged)")
            return
        self.query_one(ImportErrors).show(Path(path).name, rows)
        self.notify(f"{plural(len(rows), 'bad row')} in the file; nothing was staged (each is listed with its "
                    "line number under the table).", title="Import failed", severity="warning", markup=False)

    def _stage_imported(self, path: str, parsed: list[Change]) -> None:
        self.query_one(ImportErrors).dismiss()
        if not parsed:
            self.notify("The file has no changes in it; nothing was staged.", title="Import", markup=False)
            return
        if self._edit("Import", lambda: self.staged.extend(parsed)):
            self.notify(f"Staged {plural(len(parsed), 'change')} from {visible(path, limit=80)}.",
                        title="Imported", markup=False)

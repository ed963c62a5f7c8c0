"""The report for the ticket (`R` on Lookup): `identity.report`'s Markdown for the looked-up user, the same
text `idconsole report ID` prints, scrubbed with the workspace's redactor. `c` sends it to the terminal's
clipboard (OSC 52, which not every terminal honours), `e` exports it to a new file in the current directory
or a path the user types (`export_dialog`). Nothing is written unless exported (the report holds ids, which
are personal data).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from idconsole.identity.report import MAX_IDS, build_report, to_markdown
from idconsole.tui.errors import route_worker_error
from idconsole.tui.export_path import Export, report_file_name, text_bytes
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.screens.export_dialog import open_export
from idconsole.tui.text import literal, visible

COPIED = ("Sent the report ({n} characters) to the terminal's clipboard (OSC 52). Not every terminal "
          "honours it: if nothing arrives, export it with e.")


class ReportScreen(ConsoleScreen[None]):
    """`ReportScreen(user_id, journal_id=None)`."""

    HELP_TITLE = "Report"
    HELP = f"""\
A **Markdown summary for the ticket**: the ids and how they resolve, the identity tree, an activity summary
per id, where the identity changed, and the staged plan (when it concerns this user). Credentials, event
and user property values are left out. Building it reads one page of user activity for each of up to
{MAX_IDS} ids (the 360/hour budget).

- **c** sends it to the terminal's clipboard (OSC 52 — not every terminal honours it)
- **e** exports it to a new file: Enter takes the current directory, or type a file or directory
  (the path is shown)
- **Esc** back
"""
    DEFAULT_CSS = """
    ReportScreen #report-status { height: auto; padding: 0 1; }
    ReportScreen #report-scroll { height: 1fr; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="report.copy", tooltip="Send the report to the terminal's clipboard"),
        Binding("e", "export", "Export", id="report.export",
                tooltip="Write the report to a file here or a path you type"),
        Binding("escape", "back", "Back", id="report.back"),
    ]

    def __init__(self, user_id: str, *, journal_id: str | None = None, directory: Path | None = None) -> None:
        super().__init__()
        self.user_id = user_id
        self.journal_id = journal_id
        self.directory = directory
        self.text: str | None = None
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content.assemble(("Building the report for ", "dim"), literal(self.user_id, limit=80),
                                      (f"… (one activity page for each of up to {MAX_IDS} ids)", "dim")),
                     id="report-status", markup=False)
        with VerticalScroll(id="report-scroll"):
            yield Static(id="report-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Report: {literal(self.user_id, limit=60).plain}"
        self.build()

    @work(group="report", exclusive=True, exit_on_error=False)
    async def build(self) -> None:
        ws = self.app.active_workspace
        try:
            report = await build_report(ws, self.user_id, journal_id=self.journal_id)
        except Exception as exc:
            self.app.show_error(exc, context="Report failed")
            self._status(Content.assemble(("Report failed: ", "bold"), literal(str(exc), limit=400)))
            return
        if not report.known:
            self._status(Content.assemble("Amplitude does not know ", literal(self.user_id, limit=80), "."))
            return
        self.show_text(to_markdown(report, redact=ws.redactor()))

    def _status(self, content: Content) -> None:
        self.query_one("#report-status", Static).update(content)

    def show_text(self, text: str) -> None:
        self.text = text
        # shown exactly as it will be pasted: the Markdown source, never rendered or parsed as markup
        self.query_one("#report-text", Static).update(Content("\n".join(visible(line) for line in text.splitlines())))
        self._status(Content(f"{len(text.splitlines())} lines.  c: copy to the clipboard   e: export to a file")
                     .stylize("dim"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy", "export"):
            return self.text is not None
        return True

    def action_copy(self) -> None:
        if self.text is None:
            return
        self.app.copy_to_clipboard(self.text)   # OSC 52 (tui/clipboard.py's way): base64 on the wire
        self.notify(COPIED.format(n=len(self.text)), title="Copied", markup=False, timeout=6)

    def action_export(self) -> None:
        if self.text is None:
            return
        export = Export("The report as Markdown", report_file_name(self.user_id, dt.datetime.now()),
                        text_bytes(self.text))
        open_export(self, export, self._exported, title="Report", directory=self.directory)

    def _exported(self, path: Path) -> None:
        self.exported = path
        self._status(Content.assemble(("Exported to ", "dim"), literal(str(path))))

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Report")

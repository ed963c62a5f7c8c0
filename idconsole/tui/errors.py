"""The one place that turns a failure into something a support engineer can read.

Every worker error and every caught exception in the TUI goes through `show_error()`:

- a title chosen by the kind of error (`Credentials rejected`, `Throttled`, `Service unreachable`, ...),
- the error's own text shown literally (never parsed as markup, control characters made visible),
- never a traceback; an exception we did not raise on purpose shows `Unexpected error` and its type name.

Errors the user must act on (credentials rejected, outcome unknown) open a modal; the rest are
notifications. Either way the screen stays usable.

Worker errors: `Worker.StateChanged` does not bubble in Textual, so a screen that runs workers routes
them with one line::

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event)

(run workers with `exit_on_error=False`, otherwise Textual exits the app on the first failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from idconsole.tui.text import visible

if TYPE_CHECKING:
    from textual.app import App
from textual.notifications import SeverityLevel

#: longest error text shown; server bodies are already shortened by the api layer
MESSAGE_LIMIT = 600


@dataclass(frozen=True)
class ErrorReport:
    """What the user sees: a title of our own words and the error's text (untrusted, shown literally)."""

    title: str
    message: str
    severity: SeverityLevel = "error"
    #: open a modal that must be dismissed instead of a transient notification
    modal: bool = False


def describe(exc: BaseException) -> ErrorReport:
    """Classify an exception. Pure: no Textual, easy to test."""
    # imported here so the first screen does not pay for the api package
    from idconsole.api import errors as api
    from idconsole.config.errors import ConfigError

    text = visible(str(exc), limit=MESSAGE_LIMIT)
    if isinstance(exc, api.AuthError):
        return ErrorReport("Credentials rejected", text, modal=True)
    if isinstance(exc, api.Throttled):
        return ErrorReport("Throttled", text, severity="warning")
    if isinstance(exc, api.Unavailable):
        return ErrorReport("Service unreachable", text)
    if isinstance(exc, api.NotFound):
        return ErrorReport("Not found", text, severity="warning")
    if isinstance(exc, api.ServerRejected):
        return ErrorReport("Rejected by the server", text)
    if isinstance(exc, api.UnknownOutcome):
        return ErrorReport("Outcome unknown", text, modal=True)
    if isinstance(exc, api.NotOffered):
        return ErrorReport("Not offered here", text, severity="warning")
    if isinstance(exc, api.BadInput):
        return ErrorReport("Invalid input", text, severity="warning")
    if isinstance(exc, ConfigError):
        return ErrorReport("Configuration problem", text, severity="warning")
    if isinstance(exc, api.IdConsoleError):
        return ErrorReport("Error", text)
    detail = visible(str(exc), limit=MESSAGE_LIMIT)
    name = type(exc).__name__
    return ErrorReport("Unexpected error", f"{name}: {detail}" if detail else name)


def show_error(app: App, exc: BaseException, *, context: str = "") -> ErrorReport:
    """Show `exc` to the user (notification or modal). `context` is our own words, e.g. "Lookup failed".

    Returns the report shown (tests and callers that also want to write it inline use it).
    """
    report = describe(exc)
    title = f"{context}: {report.title}" if context else report.title
    if report.modal:
        from idconsole.tui.screens.message import MessageScreen

        app.push_screen(MessageScreen(title, report.message, severity=report.severity))
    else:
        # markup=False: the text came from a server or a file and is shown exactly as it is
        app.notify(report.message, title=title, severity=report.severity, markup=False, timeout=8)
    return report


def route_worker_error(event: Worker.StateChanged, *, context: str = "") -> bool:
    """Show the error of a failed worker. True if the event was an error (and was shown)."""
    worker = event.worker
    if event.state != WorkerState.ERROR or worker.error is None:
        return False
    show_error(worker.node.app, worker.error, context=context)
    return True

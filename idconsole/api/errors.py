"""One small error hierarchy for every API failure.

Messages say what happened and what to do next. They are built from our own words plus
server text that has been truncated; they never contain a secret (the transport strips
credentials before any text reaches an error). The base, `IdConsoleError`, is defined once in the lowest
layer (`idconsole.config.errors`, so config errors share it) and re-exported here.
"""

from __future__ import annotations

from idconsole.config.errors import IdConsoleError as IdConsoleError  # re-exported: its one definition


class BadInput(IdConsoleError):
    """The request was wrong before it was sent (validation, usage, not offered in region)."""

    exit_code = 2
    kind = "bad_input"


class NotOffered(BadInput):
    """The API does not exist for this region or account (EU User Profile API)."""

    kind = "not_offered"


class AuthError(IdConsoleError):
    """Credentials were rejected (401/403). `credential` names which one, never its value."""

    exit_code = 3
    kind = "auth"

    def __init__(self, message: str, *, credential: str = "", hint: str = "", status: int = 401) -> None:
        super().__init__(message, hint=hint)
        self.credential = credential
        self.status = status


class Throttled(IdConsoleError):
    """The service said slow down (429) and retries ran out."""

    exit_code = 4
    kind = "throttled"

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class Unavailable(IdConsoleError):
    """Connection errors, timeouts or 5xx that outlived every retry."""

    exit_code = 4
    kind = "unavailable"


class ServerRejected(IdConsoleError):
    """The server refused the request itself (400, 413, status 0, failed records). Not retried."""

    exit_code = 1
    kind = "rejected"

    def __init__(self, message: str, *, status: int | None = None, reason: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason


class NotFound(ServerRejected):
    """The service has never seen this user."""

    kind = "not_found"


class UnknownOutcome(IdConsoleError):
    """A non-idempotent request failed after it may have reached the server; it was not retried."""

    exit_code = 1
    kind = "unknown_outcome"


def shorten(text: str, limit: int = 300) -> str:
    """Server text in an error message: one line, bounded, so a huge body cannot flood a screen."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

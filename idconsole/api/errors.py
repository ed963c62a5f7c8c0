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

    def __init__(self, message: str, *, credential: str = "", hint: str = "", status: int = 401,
                 reason: str = "") -> None:
        super().__init__(message, hint=hint)
        self.credential = credential
        self.status = status
        #: the server's own words (redacted, shortened): a 403 may say why (a missing add-on)
        self.reason = reason


class NoEntitlement(NotOffered):
    """The credentials were accepted but the project lacks a paid feature (user mapping needs the
    Portfolio add-on): a 403 whose body names the add-on / entitlement, not a bad key."""

    kind = "no_entitlement"

    def __init__(self, message: str, *, feature: str = "", hint: str = "", status: int = 403,
                 reason: str = "") -> None:
        super().__init__(message, hint=hint)
        self.feature = feature
        self.status = status
        self.reason = reason


class NoSuchEndpoint(IdConsoleError):
    """A 404 that is none of the documented unknown-user answers: the server at this base URL does not
    serve the route (a wrong base URL or proxy path), which says nothing about the user."""

    exit_code = 4
    kind = "no_endpoint"

    def __init__(self, message: str, *, path: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = path


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


class MalformedAnswer(ServerRejected):
    """The server answered, but not in any shape the API has (an id that is an object, a missing
    field, text where JSON belongs): reported, never shown as if it were data."""

    kind = "malformed"


class ActivityNotOffered(NotOffered):
    """An activity endpoint this project does not offer (Mixpanel's Profile Event Activity, in
    maintenance mode, answers 404 / 410)."""


class UnknownOutcome(IdConsoleError):
    """A non-idempotent request failed after it may have reached the server; it was not retried."""

    exit_code = 1
    kind = "unknown_outcome"


#: words a 403 uses when the project lacks a paid feature rather than the key being wrong (?)
_ENTITLEMENT_WORDS = ("portfolio", "add-on", "addon", "entitlement", "not enabled", "upgrade your plan")


def names_entitlement(body: str) -> bool:
    """Does a 403 body say the project lacks a feature (NoEntitlement) rather than the key being wrong?"""
    text = body.lower()
    return any(word in text for word in _ENTITLEMENT_WORDS)


def shorten(text: str, limit: int = 300) -> str:
    """Server text in an error message: one line, bounded, so a huge body cannot flood a screen."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

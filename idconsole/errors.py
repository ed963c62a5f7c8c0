"""Every error idconsole raises on purpose: one hierarchy, defined here and nowhere else.

Each carries a `message` (what happened) and a `hint` (what to do), an `exit_code` (the CLI contract in
DESIGN.md) and a short stable `kind` (the `--json` error document and the journal). Messages never hold a
secret: server text is redacted before it reaches an error.

    IdConsoleError                     exit 1   "error"
    ├── ConfigError                    exit 2   "bad_input"     a profile, the profiles file, a secret
    │   ├── ProfileNotFound
    │   ├── MissingSecret                                        `fields` names what to ask for
    │   └── LocalStorageError                   "local_io"      read-only dir, full disk, permissions
    ├── BadInput                       exit 2   "bad_input"     wrong before anything was sent
    │   ├── NotOffered                          "not_offered"   not in this region / for this project
    │   │   ├── NoEntitlement                   "no_entitlement"  user mapping needs the Portfolio add-on
    │   │   └── ActivityNotOffered                              Mixpanel event activity: 404 / 410
    │   └── (beside their engines: ProfileMismatch, StagedChangedElsewhere, ApplyRefused, CsvImportError)
    ├── AuthError                      exit 3   "auth"          `credential` names which, never its value
    ├── Unavailable                    exit 4   "unavailable"   connection, timeout, 5xx after retries
    ├── Throttled                      exit 4   "throttled"     429 after retries
    ├── NoSuchEndpoint                 exit 4   "no_endpoint"   a 404 that is not "unknown user"
    ├── ServerRejected                 exit 1   "rejected"      400, 413, status 0, failed records
    │   ├── NotFound                   exit 5*  "not_found"     the vendor has never seen this id
    │   └── MalformedAnswer                     "malformed"     an answer in no shape the API has
    └── UnknownOutcome                 exit 1   "unknown_outcome"  a non-idempotent send whose answer was lost

    * the faces map NotFound to exit 5 for lookup, profile, activity and report.

The layer modules add only words: `config.errors.local_io_error` (an OSError -> LocalStorageError) and
`api.errors.names_entitlement` / `shorten`. Both re-export these classes, so either import path works.
"""

from __future__ import annotations


class IdConsoleError(Exception):
    """Base of every error idconsole raises on purpose."""

    exit_code = 1
    #: a short, stable name for JSON output and the journal
    kind = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        # a message that lists lines (a CSV's bad rows) keeps its last line: the hint gets its own
        separator = "\n" if "\n" in self.message.rstrip() else " "
        return f"{self.message.rstrip()}{separator}{self.hint}".strip() if self.hint else self.message.strip()


class ConfigError(IdConsoleError):
    """A profile, the profiles file or a secret is missing or wrong. Exit code 2 on the CLI."""

    exit_code = 2
    kind = "bad_input"


class ProfileNotFound(ConfigError):
    """No saved profile has this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        names = ", ".join(known) if known else "none saved yet"
        super().__init__(
            f"No profile named {name!r} (saved profiles: {names}).",
            hint=f"Add it with `idconsole profiles add {name}`, or list them with `idconsole profiles list`.",
        )
        self.name = name


class MissingSecret(ConfigError):
    """Required secrets could not be found. `fields` lets a UI ask for exactly these."""

    def __init__(self, message: str, *, fields: tuple[str, ...], hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.fields = fields


class LocalStorageError(ConfigError):
    """A local file could not be written (read-only directory, full disk, permissions, file size limit).
    Exit code 2 like every local problem; kind "local_io". Built from an OSError by `local_io_error`."""

    kind = "local_io"

    def __init__(self, place: str, reason: str, remedy: str, *, verb: str = "write", errno_code: int | None = None) -> None:
        super().__init__(f"Could not {verb} {place} ({reason})", hint=f"{remedy}, then run the command again.")
        self.place, self.reason, self.remedy, self.errno = place, reason, remedy, errno_code

    def sentence(self, consequence: str = "") -> str:
        """One sentence: what happened, what it means (`consequence`, e.g. "nothing more was sent"), what to do."""
        middle = f"; {consequence}" if consequence else ""
        return f"{self.message}{middle} — {self.hint}"

    def __str__(self) -> str:
        return self.sentence()


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


__all__ = [
    "ActivityNotOffered",
    "AuthError",
    "BadInput",
    "ConfigError",
    "IdConsoleError",
    "LocalStorageError",
    "MalformedAnswer",
    "MissingSecret",
    "NoEntitlement",
    "NoSuchEndpoint",
    "NotFound",
    "NotOffered",
    "ProfileNotFound",
    "ServerRejected",
    "Throttled",
    "Unavailable",
    "UnknownOutcome",
]

"""The base of every error idconsole raises on purpose, and the errors of the config layer.

`config` is the lowest layer (import-linter: "Layers point down"), so the base `IdConsoleError` lives
here and `idconsole.api.errors` re-exports it (`from idconsole.api.errors import IdConsoleError` keeps
working). A `ConfigError` is an `IdConsoleError` with the same contract as `BadInput` (exit code 2,
kind "bad_input", a message plus a hint), so every place that reports an `IdConsoleError` reports it
too. Messages never hold a secret.
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
        return f"{self.message} {self.hint}".strip()


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

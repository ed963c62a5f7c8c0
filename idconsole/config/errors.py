"""The base of every error idconsole raises on purpose, and the errors of the config layer.

`config` is the lowest layer (import-linter: "Layers point down"), so the base `IdConsoleError` lives
here and `idconsole.api.errors` re-exports it (`from idconsole.api.errors import IdConsoleError` keeps
working). A `ConfigError` is an `IdConsoleError` with the same contract as `BadInput` (exit code 2,
kind "bad_input", a message plus a hint), so every place that reports an `IdConsoleError` reports it
too. Messages never hold a secret.
"""

from __future__ import annotations

import errno


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


# errno -> (what happened, what to do): the words every face uses for a local file operation that failed
_FULL = "free some space"
_WRITES = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_REASONS: dict[int, tuple[str, str]] = {
    errno.EROFS: ("read-only file system", "make it writable"),
    errno.EACCES: ("permission denied", "fix its permissions"),
    errno.EPERM: ("operation not permitted", "fix its permissions"),
    errno.ENOSPC: ("the disk is full", _FULL),
    errno.EDQUOT: ("the disk quota is used up", _FULL),
    errno.EFBIG: ("the disk is full or the file size limit, ulimit -f, was reached", f"{_FULL} or raise the limit"),
    errno.ENOTDIR: ("a part of the path is not a directory", "fix the path"),
    errno.EISDIR: ("it is a directory", "fix the path"),
    errno.EIO: ("the disk reported an I/O error", "check the disk"),
}


def local_io_error(exc: OSError, *, where: str = "a local file") -> LocalStorageError:
    """The error for a local file operation that failed, naming the file (`where` when the OSError does
    not say, e.g. a write to an open descriptor), the cause and the remedy."""
    place = str(exc.filename) if exc.filename is not None else where
    code = exc.errno if isinstance(exc.errno, int) else -1
    fallback = ((exc.strerror or type(exc).__name__).lower().rstrip("."), "check it")
    reason, remedy = _REASONS.get(code, fallback)
    verb = "write" if code in _WRITES else "use"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        remedy += _elsewhere(place)
    return LocalStorageError(place, reason, remedy, verb=verb, errno_code=exc.errno)


def _elsewhere(place: str) -> str:
    """", or point XDG_STATE_HOME at a writable directory" when `place` is in one of idconsole's own dirs."""
    from idconsole.config import paths  # paths never imports errors; kept local all the same

    for variable, root in (("XDG_STATE_HOME", paths.state_root()), ("XDG_CONFIG_HOME", paths.config_dir()),
                           ("XDG_CACHE_HOME", paths.cache_dir())):
        if place.startswith(str(root)):
            return f", or point {variable} at a writable directory"
    return ""

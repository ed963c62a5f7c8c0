"""The words for local file failures (`local_io_error`); the config errors themselves are defined once
in `idconsole.errors` (the whole hierarchy, drawn in its docstring) and re-exported here."""

from __future__ import annotations

import errno

from idconsole.errors import (  # re-exported: defined once, in idconsole.errors
    ConfigError,
    IdConsoleError,
    LocalStorageError,
    MissingSecret,
    ProfileNotFound,
)

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


__all__ = [  # the classes are re-exported
    "ConfigError",
    "IdConsoleError",
    "LocalStorageError",
    "MissingSecret",
    "ProfileNotFound",
    "local_io_error",
]

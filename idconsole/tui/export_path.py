"""Where an export goes and how it is written — the one set of rules the Profile and Report screens share
(no CLI command exports to a file: `idconsole report` and `profile` print to stdout). Textual-free.

- The default is the current directory and a generated name that says what the file is; when that name is
  taken, the first free `name-2.ext`, `name-3.ext`, ... (so `e` then Enter always works).
- A typed path: `~` expanded, relative to the current directory; a directory (or a path ending in `/`)
  gets the generated name inside it.
- Written owner-only (0600, personal data), atomically (a temp file in the same directory, fsync, then a
  hard link to the name, which fails if the name exists), never over an existing file, never creating a
  missing directory (the user said where; a typo should not grow a tree).
- Any failure is one sentence naming the path and the reason, and nothing is left behind.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idconsole.config.atomic import fsync_dir
from idconsole.untrusted import visible

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]+")
_REPORT_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")
#: errors of os.link that mean "this file system has no hard links", not "you may not"
_NO_LINKS = {getattr(errno, name, -1) for name in ("EPERM", "EOPNOTSUPP", "ENOTSUP", "EMLINK", "ENOSYS")}
_FREE_TRIES = 999


class ExportError(Exception):
    """Nothing was written; `str(error)` is the one sentence to show (path and reason)."""


@dataclass(frozen=True)
class Export:
    """What to write: `what` for the dialog ("the profile as JSON"), the generated file `name`, the bytes."""

    what: str
    name: str
    data: bytes


# --- names ---------------------------------------------------------------------------------------------

def profile_file_name(user_id: str, *, vendor: str = "amplitude") -> str:
    """`profile-<safe-name>-<hash>.json`: only [A-Za-z0-9_.@+-], no leading dot, bounded, plus a short hash
    of the real id so two hostile ids that sanitise alike never share a name."""
    digest = hashlib.sha256(f"{vendor}\0{user_id}".encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = _UNSAFE.sub("_", user_id).strip("._-")[:60] or "user"
    prefix = "profile-mixpanel-" if vendor == "mixpanel" else "profile-"
    return f"{prefix}{stem}-{digest}.json"


def report_file_name(query: str, now: dt.datetime) -> str:
    """`idconsole-report-<safe id>-<local time>.md`: says what it is; the id reduced to safe characters."""
    safe = _REPORT_UNSAFE.sub("_", query).strip("._")[:60] or "user"
    return f"idconsole-report-{safe}-{now.strftime('%Y%m%d-%H%M%S')}.md"


def json_bytes(document: Any) -> bytes:
    """Indented UTF-8 JSON with a final newline (what a profile export holds)."""
    return (json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def text_bytes(text: str) -> bytes:
    """UTF-8 text ending in one newline (what a report export holds)."""
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


# --- paths ---------------------------------------------------------------------------------------------

def free_path(directory: Path, name: str) -> Path:
    """`directory / name`, or the first `stem-N.suffix` not taken there."""
    candidate = directory / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while os.path.lexists(candidate) and n <= _FREE_TRIES:
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def default_path(name: str, *, cwd: Path | None = None) -> Path:
    """Where `e` then Enter writes: the current directory, the generated name (or the first free variant)."""
    return free_path(cwd or Path.cwd(), name)


def resolve(typed: str, name: str, *, cwd: Path | None = None) -> Path:
    """The file a typed path means (see the module docstring); blank means the default."""
    here = cwd or Path.cwd()
    text = typed.strip()
    if not text:
        return default_path(name, cwd=here)
    path = Path(text)
    try:
        path = path.expanduser()
    except RuntimeError:  # `~` with no home directory known: taken literally
        pass
    if not path.is_absolute():
        path = here / path
    if text.endswith(("/", os.sep)) or path.is_dir():
        return free_path(path, name)
    return path


# --- writing -------------------------------------------------------------------------------------------

def write_new(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, owner-only and atomically, refusing an existing file. Raises
    `ExportError` (one sentence; nothing written, no temp file left)."""
    try:
        _create(path, data)
    except (OSError, ValueError) as exc:
        raise ExportError(error_sentence(path, exc)) from exc


def _create(path: Path, data: bytes) -> None:
    if os.path.lexists(path):  # say so before a temp file is even made
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
    fd, tmp = tempfile.mkstemp(prefix=".idconsole-export-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and fails with EEXIST rather than replace a file made meanwhile
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            if os.path.lexists(path):  # no hard links here: check, then rename (a tiny window, no better)
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from exc
            os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:  # renamed into place, or the directory refuses even that
            pass
    fsync_dir(path.parent)


_REASONS = {
    errno.EEXIST: "a file of that name is already there and is never overwritten; type another name",
    errno.ENOTDIR: "a part of that path is a file, not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "there is no space left on the device",
    getattr(errno, "EDQUOT", -1): "the disk quota is exceeded",
    errno.EFBIG: "the file is too large for this file system (or a size limit)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EISDIR: "that is a directory",
}


def error_sentence(path: Path, exc: BaseException) -> str:
    """`Could not write <path>: <reason>. Nothing was written.` — the path and reason made visible."""
    if isinstance(exc, ValueError):
        reason = "the path contains a NUL character"
    elif isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        reason = f"the directory {visible(str(path.parent), limit=300)} does not exist"
    elif isinstance(exc, OSError) and exc.errno in _REASONS:
        reason = _REASONS[exc.errno]
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror[:1].lower() + exc.strerror[1:]
    else:
        reason = type(exc).__name__
    return f"Could not write {visible(str(path), limit=300)}: {visible(reason, limit=300)}. Nothing was written."


def export_to(typed: str, export: Export, *, cwd: Path | None = None) -> Path:
    """Resolve `typed` and write `export` there; the path written, or `ExportError`."""
    path = resolve(typed, export.name, cwd=cwd)
    write_new(path, export.data)
    return path

"""Durable file primitives: a checked, fsync'd append; finding and cutting a torn last line; an
exclusive non-blocking lock file (atomic replace lives in `idconsole.config.atomic`)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from idconsole.config.atomic import fsync_dir

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]


def append_line(path: Path, line: bytes) -> None:
    """Append one line and fsync before returning (the record is on disk when this returns).

    Every write's result is checked: a short write is continued, and any failure (ENOSPC, EROFS, EIO,
    a failed fsync) cuts the file back to where it was, best effort, so no half line is left behind,
    then raises the OSError naming `path`."""
    data = line if line.endswith(b"\n") else line + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise _naming(exc, path) from exc
    start: int | None = None
    try:
        st = os.fstat(fd)
        start = st.st_size if stat.S_ISREG(st.st_mode) else None
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:  # pragma: no cover - POSIX raises instead; never loop forever
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        if start is not None:
            try:
                os.ftruncate(fd, start)
                os.fsync(fd)
            except OSError:
                pass  # the reader skips a torn line and the next append repairs it
        raise _naming(exc, path) from exc
    finally:
        os.close(fd)
    if new:
        fsync_dir(path.parent)


def torn_tail(path: Path, *, is_complete: Callable[[bytes], bool]) -> tuple[int, bytes] | None:
    """(offset, bytes) of a torn last line — no newline at its end, or `is_complete(line)` false —
    None when the file ends with a complete line (or is empty, missing, or not a regular file)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return None
        end = st.st_size
        fh.seek(end - 1)
        ends_with_newline = fh.read(1) == b"\n"
        body_end = end - 1 if ends_with_newline else end
        start = _line_start(fh, body_end)
        fh.seek(start)
        last = fh.read(end - start)
    if ends_with_newline and is_complete(last[:-1]):
        return None
    return start, last


def _line_start(fh: BinaryIO, end: int, chunk: int = 64 * 1024) -> int:
    """Offset just after the last newline before `end` (0 when there is none)."""
    pos = end
    while pos > 0:
        step = min(chunk, pos)
        fh.seek(pos - step)
        block = fh.read(step)
        cut = block.rfind(b"\n")
        if cut >= 0:
            return pos - step + cut + 1
        pos -= step
    return 0


def cut_at(path: Path, offset: int) -> None:
    """Truncate `path` to `offset` bytes and fsync it."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _naming(exc, path) from exc


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming `path` (a write to an open descriptor names no file)."""
    if exc.filename is not None:
        return exc
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


class LockFile:
    """An exclusive, non-blocking, process-wide lock on `path` (released on close or process death)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif msvcrt is not None:  # pragma: no cover
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return False
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:  # pragma: no cover
            pass
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

"""Atomic file replace, the one implementation every layer uses (profiles.toml, staged.json, exports,
the recent-lookups cache): temp file in the same directory, fsync, rename over the target, fsync the
directory where the platform allows it. A crash leaves either the old or the new file, never a torn one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in `directory` durable (a no-op where directories have no fd)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically; the file gets permissions `mode` (owner-only by default).
    The temp file (`.<name>.*.tmp`, same directory) is removed on any failure. An OSError names `path`
    itself (not the temp file), so "could not write staged.json" is what a user reads."""
    path.parent.mkdir(parents=True, exist_ok=True)  # its OSError already names the directory
    try:
        _replace(path, data, mode)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    fsync_dir(path.parent)


def _replace(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:  # gone already, or the directory refuses even that
            pass
        raise

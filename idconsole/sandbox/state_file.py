"""`sandbox.json`: a sandbox's world kept in a file, so every idconsole process on the demo sees one world.

Kept: the world only — Amplitude users (ids, devices, user and computed properties, cohorts,
recommendations, propensities), the mappings, Mixpanel clusters (ids, identified id, properties, event
counts) and aliases, and events whenever the state keeps them (`SandboxState.world()`). Not kept: rate
windows, faults, the request log and the request counters; they belong to one process.

Those profiles and events are synthetic: the demo data (demo.py) and what a user did to it in the demo,
never a real person's data, so writing them to disk does not break "personal data is never written".

The file is one compact JSON object whose header comes first, so 512 bytes tell whether it changed:
    {"format":"idconsole-sandbox-world","version":1,"revision":7,"writer":"…","saved_at":"…","world":{…}}
`writer` is fresh for every save, so two saves never share a header. It is written atomically
(`config.atomic`); writers hold the lock file `sandbox.json.lock` (flock) from re-reading to saving.
A missing file means the initial data (the demo's story).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idconsole.config.atomic import atomic_write, fsync_dir

try:  # POSIX; elsewhere writers go unlocked (the check-before-write still catches most races)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

FORMAT = "idconsole-sandbox-world"
VERSION = 1
HEAD_BYTES = 512
_WORLD_KEY = b',"world":'


class WorldFileError(Exception):
    """The file is there but is not a world this version can read; the message says why (a fragment)."""


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def head(self) -> bytes | None:
        """The header of the file as it is now (None: no file). Cheap: one open and one short read."""
        try:
            with self.path.open("rb") as fh:
                start = fh.read(HEAD_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:  # unreadable: a head of its own, so it is noticed and reported by read()
            return f"unreadable {exc.errno}".encode()
        cut = start.find(_WORLD_KEY)
        return start if cut < 0 else start[:cut]

    def read(self) -> tuple[dict[str, Any] | None, bytes | None, int, bytes | None]:
        """(world, head, revision, the world's JSON as written — None if it cannot be cut out);
        (None, None, 0, None) when there is no file. Raises WorldFileError."""
        try:
            raw = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None, None, 0, None
        except OSError as exc:
            raise WorldFileError(f"it cannot be read: {exc.strerror or exc}") from exc
        try:
            doc = json.loads(raw)
        except RecursionError as exc:
            raise WorldFileError("it is nested too deeply") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            what = "it is empty" if not raw.strip() else "it is not valid JSON (a torn or damaged file)"
            raise WorldFileError(what) from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise WorldFileError("it is not an idconsole sandbox world")
        if doc.get("version") != VERSION:
            raise WorldFileError(f"it has version {doc.get('version')!r}, and this idconsole reads {VERSION}")
        world, revision = doc.get("world"), doc.get("revision")
        if not isinstance(world, dict) or not isinstance(revision, int) or isinstance(revision, bool):
            raise WorldFileError("its world or revision is missing")
        cut = raw.find(_WORLD_KEY, 0, HEAD_BYTES)
        if cut < 0 or not raw.endswith(b"}"):
            return world, raw[:HEAD_BYTES], revision, None
        return world, raw[:cut], revision, raw[cut + len(_WORLD_KEY):-1]

    def write(self, world_json: bytes, revision: int) -> bytes:
        """Save `world_json` (compact JSON of a world) as `revision`; returns the new head. OSError names
        the file (a read-only directory, a full disk)."""
        head = json.dumps(
            {"format": FORMAT, "version": VERSION, "revision": revision, "writer": secrets.token_hex(6),
             "saved_at": datetime.now(timezone.utc).isoformat(timespec="microseconds")},
            separators=(",", ":"),
        ).encode()[:-1]  # fmt: skip
        atomic_write(self.path, head + _WORLD_KEY + world_json + b"}")
        return head

    def set_aside(self) -> Path:
        """Rename the file to `sandbox.json.bad-<UTC time>` beside it (never over an older one)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.bad-{stamp}-{n}")
        os.replace(self.path, target)
        fsync_dir(self.path.parent)
        return target

    def remove(self) -> bool:
        """Delete the file (the world goes back to the initial data). True if there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(self.path.parent)
        return True

    def lock(self) -> WorldLock:
        return WorldLock(self.lock_path)


class WorldLock:
    """An exclusive lock on `sandbox.json.lock` shared by every process (and every request) on one world.

    flock(2) locks belong to an open file, so two requests of one process exclude each other too. A lock
    file that cannot even be created (a read-only directory) counts as held: nothing can be saved there
    anyway, and the save reports that."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        self._fd = fd
        return True

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    async def acquire_async(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases its flock
            self._fd = None

"""One apply per profile at a time: an in-process guard plus an exclusive lock file
`<state_dir>/apply.lock`, so a console and a CLI (or two of either) can never apply at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from idconsole.changes._fs import LockFile
from idconsole.changes.apply_report import ApplyRefused

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

_IN_PROCESS: set[Path] = set()


class ApplyLock:
    """One apply per profile state dir, across tasks of this process and across processes."""

    def __init__(self, state_dir: Path) -> None:
        self.key = Path(state_dir).resolve()
        self.file = LockFile(self.key / "apply.lock")

    def acquire(self) -> bool:
        if self.key in _IN_PROCESS:
            return False
        if not self.file.acquire():
            return False
        _IN_PROCESS.add(self.key)
        return True

    def release(self) -> None:
        if self.file.held:
            self.file.release()
            _IN_PROCESS.discard(self.key)

    def __enter__(self) -> ApplyLock:
        if not self.acquire():
            raise ApplyRefused(["another apply of this profile is in flight"],
                               hint="Wait for it to finish (its progress is in the journal).")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def apply_in_flight(workspace: Workspace) -> bool:
    lock = ApplyLock(workspace.state_dir)
    if lock.acquire():
        lock.release()
        return False
    return True

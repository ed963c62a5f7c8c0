"""The staged change set of one profile: `<state_dir>/<profile>/staged.json`.

- Belongs to one profile: the file records the profile name. Loading a file that records another
  profile works (so you can look at it and `clear()` it) but every other edit, and any plan/apply, is
  refused (`mismatch` is true; the plan reports a blocking `profile_mismatch`).
- Survives restarts and crashes: every edit rewrites the file atomically (temp file, fsync, rename).
- Edits address a change by its 1-based position `n` (as `stage list` shows it) or by its id (str).
- Safe next to another idconsole process: an edit first re-reads the file when another process
  changed it; edits by id (add, remove, mark) merge with theirs, edits by position are refused with
  "changed elsewhere, look again" (the set is reloaded) so you never drop the wrong change.
- Each entry has a status: `staged` (will be sent) or `unknown` (it was sent, its outcome is unknown
  and it is not idempotent: it is held and never re-sent until someone decides with `resolve()`).
  `note` keeps the last error a change met (a rejected batch's reason), `journal_id` where it happened.

File format (version 1):
```json
{"format": "idconsole.staged", "version": 1, "profile": "acme", "revision": 12, "saved_at": "...",
 "changes": [{"id": "c1a2b3c4d5e6", "op": "map", "user_id": "u", "global_user_id": "g",
              "status": "staged", "note": null, "journal_id": null}]}
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes.model import Change
from idconsole.changes.staged_format import (
    FORMAT,
    STAGED,
    STATUSES,
    UNKNOWN,
    VERSION,
    ProfileMismatch,
    Ref,
    StagedChangedElsewhere,
    StagedEntry,
    parse_document,
    parse_entries,
)
from idconsole.config.atomic import atomic_write

__all__ = ["FORMAT", "STAGED", "STATUSES", "UNKNOWN", "VERSION", "ProfileMismatch", "Ref", "StagedChangedElsewhere",
           "StagedEntry", "StagedSet"]

def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StagedSet:
    """`StagedSet.load(path, profile)`; see the module docstring."""

    def __init__(self, path: Path, profile: str, *, recorded_profile: str | None = None) -> None:
        self.path = Path(path)
        #: the profile this set is used under
        self.expected_profile = profile
        #: the profile the file records (differs from expected_profile when it was made elsewhere)
        self.profile = recorded_profile or profile
        self.revision = 0
        self._entries: list[StagedEntry] = []
        self._listeners: list[Callable[[StagedSet], None]] = []
        self._disk_revision: int | None = None
        self._disk_stat: tuple[int, int, int] | None = None
        #: sha256 of the bytes last read or written (None: no file)
        self._disk_digest: str | None = None

    # --- loading / saving ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, profile: str) -> StagedSet:
        """The set stored at `path` (empty if there is none). BadInput if the file is not a staged set
        (it is left untouched)."""
        staged = cls(Path(path), profile)
        staged._read()
        return staged

    def _read_raw(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BadInput(f"Cannot read the staged changes at {self.path}: {exc.strerror or exc}.") from None

    def _read_file(self) -> dict[str, Any] | None:
        raw = self._read_raw()
        return None if raw is None else parse_document(raw, self.path)

    def _read(self, raw: bytes | None = None) -> None:
        stat = self._stat()
        if raw is None:
            raw = self._read_raw()
        if raw is None:
            self._entries = []
            self.revision = 0
            self.profile = self.expected_profile
            self._disk_revision = None
            self._disk_digest = None
            self._disk_stat = None
            return
        doc = parse_document(raw, self.path)
        entries = parse_entries(doc, self.path)
        recorded = doc.get("profile")
        self.profile = recorded if isinstance(recorded, str) and recorded else self.expected_profile
        self._entries = entries
        rev = doc.get("revision")
        self.revision = rev if isinstance(rev, int) else 0
        self._disk_revision = self.revision
        self._disk_digest = _digest(raw)
        self._disk_stat = stat

    def reload(self) -> None:
        self._read()
        self._notify()

    def refresh(self, *, strict: bool = False) -> bool:
        """Re-read the file if anyone else (a CLI call, a script, a second console) changed it since this
        object last read or wrote it — judged by its content, not its timestamps. Returns True when it
        did (listeners have been notified). A file that is now broken is left alone: `strict=True` (a
        plan, an apply) raises its BadInput, otherwise the copy in memory is kept."""
        raw = self._read_raw()
        if (None if raw is None else _digest(raw)) == self._disk_digest:
            self._disk_stat = self._stat()
            return False
        try:
            self._read(raw)
        except BadInput:
            if strict:
                raise
            return False
        self._notify()
        return True

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _disk_changed(self) -> bool:
        """Before an edit: did anyone else change the file? Its stat first (cheap), then its content."""
        stat = self._stat()
        if stat is not None and stat == self._disk_stat:
            return False  # the file we wrote or read last, untouched since
        try:
            raw = self._read_raw()
            if raw is None:
                return self._disk_digest is not None
            parse_document(raw, self.path)
        except BadInput:
            return False  # a broken file is reported by load(); do not clobber logic here
        return _digest(raw) != self._disk_digest

    def _save(self) -> None:
        self.revision += 1
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "profile": self.profile,
            "revision": self.revision,
            "saved_at": _now(),
            "changes": [e.to_json() for e in self._entries],
        }
        # compact: a save follows every acknowledged batch, on the event loop (indent=1 took ~4x as long at
        # 20,000 changes); `idconsole stage list` is the readable view
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        atomic_write(self.path, raw)
        self._disk_revision = self.revision
        self._disk_digest = _digest(raw)
        self._disk_stat = self._stat()
        self._notify()

    def _begin_edit(self, *, positional: bool, allow_mismatch: bool = False) -> None:
        if self._disk_changed():
            self._read()
            if positional:
                self._notify()
                raise StagedChangedElsewhere(
                    "The staged changes were changed by another idconsole; they have been reloaded.",
                    hint="Look at them again (`idconsole stage list`) and retry.",
                )
        if self.mismatch and not allow_mismatch:
            raise ProfileMismatch(
                f"These staged changes belong to profile {self.profile!r}, not {self.expected_profile!r}.",
                hint="Use that profile, or clear them (`idconsole stage clear`).",
            )

    # --- listeners -------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[StagedSet], None]) -> Callable[[], None]:
        """Call `callback(self)` after every change; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback(self)

    # --- reading ---------------------------------------------------------------------------------

    @property
    def mismatch(self) -> bool:
        return self.profile != self.expected_profile

    @property
    def entries(self) -> list[StagedEntry]:
        return list(self._entries)

    @property
    def changes(self) -> list[Change]:
        return [e.change for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def entry(self, ref: Ref) -> StagedEntry:
        return self._entries[self.index_of(ref)]

    def get(self, ref: Ref) -> Change:
        return self.entry(ref).change

    def index_of(self, ref: Ref) -> int:
        """0-based index of the change at 1-based position `ref` (int) or with id `ref` (str)."""
        if isinstance(ref, bool):
            raise BadInput("A change is addressed by its number or its id.")
        if isinstance(ref, int):
            if not 1 <= ref <= len(self._entries):
                size = len(self._entries)
                raise BadInput(
                    f"There is no staged change {ref}" + (f" (1..{size})." if size else " (nothing is staged)."),
                )
            return ref - 1
        for i, entry in enumerate(self._entries):
            if entry.change.id == ref:
                return i
        raise BadInput(f"No staged change has the id {ref!r}.")

    def position(self, change_id: str) -> int | None:
        """1-based position of a change id, None if it is not staged."""
        for i, entry in enumerate(self._entries, 1):
            if entry.change.id == change_id:
                return i
        return None

    @property
    def fingerprint(self) -> str:
        """Changes whenever what would be sent changes (content, order, status); plans record it."""
        doc = [e.to_json() for e in self._entries]
        body = json.dumps([self.profile, doc], sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]

    def to_json(self) -> list[dict[str, Any]]:
        """`stage list --json`: `[{"n": 1, "id": ..., "op": ..., fields..., "status", "description"}]`."""
        out = []
        for n, entry in enumerate(self._entries, 1):
            item = {"n": n, **entry.to_json()}
            item["description"] = entry.change.description()
            out.append(item)
        return out

    # --- editing ---------------------------------------------------------------------------------

    def add(self, change: Change) -> Change:
        self.extend([change])
        return change

    def extend(self, changes: Iterable[Change]) -> list[Change]:
        """Append changes in one atomic write (all or nothing). Duplicate change ids get fresh ids."""
        new = list(changes)
        for change in new:
            if not isinstance(change, Change):
                raise BadInput("Only changes can be staged.")
        self._begin_edit(positional=False)
        taken = {e.change.id for e in self._entries}
        fixed = []
        for change in new:
            if change.id in taken:
                change = change.replace_id()
            taken.add(change.id)
            fixed.append(change)
        self._entries.extend(StagedEntry(c) for c in fixed)
        self._save()
        return fixed

    def replace(self, ref: Ref, change: Change) -> Change:
        """Put `change` in place of change `ref` (it keeps the position; it gets a fresh status)."""
        self._begin_edit(positional=isinstance(ref, int))
        i = self.index_of(ref)
        others = {e.change.id for j, e in enumerate(self._entries) if j != i}
        if change.id in others:
            change = change.replace_id()
        self._entries[i] = StagedEntry(change)
        self._save()
        return change

    def move(self, ref: Ref, to: int) -> None:
        """Move change `ref` to 1-based position `to`."""
        self._begin_edit(positional=True)
        i = self.index_of(ref)
        if not 1 <= to <= len(self._entries):
            raise BadInput(f"Cannot move to position {to} (1..{len(self._entries)}).")
        entry = self._entries.pop(i)
        self._entries.insert(to - 1, entry)
        self._save()

    def drop(self, ref: Ref) -> Change:
        self._begin_edit(positional=isinstance(ref, int))
        i = self.index_of(ref)
        entry = self._entries.pop(i)
        self._save()
        return entry.change

    def clear(self) -> int:
        """Drop everything (also the way out of a profile mismatch). Returns how many were dropped."""
        self._begin_edit(positional=False, allow_mismatch=True)
        count = len(self._entries)
        self._entries = []
        self.profile = self.expected_profile
        self._save()
        return count

    # --- used by apply (by id, merge-safe) --------------------------------------------------------

    def remove_ids(self, change_ids: Iterable[str]) -> int:
        """Remove the changes with these ids (those already gone are ignored). Returns how many."""
        ids = set(change_ids)
        self._begin_edit(positional=False)
        before = len(self._entries)
        self._entries = [e for e in self._entries if e.change.id not in ids]
        if len(self._entries) != before:
            self._save()
        return before - len(self._entries)

    def mark(
        self, change_ids: Iterable[str], *, status: str | None = None, note: str | None = None,
        journal_id: str | None = None,
    ) -> None:
        """Set status / note / journal id of these changes (missing ids are ignored)."""
        ids = set(change_ids)
        if status is not None and status not in STATUSES:
            raise ValueError(status)
        self._begin_edit(positional=False)
        changed = False
        for i, entry in enumerate(self._entries):
            if entry.change.id in ids:
                self._entries[i] = replace(
                    entry,
                    status=status if status is not None else entry.status,
                    note=note,
                    journal_id=journal_id if journal_id is not None else entry.journal_id,
                )
                changed = True
        if changed:
            self._save()

    def resolve(self, ref: Ref, *, applied: bool) -> Change:
        """Decide about a held change whose outcome is unknown: `applied=True` (you checked that it
        took effect) removes it; `applied=False` (it did not) makes it `staged` again, to be sent by
        the next apply. Use `idconsole.changes.resolve_unknown` to also record the decision in the journal."""
        self._begin_edit(positional=isinstance(ref, int))
        i = self.index_of(ref)
        entry = self._entries[i]
        if entry.status != UNKNOWN:
            raise BadInput(f"Change {i + 1} is not waiting for a decision (its outcome is known).")
        if applied:
            self._entries.pop(i)
        else:
            self._entries[i] = replace(entry, status=STAGED, note="re-staged after an unknown outcome")
        self._save()
        return entry.change

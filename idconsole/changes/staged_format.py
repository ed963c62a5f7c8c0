"""The staged file's format (version 1): its statuses, one entry, and reading a document safely —
a file that is not a staged set, or is from a newer idconsole, is refused and left untouched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idconsole.api.errors import BadInput
from idconsole.changes.model import Change

FORMAT = "idconsole.staged"
VERSION = 1
STAGED = "staged"
UNKNOWN = "unknown"
STATUSES = (STAGED, UNKNOWN)

Ref = int | str


class ProfileMismatch(BadInput):
    """The staged set was made under another profile."""

    kind = "profile_mismatch"


class StagedChangedElsewhere(BadInput):
    """Another idconsole process changed the staged set; it has been reloaded."""

    kind = "stale"


@dataclass(frozen=True)
class StagedEntry:
    change: Change
    status: str = STAGED
    note: str | None = None
    journal_id: str | None = None

    @property
    def held(self) -> bool:
        return self.status == UNKNOWN

    def to_json(self) -> dict[str, Any]:
        data = self.change.to_json()
        data.update(status=self.status, note=self.note, journal_id=self.journal_id)
        return data

    @classmethod
    def from_json(cls, data: Any) -> StagedEntry:
        change = Change.from_json(data)
        status = data.get("status", STAGED)
        note = data.get("note")
        journal_id = data.get("journal_id")
        return cls(
            change,
            status if status in STATUSES else STAGED,
            note if isinstance(note, str) else None,
            journal_id if isinstance(journal_id, str) else None,
        )


def parse_document(raw: bytes, path: Path) -> dict[str, Any]:
    """The staged-set document in `raw` (read from `path`); BadInput saying what is wrong otherwise."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadInput(
            f"The staged changes file {path} is not valid JSON.",
            hint="idconsole did not change it; fix it, or move it aside to start empty.",
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("changes"), list):
        raise BadInput(
            f"{path} is not an idconsole staged set.",
            hint="idconsole did not change it; move it aside to start empty.",
        )
    if isinstance(doc.get("version"), int) and doc["version"] > VERSION:
        raise BadInput(f"{path} was written by a newer idconsole (version {doc['version']}).")
    return doc


def parse_entries(doc: dict[str, Any], path: Path) -> list[StagedEntry]:
    entries = []
    for i, item in enumerate(doc["changes"], 1):
        try:
            entries.append(StagedEntry.from_json(item))
        except BadInput as exc:
            raise BadInput(
                f"{path}: staged change {i} is malformed: {exc.message}",
                hint="idconsole did not change the file; fix or remove that entry.",
            ) from None
    return entries

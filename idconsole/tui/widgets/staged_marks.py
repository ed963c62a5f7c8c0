"""What the identity tree says on a node a staged change touches: `● staged: map → B` on A, and
`● staged: map A → here` on B — so a user sees in the tree what the next submit would do to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idconsole.tui.staging.describe import describe_change
from idconsole.tui.text import visible

if TYPE_CHECKING:
    from idconsole.changes import Change

#: longest mark text (the staged editor has the change in full)
MARK_LIMIT = 60


def staged_marks(changes: list[Change]) -> dict[str, str]:
    """user id -> the mark for its node (several changes: the first and a count)."""
    found: dict[str, list[str]] = {}
    for change in changes:
        row = describe_change(change)
        found.setdefault(change.user_id, []).append(f"{row.op} {row.detail}".strip())
        if change.target_id and change.target_id != change.user_id:
            found.setdefault(change.target_id, []).append(f"{row.op} {change.user_id} → here")
    marks = {}
    for user_id, texts in found.items():
        more = f" (+{len(texts) - 1} more)" if len(texts) > 1 else ""
        marks[user_id] = "● staged: " + visible(texts[0], limit=MARK_LIMIT) + more
    return marks

"""What `u` on the staged changes puts back: the changes dropped there, latest last, each with the
1-based position it had. Nothing was sent for them, so putting one back is just staging it again there."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idconsole.changes import Change, StagedSet


class DropUndo:
    """`remember(change, position)` after a drop; `put_back(staged)` stages the latest again in place."""

    def __init__(self) -> None:
        self._dropped: list[tuple[Change, int]] = []

    def __bool__(self) -> bool:
        return bool(self._dropped)

    def remember(self, change: Change, position: int) -> None:
        self._dropped.append((change, position))

    def put_back(self, staged: StagedSet) -> Change:
        """Stage the latest dropped change again at its old position (the end if the set shrank since)."""
        change, position = self._dropped[-1]
        restored = staged.add(change)
        staged.move(restored.id, min(position, len(staged)))
        self._dropped.pop()
        return restored

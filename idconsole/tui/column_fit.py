"""Column widths sized by what the cells hold, for a table that should use the width it has: fixed-format
columns (ids, times, counts) as wide as their content, a free-text column up to its longest value but capped,
and one column that takes the rest (its cells cut with an ellipsis). On a terminal too narrow even for the
filling column's header (or `fill_min`), the capped columns give way first, down to their own headers;
never narrower than a header: past that the table scrolls sideways rather than cut one. Pure: no Textual."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len


@dataclass(frozen=True)
class Column:
    """`content`: the widest cell (terminal cells). `cap`: at most this wide, and may shrink toward its
    header when the filling column would be narrower than its header or `fill_min`. `fill`: takes what the
    others leave."""

    header: str
    content: int = 0
    cap: int | None = None
    fill: bool = False
    fill_min: int = 0


def widest(texts: Iterable[str]) -> int:
    """The widest of `texts` in terminal cells (wide characters count twice); 0 for none."""
    return max((cell_len(text) for text in texts), default=0)


def fit(columns: Sequence[Column], available: int, *, padding: int = 1) -> list[int]:
    """Content widths (without the `padding` each side of each cell) for `columns` in `available` cells."""
    floors = [cell_len(c.header) for c in columns]
    widths = [max(floor, min(c.content, c.cap) if c.cap is not None else c.content)
              for c, floor in zip(columns, floors, strict=True)]
    fills = [i for i, c in enumerate(columns) if c.fill]
    if not fills:
        return widths
    room = available - 2 * padding * len(columns) - sum(w for i, w in enumerate(widths) if i not in fills)
    want = sum(max(floors[i], columns[i].fill_min) for i in fills)
    # a capped free-text column gives way first, down to its header, so the filling one keeps its minimum
    for i, column in enumerate(columns):
        if room >= want:
            break
        if column.cap is not None and not column.fill:
            give = min(widths[i] - floors[i], want - room)
            widths[i] -= give
            room += give
    share, extra = divmod(max(room, 0), len(fills))
    for n, i in enumerate(fills):
        widths[i] = max(floors[i], share + (1 if n < extra else 0))
    return widths

"""How long a plan's usermap batches take under the rolling usermap rate limit: the budget the
client reports now (or the documented limit), and the seconds until the last batch may be sent."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

DEFAULT_USERMAP_RATE = (1500, 30.0)


def usermap_budget(workspace: Workspace) -> tuple[int, float, int]:
    try:
        budgets = workspace.client.budgets()
    except Exception:  # a client without budgets still gets an estimate from the documented limit
        budgets = []
    for budget in budgets:
        if getattr(budget, "family", None) == "usermap":
            return int(budget.limit), float(budget.window_s), int(budget.remaining)
    limit, window = DEFAULT_USERMAP_RATE
    return limit, window, limit


def estimate_usermap_seconds(batch_sizes: Sequence[int], limit: int, window_s: float, remaining: int) -> float:
    """Seconds until the last batch may be sent under a rolling `limit`-per-`window_s` budget with
    `remaining` free now (what is already used is assumed to expire a full window from now). A batch
    larger than the whole limit is admitted only into an empty window (as the service does)."""
    if not batch_sizes or limit <= 0:
        return 0.0
    entries: deque[tuple[float, int]] = deque()
    used = max(0, limit - remaining)
    if used:
        entries.append((0.0, used))
    total = used
    t = 0.0
    for size in batch_sizes:
        while True:
            while entries and entries[0][0] + window_s <= t:
                total -= entries.popleft()[1]
            if total + size <= limit or total == 0:
                entries.append((t, size))
                total += size
                break
            t = entries[0][0] + window_s
    return t

"""One progress update of a running apply, as the progress screen shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idconsole.changes import Progress

PHASE_LABELS = {"prestate": "reading the current state", "sending": "sending", "verifying": "verifying",
                "done": "done"}


@dataclass(frozen=True)
class ProgressView:
    phase: str
    done: int
    total: int
    batch: int
    batches_total: int
    succeeded: int
    failed: int
    eta_seconds: float | None
    note: str


def progress_view(progress: Progress) -> ProgressView:
    label = PHASE_LABELS.get(progress.phase, progress.phase)
    message = progress.message or ""
    return ProgressView(
        phase=progress.phase,
        done=progress.done,
        total=progress.total,
        batch=progress.requests_done,
        batches_total=progress.requests_total,
        succeeded=progress.succeeded,
        failed=progress.failed,
        eta_seconds=progress.eta_seconds,
        note=f"{label}: {message}" if message else label,
    )

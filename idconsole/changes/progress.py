"""What `apply` reports while it runs (a plain callback; the TUI turns it into messages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

#: phases, in order
PRESTATE = "prestate"  # reading the current mappings / profiles (for the journal and undo)
SENDING = "sending"
VERIFYING = "verifying"
DONE = "done"


@dataclass(frozen=True)
class Progress:
    phase: str
    #: changes whose request has been answered (acknowledged, rejected or unknown) / all to send
    done: int
    total: int
    #: requests (batches) answered / all requests of the plan
    requests_done: int
    requests_total: int
    succeeded: int = 0
    failed: int = 0
    #: seconds the rate limits alone still need (an estimate; None when unknown)
    eta_seconds: float | None = None
    #: one line about the current step, e.g. "usermap batch 2/3 (2000 mappings)"
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[Progress], None]

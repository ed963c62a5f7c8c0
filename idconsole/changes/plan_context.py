"""What every step of building a plan shares: the staged entries in order, their 1-based positions,
the warnings found so far and the ids of the changes found invalid (never sent, never simulated)."""

from __future__ import annotations

from collections.abc import Iterable

from idconsole.changes.model import Change
from idconsole.changes.plan_types import BLOCKING, SEVERITIES, PlanWarning
from idconsole.changes.staged import StagedEntry
from idconsole.changes.validate import change_problems


class PlanContext:
    def __init__(self, entries: list[StagedEntry]) -> None:
        self.entries = entries
        self.positions = {e.change.id: n for n, e in enumerate(entries, 1)}
        self.warnings: list[PlanWarning] = []
        self.invalid: set[str] = set()
        for entry in entries:
            problems = change_problems(entry.change)
            if problems:
                self.invalid.add(entry.change.id)
                self.warn("invalid", BLOCKING, f"change {self.positions[entry.change.id]}: " + "; ".join(problems),
                          [entry.change])

    def warn(self, code: str, severity: str, message: str, changes: Iterable[Change] = ()) -> None:
        self.warnings.append(PlanWarning(code, severity, message, tuple(c.id for c in changes)))

    def n(self, change: Change) -> int:
        return self.positions[change.id]

    @property
    def sendable(self) -> list[Change]:
        """Changes not held (an outcome unknown from an earlier apply keeps a change out of the plan)."""
        return [e.change for e in self.entries if not e.held]

    @property
    def valid_sendable(self) -> list[Change]:
        return [c for c in self.sendable if c.id not in self.invalid]

    def sorted_warnings(self) -> list[PlanWarning]:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.warnings, key=lambda w: order.get(w.severity, 9))

"""Injected faults: scripted ones (`POST /_sandbox/faults`) and random ones (`--fail-rate P --seed N`).

A fault either answers instead of the handler (`after_apply` false: nothing was applied) or replaces the
handler's answer after it ran (`after_apply` true: the state changed but the client never learns it — the
"request reached the server, the answer was lost" case). `reset` drops the connection with no answer.

Random faults: every API request draws from one `random.Random(seed)`, in arrival order, so the same
request sequence fails the same way on every run. With probability `fail_rate` a request fails, evenly
among 500, 502, 503, 429 (Retry-After: 1) and a dropped connection; each failure independently happens
before the handler or after it (half and half) — except 429, which is always sent before the handler:
a throttled request is refused, never applied, and clients rely on that to retry it safely.
Scripted faults match first and consume no draw (a scripted `after_apply` 429 is still possible, to test
a client against a server that breaks that rule).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

RANDOM_KINDS: tuple[int | str, ...] = (500, 502, 503, 429, "drop")
REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    429: "Too Many Requests",
}


@dataclass
class Fault:
    """What happens to one request. `status` None with no reset: the real answer, only delayed."""

    status: int | None = 503
    body: str = ""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    delay_ms: int = 0
    after_apply: bool = False
    origin: str = "scripted"

    def describe(self) -> str:
        what = "drop" if self.reset else str(self.status)
        return f"{self.origin}:{what}:{'after' if self.after_apply else 'before'}"


@dataclass
class ScriptedFault:
    path: str
    method: str | None
    times: int
    fault: Fault

    @classmethod
    def from_json(cls, data: Any) -> ScriptedFault:
        """Build from the control route's JSON; ValueError names the bad field."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must be a string starting with /")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string")
        times = data.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ValueError("times must be a positive integer")
        status = data.get("status", 503)
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("status must be an HTTP status code or null")
        headers = data.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("headers must be an object of strings")
        delay = data.get("delay_ms", 0)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError("delay_ms must be a non-negative number")
        body = data.get("body")
        if body is None:
            body = REASONS.get(status, "sandbox fault") if status else ""
        fault = Fault(
            status=status,
            body=str(body),
            content_type=str(data.get("content_type", "text/plain")),
            headers={str(k): v for k, v in headers.items()},
            reset=bool(data.get("reset", False)),
            delay_ms=int(delay),
            after_apply=bool(data.get("after_apply", False)),
        )
        return cls(path=path, method=method.upper() if method else None, times=times, fault=fault)

    def export(self) -> dict[str, Any]:
        f = self.fault
        return {
            "path": self.path, "method": self.method, "times": self.times, "status": f.status, "body": f.body,
            "content_type": f.content_type, "headers": f.headers, "reset": f.reset, "delay_ms": f.delay_ms,
            "after_apply": f.after_apply,
        }  # fmt: skip


class FaultPlan:
    def __init__(self, fail_rate: float = 0.0, seed: int = 0) -> None:
        self.fail_rate = fail_rate
        self._rng = random.Random(seed)
        self.scripted: list[ScriptedFault] = []

    def add(self, scripted: ScriptedFault) -> None:
        self.scripted.append(scripted)

    def clear(self) -> None:
        self.scripted.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        for item in self.scripted:
            if item.path == path and (item.method is None or item.method == method):
                item.times -= 1
                if item.times <= 0:
                    self.scripted.remove(item)
                return item.fault
        if self.fail_rate <= 0 or self._rng.random() >= self.fail_rate:
            return None
        kind = self._rng.choice(RANDOM_KINDS)
        after = self._rng.random() < 0.5 and kind != 429
        if not isinstance(kind, int):
            return Fault(status=None, reset=True, after_apply=after, origin="random")
        headers = {"Retry-After": "1"} if kind == 429 else {}
        return Fault(status=kind, body=REASONS[kind], headers=headers, after_apply=after, origin="random")

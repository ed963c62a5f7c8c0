"""The sandbox as a real HTTP server in a child process, and its control routes: the one harness the tests
(tests/sandbox_helpers.py) and the benchmarks (benchmarks/_support.py) start it with.

    with SandboxProcess("--latency-ms", "300", env=env) as sb:   # `idconsole sandbox serve --port 0 ...`
        sb.base_url                                               # once it printed its ready line
        sb.reset(); sb.state(); sb.requests(); sb.fault(path="/usermap", status=503)

The control routes are called with the standard library only (urllib), so a benchmark measuring the
client does not share its HTTP stack with the harness. Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

READY_PREFIX = "idconsole sandbox listening on "

_P = TypeVar("_P", bound="SandboxProcess")


class SandboxProcess:
    """`python -m idconsole.sandbox.serve --host 127.0.0.1 --port 0 *args` until `stop()`."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                 timeout: float = 30.0) -> None:
        self.args = list(args)
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.timeout = timeout
        self.base_url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._stdout_lines: list[str] = []

    # --- the process ----------------------------------------------------------------------------------

    def launch(self: _P) -> _P:
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        cmd = [sys.executable, "-m", "idconsole.sandbox.serve", "--host", "127.0.0.1", "--port", "0", *self.args]
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True)
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                if len(self._stdout_lines) < 200:
                    self._stdout_lines.append(line.rstrip())
                lines.put(line)
            lines.put("")  # EOF: the server exited before (or after) its ready line

        threading.Thread(target=pump, daemon=True).start()
        try:
            line = lines.get(timeout=self.timeout)
        except queue.Empty:
            line = ""
        if not line.startswith(READY_PREFIX):
            self.proc.kill()
            self.proc.wait(5)
            raise RuntimeError(f"sandbox {' '.join(self.args)} did not become ready in {self.timeout:.0f} s "
                               f"(exit {self.proc.returncode}, stdout {line!r}); stderr:\n{self.stderr()}")
        self.base_url = line[len(READY_PREFIX):].strip().rstrip("/")
        return self

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the sandbox is not running")
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self: _P) -> _P:
        return self.launch()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stderr(self) -> str:
        """What the server wrote on stderr so far (its log)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def output(self) -> str:
        return "\n".join([*self._stdout_lines, self.stderr()])

    # --- control routes -------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"content-type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            raw = response.read()
        return json.loads(raw) if raw.strip() else None

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset", {})

    def state(self) -> dict[str, Any]:
        return self.call("GET", "/_sandbox/state")

    def requests(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/_sandbox/requests") or [])

    def clear_requests(self) -> None:
        self.call("DELETE", "/_sandbox/requests")

    def fault(self, **fault: Any) -> dict[str, Any]:
        return self.call("POST", "/_sandbox/faults", fault)

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sandbox/faults")

    def seed_users(self, mappings: Sequence[tuple[str, str]] | None = None,
                   users: Sequence[dict[str, Any]] | None = None,
                   clusters: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self.call("POST", "/_sandbox/users", {"mappings": [list(m) for m in mappings or []],
                                                     "users": list(users or []), "clusters": list(clusters or [])})

    def seed(self, *, users: Sequence[dict[str, Any]] = (), mappings: Sequence[tuple[str, str]] = ()) -> Any:
        return self.seed_users(mappings=mappings, users=users)

    def seed_mappings(self, pairs: Sequence[tuple[str, str]]) -> Any:
        return self.seed_users(mappings=pairs)

    def concurrency(self) -> dict[str, Any]:
        """`{family: {"limit", "in_flight", "peak", "admitted", "refused"}}` (peaks since the last reset)."""
        return self.call("GET", "/_sandbox/concurrency") or {}

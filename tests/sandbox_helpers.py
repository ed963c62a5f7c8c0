"""Run the sandbox as a real subprocess and drive its control routes (sync httpx), for the tests."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
READY_PREFIX = "idconsole sandbox listening on "
API_KEY = "sandbox-api-key"
SECRET_KEY = "sandbox-secret-key"
TOKEN = "sandbox-token"
SA = ("sandbox-sa", "sandbox-sa-secret")
MP_API_SECRET = "sandbox-mp-api-secret"


def clean_env() -> dict[str, str]:
    """The parent's environment without any IDCONSOLE_* setting (no developer config leaks in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}


class SandboxServer:
    """One `python -m idconsole.sandbox.serve --port 0 ...` process and a client for its control routes."""

    def __init__(self, proc: subprocess.Popen[str], base_url: str, stderr_file: Any) -> None:
        self.proc = proc
        self.base_url = base_url
        self._stderr = stderr_file
        self.http = httpx.Client(base_url=base_url, timeout=30)

    @classmethod
    def start(cls, *args: str, timeout: float = 20.0) -> SandboxServer:
        stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "idconsole.sandbox.serve", "--host", "127.0.0.1", "--port", "0", *args],
            cwd=REPO,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for out in stdout:
                lines.put(out)
            lines.put("")  # EOF: the server exited before (or after) its ready line

        threading.Thread(target=pump, daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = ""
        if not line.startswith(READY_PREFIX):
            proc.kill()
            proc.wait(5)
            stderr_file.seek(0)
            raise RuntimeError(
                f"sandbox {' '.join(args)} did not become ready in {timeout:.0f} s "
                f"(exit {proc.returncode}, stdout {line!r}); stderr:\n{stderr_file.read()}"
            )
        return cls(proc, line[len(READY_PREFIX) :].strip(), stderr_file)

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    # --- control routes ---------------------------------------------------------------------------------

    def _ok(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._ok(self.http.post("/_sandbox/reset"))

    def state(self) -> dict[str, Any]:
        return self._ok(self.http.get("/_sandbox/state"))

    def requests(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/_sandbox/requests"))

    def clear_requests(self) -> None:
        self._ok(self.http.delete("/_sandbox/requests"))

    def fault(self, **fault: Any) -> dict[str, Any]:
        return self._ok(self.http.post("/_sandbox/faults", json=fault))

    def clear_faults(self) -> None:
        self._ok(self.http.delete("/_sandbox/faults"))

    def seed_users(
        self,
        mappings: list[tuple[str, str]] | None = None,
        users: list[dict[str, Any]] | None = None,
        clusters: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body = {
            "mappings": [list(m) for m in mappings or []],
            "users": users or [],
            "clusters": clusters or [],
        }
        return self._ok(self.http.post("/_sandbox/users", json=body))

    # --- conveniences for the API routes ----------------------------------------------------------------

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kw)

    def user(self, user_id: str) -> dict[str, Any] | None:
        for user in self.state()["amplitude"]["users"]:
            if user["user_id"] == user_id:
                return user
        return None

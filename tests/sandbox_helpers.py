"""The sandbox as a real subprocess for the tests: the package's own harness
(`idconsole.sandbox.harness.SandboxProcess`, which the benchmarks use too) plus an httpx client and a few
conveniences for the API routes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from idconsole.sandbox.harness import READY_PREFIX, SandboxProcess

REPO = Path(__file__).resolve().parents[1]
API_KEY = "sandbox-api-key"
SECRET_KEY = "sandbox-secret-key"
TOKEN = "sandbox-token"
SA = ("sandbox-sa", "sandbox-sa-secret")
MP_API_SECRET = "sandbox-mp-api-secret"

__all__ = ["API_KEY", "MP_API_SECRET", "READY_PREFIX", "REPO", "SA", "SECRET_KEY", "TOKEN", "SandboxServer",
           "clean_env"]


def clean_env() -> dict[str, str]:
    """The parent's environment without any IDCONSOLE_* setting (no developer config leaks in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}


class SandboxServer(SandboxProcess):
    """`SandboxServer.start(*args)`: one served sandbox with a clean environment, its control routes, and
    `http`, an httpx client on its base URL."""

    http: httpx.Client

    @classmethod
    def start(cls, *args: str, timeout: float = 20.0) -> SandboxServer:
        server = cls(*args, env=clean_env(), cwd=REPO, timeout=timeout)
        server.launch()
        server.http = httpx.Client(base_url=server.base_url, timeout=30)
        return server

    def stop(self) -> None:
        http = getattr(self, "http", None)
        if http is not None:
            http.close()
        super().stop()

    # --- conveniences for the API routes ----------------------------------------------------------------

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kw)

    def user(self, user_id: str) -> dict[str, Any] | None:
        for user in self.state()["amplitude"]["users"]:
            if user["user_id"] == user_id:
                return user
        return None

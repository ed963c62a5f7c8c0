"""Helpers for the CLI tests: run `python -m idconsole` as a subprocess with no keyring and the
sandbox's credentials in the IDCONSOLE_* environment, and a real in-memory keyring backend."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring.errors
from keyring.backend import KeyringBackend
from sandbox_helpers import API_KEY, SA, SECRET_KEY, TOKEN

REPO = Path(__file__).resolve().parents[1]
NO_KEYRING = "keyring.backends.fail.Keyring"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps items in a dict (tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


def sandbox_env(sandbox: Any, **override: str) -> dict[str, str]:
    """IDCONSOLE_* variables pointing every host at `sandbox` with its default credentials."""
    env = {
        "IDCONSOLE_BASE_URL": sandbox.base_url,
        "IDCONSOLE_AMPLITUDE_API_KEY": API_KEY,
        "IDCONSOLE_AMPLITUDE_SECRET_KEY": SECRET_KEY,
        "IDCONSOLE_MIXPANEL_TOKEN": TOKEN,
        "IDCONSOLE_MIXPANEL_SA_USERNAME": SA[0],
        "IDCONSOLE_MIXPANEL_SA_SECRET": SA[1],
        "IDCONSOLE_MIXPANEL_PROJECT_ID": "1",
    }
    env.update(override)
    return {k: v for k, v in env.items() if v is not None}


def amplitude_env(sandbox: Any, **override: str) -> dict[str, str]:
    env = {k: v for k, v in sandbox_env(sandbox).items() if "MIXPANEL" not in k}
    env.update(override)
    return env


def closed_port_url() -> str:
    """A base URL nobody listens on (a port just released by the kernel)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """`python -m idconsole ARGS` with the test's (isolated) XDG dirs, no IDCONSOLE_* except `env`,
    no keyring backend, and no terminal on stdin."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    full["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    full["PYTHONIOENCODING"] = "utf-8"
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "idconsole", *args],
        cwd=REPO, env=full, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        encoding="utf-8", timeout=timeout,
    )  # fmt: skip


def json_out(result: subprocess.CompletedProcess[str]) -> Any:
    """stdout must be exactly one JSON document."""
    assert result.stdout.strip(), f"no stdout; stderr: {result.stderr}"
    return json.loads(result.stdout)

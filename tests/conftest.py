"""Shared fixtures: isolated XDG dirs for every test, and the sandbox as a real HTTP server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sandbox_helpers import SandboxServer

# the console's fixtures (tui_env, no_keyring, demo_workspace), for every folder that drives the console
pytest_plugins = ["tui_support"]

XDG_VARS = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Point every XDG dir at a fresh temp dir and drop IDCONSOLE_* so no developer config leaks in."""
    base = tmp_path_factory.mktemp("xdg")
    dirs = {}
    for name in XDG_VARS:
        path = base / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
        dirs[name] = str(path)
    for key in list(os.environ):
        if key.startswith("IDCONSOLE_"):
            monkeypatch.delenv(key)
    return dirs


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox server for the session (demo data). Tests that use it call `reset()` first."""
    try:
        server = SandboxServer.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_clean(sandbox: SandboxServer) -> SandboxServer:
    """The session sandbox, reset to its demo data (state, rate windows, request log, faults)."""
    sandbox.reset()
    return sandbox


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start another server with extra CLI args, e.g. `start_sandbox("--usermap-rate", "100/2")`."""
    started: list[SandboxServer] = []

    def start(*args: str) -> SandboxServer:
        try:
            server = SandboxServer.start(*args)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()

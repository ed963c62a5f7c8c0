"""Shared helpers and fixtures for TUI tests (pilot and snapshot tests).

Import the helpers by name (`from tui_support import make_app, settle`; tests/ is on sys.path, like
`sandbox_helpers`); the fixtures are a plugin the root conftest registers, so any test can ask for them. XDG dirs and IDCONSOLE_* are already isolated by tests/conftest.py; the
`tui_env` fixture adds an in-memory keyring and an empty session store, so no developer config or
secret can leak into a test or a snapshot.

- `tui_env`            in-memory keyring, no session secrets (use it in every TUI test)
- `no_keyring`         like tui_env, but no keyring backend at all (secrets: session only)
- `demo_workspace`     Workspace.demo() with its state in the test's tmp dir
- `make_app(ws, ...)`  a ConsoleTestApp: IdConsoleApp with cursors that never blink
- `sandbox_transport`  an httpx transport to a fresh in-process sandbox (for connections opened
                       from the TUI: `make_app(transport=sandbox_transport())`)
- `add_profile(...)`   save a profile and its secrets as the Connections screen would
- `TUI_SIZE`           (120, 40), the size every TUI test and snapshot uses
- `screen_text(app)`   the screen as the user sees it (the screenshot's text, unescaped)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from textual import events

from idconsole.api.ratelimit import reset_budgets
from idconsole.config import secrets
from idconsole.config.profiles import Profile, save_profile
from idconsole.config.resolve import VENDOR_FIELDS
from idconsole.config.secret import Secret
from idconsole.sandbox import SandboxConfig, create_app
from idconsole.tui.app import IdConsoleApp
from idconsole.workspace import DEMO_BASE_URL, Workspace

__all__ = [
    "TUI_SIZE",
    "SANDBOX_SECRETS",
    "MemoryKeyring",
    "ConsoleTestApp",
    "Shown",
    "make_app",
    "sandbox_transport",
    "add_profile",
    "freeze_cursors",
    "settle",
    "tui_env",
    "no_keyring",
    "demo_workspace",
]

TUI_SIZE = (120, 40)

_config = SandboxConfig()
#: the sandbox's credentials by secret field (what a profile pointing at the sandbox stores)
SANDBOX_SECRETS = {
    "amplitude_api_key": _config.api_key,
    "amplitude_secret_key": _config.secret_key,
    "mixpanel_token": _config.mixpanel_token,
    "mixpanel_api_secret": _config.mixpanel_api_secret,
    "mixpanel_sa_secret": _config.sa_secret,
}


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps items in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


@dataclass(frozen=True)
class Shown:
    """One notification as the app was asked to show it."""

    message: str
    title: str
    severity: str
    markup: bool


class ConsoleTestApp(IdConsoleApp):
    """IdConsoleApp made deterministic for pictures (text cursors are steady, no blink), and keeping
    every notification it showed in `notifications` for assertions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notifications: list[Shown] = []

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.notifications.append(Shown(message, title, severity, markup))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        freeze_cursors(event.widget)


def freeze_cursors(*widgets: Any) -> None:
    """Stop the cursor blink of these widgets (Input, TextArea); a steady cursor stays visible."""
    for widget in widgets:
        if hasattr(widget, "cursor_blink"):
            widget.cursor_blink = False


def make_app(workspace: Workspace | None = None, **kwargs: Any) -> ConsoleTestApp:
    """The app as `idconsole` builds it (`readonly=`, `transport=`, `notice=` pass through)."""
    return ConsoleTestApp(workspace, **kwargs)


def sandbox_transport(config: SandboxConfig | None = None) -> httpx.ASGITransport:
    """A transport to a fresh in-process sandbox with demo data: any base URL reaches it."""
    return httpx.ASGITransport(app=create_app(config or SandboxConfig()))


def add_profile(
    name: str,
    *,
    vendors: tuple[str, ...] = ("amplitude",),
    region: str = "us",
    base_url: str | None = DEMO_BASE_URL,
    secret_values: dict[str, str] | None = None,
    **settings: Any,
) -> Profile:
    """Save a profile (profiles.toml in the isolated config dir) and store its secrets (keyring or session).
    By default the secrets are the sandbox's, for the profile's vendors."""
    profile = Profile(name=name, region=region, base_url=base_url, vendors=vendors, **settings)
    save_profile(profile)
    if secret_values is None:
        secret_values = {f: SANDBOX_SECRETS[f] for v in vendors for f in VENDOR_FIELDS[v]}
        if "mixpanel" in vendors and not profile.sa_username:
            secret_values.pop("mixpanel_sa_secret", None)
    for field, value in secret_values.items():
        secrets.store_secret(name, field, Secret(value))
    return profile


async def settle(pilot: Any, app: Any) -> None:
    """Wait until workers are done and the screen has processed what they posted — also the workers that
    what they posted started (a refused submit goes back to a plan that builds itself again)."""
    for _ in range(20):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            return


@pytest.fixture
def tui_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MemoryKeyring]:
    """An in-memory keyring, an empty session store and full rate budgets (XDG and IDCONSOLE_* come
    isolated by conftest)."""
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        # conftest does this too; repeated here so the helpers also work from a file without it
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets.clear_session()
    reset_budgets()  # rate budgets are shared per process: start full, so status bars are deterministic
    # the journal's operator defaults to the OS user: the same name on every machine (getpass reads LOGNAME first)
    monkeypatch.setenv("LOGNAME", "support")
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
        secrets.clear_session()


@pytest.fixture
def no_keyring(tui_env: MemoryKeyring) -> None:
    """No keyring backend at all: secrets live for the session only (a headless Linux box)."""
    keyring.set_keyring(fail.Keyring())
    secrets.clear_session()


@pytest.fixture
def demo_workspace(tui_env: MemoryKeyring, tmp_path: Path) -> Workspace:
    """The embedded sandbox with demo data; staged changes and journal in the test's tmp dir."""
    return Workspace.demo(state_dir=tmp_path / "demo-state")


def screen_text(app: Any) -> str:
    """The screen as the user sees it: the SVG screenshot's text, unescaped, spaces restored."""
    chunks = re.findall(r"<text[^>]*>(.*?)</text>", app.export_screenshot(), flags=re.S)
    return html.unescape("".join(chunks)).replace("\xa0", " ")

"""The Workspace: one active connection, its shared ApiClient, its staged changes and its journal.

Created once by the App or the CLI and passed in; screens reach it as `self.app.workspace`.
Never imports Textual.

The demo's sandbox keeps its world in `<demo state dir>/sandbox.json`, beside the demo's journal and
staged set, so every process on the demo sees one world; `reset_demo()` puts it back to the story.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idconsole.config import paths
from idconsole.config.connection import AmplitudeCredentials, Connection, MixpanelCredentials
from idconsole.config.secret import Secret

if TYPE_CHECKING:
    from idconsole.api.budgets import BudgetStatus
    from idconsole.api.client import ApiClient
    from idconsole.changes.journal import Journal
    from idconsole.changes.staged import StagedSet

DEMO_BASE_URL = "http://sandbox.idconsole.invalid"
#: the demo world, in the demo profile's state dir
SANDBOX_FILE = "sandbox.json"


class Workspace:
    """`Workspace(connection, client)`, or `Workspace(connection, client_factory=...)` to build the client
    (and with it httpx and, for the demo, the sandbox) on first use: nothing network-related is imported
    before the first frame is drawn."""

    def __init__(
        self,
        connection: Connection,
        client: ApiClient | None = None,
        *,
        client_factory: Callable[[], ApiClient] | None = None,
        readonly: bool = False,
        state_dir: Path | None = None,
        sandbox_app: Any = None,
        sandbox_factory: Callable[[], Any] | None = None,
    ) -> None:
        if client is None and client_factory is None:
            raise TypeError("Workspace needs a client or a client_factory")
        self.connection = connection
        self.readonly = readonly
        self.state_dir = state_dir if state_dir is not None else paths.state_dir(connection.name)
        self._client = client
        self._client_factory = client_factory
        self._sandbox_app = sandbox_app
        self._sandbox_factory = sandbox_factory
        self._staged: StagedSet | None = None
        self._journal: Journal | None = None
        #: one-sentence notices (a damaged demo world set aside); each also goes to `on_notice`, which
        #: the console sets to its notifications — by default they go to stderr (the command line)
        self.notices: list[str] = []
        self.on_notice: Callable[[str], None] | None = None

    def notice(self, sentence: str) -> None:
        self.notices.append(sentence)
        if self.on_notice is not None:
            self.on_notice(sentence)
        else:
            print(f"idconsole: {sentence}", file=sys.stderr)

    @property
    def client(self) -> ApiClient:
        """The shared ApiClient of this profile, created on first use."""
        if self._client is None:
            assert self._client_factory is not None
            self._client = self._client_factory()
        return self._client

    def budgets(self) -> list[BudgetStatus]:
        """Remaining rate budgets, read from the process-wide registry: no client (and no httpx) needed."""
        if self._client is not None:
            return self._client.budgets()
        from idconsole.api.budgets import statuses_for

        return statuses_for(self.connection)

    def redactor(self) -> Callable[[str], str]:
        """The client's own redactor (every form a secret takes on the wire) for text this workspace
        shows or writes; built from the connection when no client exists yet (nothing is imported)."""
        client = self._client
        if client is not None:
            return client.transport.redact
        from idconsole.api.redact import Redactor

        return Redactor.for_connection(self.connection)

    @property
    def sandbox_app(self) -> Any:
        """The in-process sandbox ASGI app when this is the demo (None against a real service)."""
        if self._sandbox_app is None and self._sandbox_factory is not None:
            self._sandbox_app = self._sandbox_factory()
        return self._sandbox_app

    @property
    def is_demo(self) -> bool:
        return self._sandbox_app is not None or self._sandbox_factory is not None

    @property
    def staged(self) -> StagedSet:
        """The staged change set of this profile, loaded on first use (survives restarts)."""
        if self._staged is None:
            from idconsole.changes.staged import StagedSet

            self._staged = StagedSet.load(self.state_dir / "staged.json", profile=self.connection.name)
        return self._staged

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            from idconsole.changes.journal import Journal

            self._journal = Journal(self.state_dir / "journal.jsonl")
        return self._journal

    @classmethod
    def open(
        cls,
        connection: Connection,
        *,
        transport: Any = None,
        readonly: bool = False,
        state_dir: Path | None = None,
    ) -> Workspace:
        def make_client() -> ApiClient:
            from idconsole.api.client import ApiClient

            return ApiClient(connection, transport=transport)

        return cls(connection, client_factory=make_client, readonly=readonly, state_dir=state_dir)

    @classmethod
    def demo(cls, *, readonly: bool = False, sandbox_config: Any = None, state_dir: Path | None = None) -> Workspace:
        """The embedded sandbox in-process (httpx.ASGITransport) with its default credentials, its world
        kept in `<state_dir>/sandbox.json` (unless `sandbox_config` names another `state_file`)."""
        from idconsole.sandbox.config import SandboxConfig

        config = sandbox_config or SandboxConfig()
        if state_dir is None:
            state_dir = paths.state_dir("demo")
        if config.state_file is None:
            config = dataclasses.replace(config, state_file=str(state_dir / SANDBOX_FILE))
        connection = demo_connection(config)
        workspace: Workspace

        def make_sandbox() -> Any:
            from idconsole.sandbox.app import create_app

            return create_app(config, on_notice=workspace.notice)

        def make_client() -> ApiClient:
            import httpx

            from idconsole.api.client import ApiClient

            return ApiClient(connection, transport=httpx.ASGITransport(app=workspace.sandbox_app))

        workspace = cls(connection, client_factory=make_client, readonly=readonly, state_dir=state_dir,
                        sandbox_factory=make_sandbox)
        return workspace

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def reset_demo(self) -> DemoReset:
        """Put the demo world back to its story: archive the demo journal (`journal-<time>.jsonl` beside
        it, so no undo is offered against a world that no longer has the change), clear the staged set,
        and delete `sandbox.json` (no file is the story). Refused (BadInput) outside the demo, when
        read-only, and while an apply of the demo is in flight."""
        from idconsole.api.errors import BadInput
        from idconsole.changes.apply_lock import ApplyLock
        from idconsole.sandbox.state_file import StateFile

        if not self.is_demo:
            raise BadInput("Only the demo world can be reset; a real service is never reset.",
                           hint="Use --demo (or the demo connection).")
        if self.readonly:
            raise BadInput("Resetting the demo world changes data, and this session is read-only (--readonly).")
        world = StateFile(self.state_dir / SANDBOX_FILE)
        with ApplyLock(self.state_dir):
            lock = world.lock()
            if not lock.acquire(10.0):
                raise BadInput(f"The demo world is busy (another idconsole holds {lock.path.name}).",
                               hint="Try again in a moment.")
            try:
                staged = self.staged  # a broken staged.json stops here, before anything moved
                archived = _archive(self.journal.path)
                cleared = staged.clear()
                had_world = world.remove()
            finally:
                lock.release()
        live = self._sandbox_app
        if live is not None and getattr(live.state.sandbox, "sync", None) is not None:
            live.state.sandbox.sync.refresh(force=True)  # now, not at its next request
        return DemoReset(world_changed=had_world, journal_archive=archived, staged_cleared=cleared)


@dataclasses.dataclass(frozen=True)
class DemoReset:
    """What `Workspace.reset_demo()` did."""

    world_changed: bool
    journal_archive: Path | None
    staged_cleared: int

    def sentences(self) -> list[str]:
        world = ("The demo world is back to its story." if self.world_changed
                 else "The demo world was already the story.")
        journal = (f"The demo journal was archived as {self.journal_archive}." if self.journal_archive
                   else "The demo journal was empty; nothing to archive.")
        staged = (f"{self.staged_cleared} staged change{'s' if self.staged_cleared != 1 else ''} cleared."
                  if self.staged_cleared else "No staged changes to clear.")
        return [world, journal, staged]


def _archive(journal: Path) -> Path | None:
    """Rename a non-empty journal to `journal-<UTC time>.jsonl` beside it (never over another)."""
    try:
        if journal.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = journal.with_name(f"journal-{stamp}.jsonl"), 1
    while target.exists():
        n += 1
        target = journal.with_name(f"journal-{stamp}-{n}.jsonl")
    os.replace(journal, target)
    from idconsole.config.atomic import fsync_dir

    fsync_dir(journal.parent)
    return target



def demo_connection(config: Any, *, base_url: str = DEMO_BASE_URL, name: str = "demo") -> Connection:
    """A connection with the sandbox's credentials (from a SandboxConfig)."""
    return Connection(
        name=name,
        region="us",
        base_url=base_url,
        amplitude=AmplitudeCredentials(Secret(config.api_key), Secret(config.secret_key)),
        mixpanel=MixpanelCredentials(
            token=Secret(config.mixpanel_token),
            api_secret=Secret(config.mixpanel_api_secret),
            sa_username=config.sa_username,
            sa_secret=Secret(config.sa_secret),
            project_id=config.project_id,
        ),
        secret_sources={"all": "sandbox defaults"},
    )


def demo_profile_ids() -> tuple[tuple[str, ...], str | None]:
    """The demo's own recommendation and prediction ids, so the demo profile's tabs are not empty."""
    from idconsole.sandbox import demo

    return tuple(demo.REC_IDS), demo.PREDICTION_ID


def fresh_demo_target() -> tuple[Connection, Any]:
    """A connection and an in-process transport to a fresh demo sandbox (the story, no saved world): what
    the Connections screen tests the demo entry against, touching nobody's world."""
    import httpx

    from idconsole.sandbox import SandboxConfig, create_app

    config = SandboxConfig()
    return demo_connection(config), httpx.ASGITransport(app=create_app(config))


def serve_sandbox(argv: list[str]) -> int:
    """`idconsole sandbox serve ...`: the emulator as an HTTP server (its own flags)."""
    from idconsole.sandbox.serve import main

    return main(argv)

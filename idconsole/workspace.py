"""The Workspace: one active connection, its shared ApiClient, its staged changes and its journal.

Created once by the App or the CLI and passed in; screens reach it as `self.app.workspace`.
Never imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable
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
        """The embedded sandbox in-process (httpx.ASGITransport) with its default credentials."""
        from idconsole.sandbox.config import SandboxConfig

        config = sandbox_config or SandboxConfig()
        connection = demo_connection(config)
        workspace: Workspace

        def make_sandbox() -> Any:
            from idconsole.sandbox.app import create_app

            return create_app(config)

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

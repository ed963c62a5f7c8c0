"""The Workspace: one active connection, its shared ApiClient, its staged changes and its journal.

Created once by the App or the CLI and passed in; screens reach it as `self.app.workspace`.
Never imports Textual.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from idconsole.config import paths
from idconsole.config.connection import AmplitudeCredentials, Connection, MixpanelCredentials
from idconsole.config.secret import Secret

if TYPE_CHECKING:
    from idconsole.api.client import ApiClient
    from idconsole.changes.journal import Journal
    from idconsole.changes.staged import StagedSet

DEMO_BASE_URL = "http://sandbox.idconsole.invalid"


class Workspace:
    def __init__(
        self,
        connection: Connection,
        client: ApiClient,
        *,
        readonly: bool = False,
        state_dir: Path | None = None,
        sandbox_app: Any = None,
    ) -> None:
        self.connection = connection
        self.client = client
        self.readonly = readonly
        self.state_dir = state_dir if state_dir is not None else paths.state_dir(connection.name)
        #: the in-process sandbox ASGI app when this is the demo (None against a real service)
        self.sandbox_app = sandbox_app
        self._staged: StagedSet | None = None
        self._journal: Journal | None = None

    @property
    def is_demo(self) -> bool:
        return self.sandbox_app is not None

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
        transport: httpx.AsyncBaseTransport | None = None,
        readonly: bool = False,
        state_dir: Path | None = None,
    ) -> Workspace:
        from idconsole.api.client import ApiClient

        return cls(connection, ApiClient(connection, transport=transport), readonly=readonly, state_dir=state_dir)

    @classmethod
    def demo(cls, *, readonly: bool = False, sandbox_config: Any = None, state_dir: Path | None = None) -> Workspace:
        """The embedded sandbox in-process (httpx.ASGITransport) with its default credentials."""
        from idconsole.api.client import ApiClient
        from idconsole.sandbox import SandboxConfig, create_app

        config = sandbox_config or SandboxConfig()
        app = create_app(config)
        connection = demo_connection(config)
        client = ApiClient(connection, transport=httpx.ASGITransport(app=app))
        return cls(connection, client, readonly=readonly, state_dir=state_dir, sandbox_app=app)

    async def aclose(self) -> None:
        await self.client.aclose()


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

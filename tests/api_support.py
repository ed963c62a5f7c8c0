"""Helpers for the api tests (no tests here): clients on the sandbox subprocess, a recording transport.

The recording transport is a real httpx transport that also remembers every request it sent, so tests can
check URLs and headers as they left the process (the sandbox's own log drops secret-named parameters).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_helpers import API_KEY, MP_API_SECRET, SA, SECRET_KEY, TOKEN

from idconsole.api.client import ApiClient
from idconsole.api.ratelimit import reset_budgets
from idconsole.api.transport import RetryPolicy
from idconsole.config.connection import AmplitudeCredentials, Connection, MixpanelCredentials
from idconsole.config.secret import Secret
from idconsole.sandbox import SandboxConfig
from idconsole.workspace import demo_connection

#: every secret the sandbox profile holds (the service account *username* is not a secret)
SECRETS = (API_KEY, SECRET_KEY, TOKEN, SA[1], MP_API_SECRET)


@pytest.fixture(autouse=True)
def fresh_budgets() -> None:
    """Budgets are process-wide by design; each test starts with full ones."""
    reset_budgets()


class RecordingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await super().handle_async_request(request)


def connection(base_url: str, *, region: str = "us", mixpanel: MixpanelCredentials | None | str = "default",
               amplitude: AmplitudeCredentials | None | str = "default") -> Connection:
    base = demo_connection(SandboxConfig(), base_url=base_url, name="test")
    return Connection(
        name="test",
        region=region,
        base_url=base_url,
        amplitude=base.amplitude if amplitude == "default" else amplitude,  # type: ignore[arg-type]
        mixpanel=base.mixpanel if mixpanel == "default" else mixpanel,  # type: ignore[arg-type]
    )


def make_client(sb: Any, *, region: str = "us", conn: Connection | None = None, **kw: Any) -> ApiClient:
    kw.setdefault("retry", RetryPolicy.fast())
    kw.setdefault("transport", RecordingTransport())
    return ApiClient(conn or connection(sb.base_url, region=region), **kw)


def api_log(sb: Any, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
    """The sandbox's request log for API routes (control routes are not logged)."""
    return [e for e in sb.requests() if (path is None or e["path"] == path) and (method is None or e["method"] == method)]


async def settle(sb: Any, client: ApiClient, timeout: float = 10.0) -> None:
    """Wait until the sandbox has finished every request this client sent (a request the client gave up
    on after a timeout still runs on the server, and must not land in the next test's log or state)."""
    import asyncio

    sent = len(client.transport._http._transport.sent)  # type: ignore[attr-defined]
    for _ in range(int(timeout / 0.05)):
        if len(api_log(sb)) >= sent:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the sandbox logged {len(api_log(sb))} of {sent} requests")


def sa_only(project_id: str | None = "1") -> MixpanelCredentials:
    return MixpanelCredentials(token=Secret(TOKEN), sa_username=SA[0], sa_secret=Secret(SA[1]), project_id=project_id)


def secret_only() -> MixpanelCredentials:
    return MixpanelCredentials(token=Secret(TOKEN), api_secret=Secret(MP_API_SECRET))


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into {text[:200]!r}"


def assert_error_clean(exc: BaseException) -> None:
    """No secret in the error, its repr, or anything chained to it."""
    seen = 0
    while exc is not None and seen < 10:
        assert_clean(str(exc), repr(exc), repr(getattr(exc, "args", ())))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1


def workspace_on(server: Any, tmp_path: Any, *, region: str = "us", name: str = "ws") -> Any:
    """A Workspace with the demo credentials on a served sandbox, its state in `tmp_path / name`."""
    from dataclasses import replace

    from idconsole.workspace import Workspace

    conn = demo_connection(SandboxConfig(), base_url=server.base_url, name=name)
    if region != "us":
        conn = replace(conn, region=region)
    return Workspace(conn, ApiClient(conn, retry=RetryPolicy.fast(2)), state_dir=tmp_path / name)

"""The one shared client: one httpx.AsyncClient per connection, shared rate budgets. (Contract stub.)"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from idconsole.api.amplitude import AmplitudeApi
from idconsole.api.mixpanel import MixpanelApi
from idconsole.config.connection import Connection


@dataclass(frozen=True)
class BudgetStatus:
    family: str          # "usermap" | "usersearch" | "profile" | "mixpanel"
    limit: int
    window_s: float
    remaining: int       # what could be spent right now without waiting


class ApiClient:
    """`ApiClient(connection, transport=None)`; `transport` lets the demo/tests use httpx.ASGITransport."""

    amplitude: AmplitudeApi
    mixpanel: MixpanelApi

    def __init__(self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        raise NotImplementedError

    def budgets(self) -> list[BudgetStatus]:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

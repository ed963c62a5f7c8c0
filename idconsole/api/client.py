"""The one shared client: one httpx.AsyncClient per connection, shared rate budgets."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from idconsole.api.activity import AmplitudeActivityApi, MixpanelActivityApi
from idconsole.api.amplitude import AmplitudeApi
from idconsole.api.budgets import (
    BudgetStatus,
    budget_statuses,
    connection_budgets,
    connection_gates,
    merged_concurrency,
    merged_limits,
)
from idconsole.api.hosts import Hosts, resolve_hosts
from idconsole.api.inflight import InFlightGate
from idconsole.api.mixpanel import MixpanelApi
from idconsole.api.ratelimit import RollingBudget
from idconsole.api.redact import Redactor
from idconsole.api.transport import DEFAULT_POOL, DEFAULT_TIMEOUT, RetryPolicy, Transport
from idconsole.config.connection import Connection


class ApiClient:
    """`ApiClient(connection, transport=None)`; `transport` lets the demo/tests use httpx.ASGITransport.

    Optional tuning: `limits={"usermap": (3000, 3.0)}` overrides a budget (for a sandbox started with
    `--usermap-rate 3000/3`), `retry=RetryPolicy.fast()` shrinks backoff, `timeout` (seconds or
    httpx.Timeout) replaces the default timeouts, `concurrency={"amplitude_rest": 5, "mixpanel_query": 5}`
    sets the in-flight caps (inflight.py; the vendors' own limits by default).

    `amplitude_activity` / `mixpanel_activity` read event streams (activity.py).
    """

    amplitude: AmplitudeApi
    mixpanel: MixpanelApi
    amplitude_activity: AmplitudeActivityApi
    mixpanel_activity: MixpanelActivityApi

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: Mapping[str, tuple[int, float]] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        concurrency: Mapping[str, int] | None = None,
    ) -> None:
        self.connection = connection
        self.hosts: Hosts = resolve_hosts(connection.region, connection.base_url)
        self._limits = merged_limits(limits)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            limits=DEFAULT_POOL,
            follow_redirects=False,   # a redirect could carry our Authorization header elsewhere
            headers={"User-Agent": "idconsole/0.1"},
        )
        self.transport = Transport(self._http, policy=retry, redact=Redactor.for_connection(connection))
        self._budgets = connection_budgets(connection, self._limits, self.hosts)
        self._gates = connection_gates(connection, merged_concurrency(concurrency), self.hosts)
        self.amplitude = AmplitudeApi(connection.amplitude, self.transport, self.hosts, self._budgets,
                                      region=connection.region, gates=self._gates)
        self.mixpanel = MixpanelApi(connection.mixpanel, self.transport, self.hosts, self._budgets.get("mixpanel"),
                                    region=connection.region, query_budget=self._budgets.get("mpquery"),
                                    gates=self._gates)
        self.amplitude_activity = AmplitudeActivityApi(self.amplitude, self.transport, self.hosts,
                                                       self._budgets.get("usersearch"))
        self.mixpanel_activity = MixpanelActivityApi(self.mixpanel, self.transport, self.hosts)

    def __repr__(self) -> str:
        return f"ApiClient(profile={self.connection.name!r}, region={self.connection.region!r})"

    def budgets(self, *, include_query: bool = False) -> list[BudgetStatus]:
        """What each shared budget has left now, for the status bar (vendors of this profile only);
        `include_query` adds the Mixpanel Query API's own budget (`mpquery`, 60/hour)."""
        return budget_statuses(self._budgets, self.hosts, include_query=include_query)

    def budget(self, family: str) -> RollingBudget:
        """The shared budget of one family (KeyError if this profile has no such vendor)."""
        return self._budgets[family]

    def find_budget(self, family: str) -> RollingBudget | None:
        """The shared budget of one family, or None when this profile has no such vendor."""
        return self._budgets.get(family)

    def gate(self, family: str) -> InFlightGate:
        """The in-flight cap of one family ("amplitude_rest", "mixpanel_query"); KeyError without the vendor."""
        return self._gates[family]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


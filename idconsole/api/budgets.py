"""The shared rate budgets of one connection, without the HTTP client.

The client spends them; the status bar only reads them. Keeping this free of httpx lets the console
show the budgets on its first frame without importing the network stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from idconsole.api.hosts import Hosts, resolve_hosts
from idconsole.api.inflight import (
    AMPLITUDE_REST,
    DEFAULT_CONCURRENCY,
    MIXPANEL_QUERY,
    InFlightGate,
    shared_gate,
)
from idconsole.api.ratelimit import DEFAULT_LIMITS, RollingBudget, owner_hash, shared_budget
from idconsole.config.connection import Connection


@dataclass(frozen=True)
class BudgetStatus:
    family: str          # "usermap" | "usersearch" (shared with user activity) | "profile" | "mixpanel" | "mpquery"
    limit: int
    window_s: float
    remaining: int       # what could be spent right now without waiting


def merged_limits(limits: Mapping[str, tuple[int, float]] | None) -> dict[str, tuple[int, float]]:
    unknown = set(limits or {}) - set(DEFAULT_LIMITS)
    if unknown:
        raise ValueError(f"unknown budget families: {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
    return {**DEFAULT_LIMITS, **(limits or {})}


def connection_budgets(
    connection: Connection,
    limits: Mapping[str, tuple[int, float]] | None = None,
    hosts: Hosts | None = None,
) -> dict[str, RollingBudget]:
    """Budgets are keyed by host + a hash of the credential, so clients on one project share them."""
    limits = merged_limits(limits)
    hosts = hosts or resolve_hosts(connection.region, connection.base_url)
    out: dict[str, RollingBudget] = {}
    amp = connection.amplitude
    if amp is not None:
        who = amp.api_key.reveal() if amp.api_key else ""
        for family, host in (("usermap", hosts.usermap), ("usersearch", hosts.analytics),
                             ("profile", hosts.profile or "")):
            out[family] = shared_budget(family, owner_hash(family, host, who), *limits[family])
    mp = connection.mixpanel
    if mp is not None:
        who = _mixpanel_project(connection)
        out["mixpanel"] = shared_budget("mixpanel", owner_hash("mixpanel", hosts.mp_ingest, who),
                                        *limits["mixpanel"])
        # the Query API (engage reads, stream query) is counted apart from ingestion
        out["mpquery"] = shared_budget("mpquery", owner_hash("mpquery", hosts.mp_query, who), *limits["mpquery"])
    return out


def _mixpanel_project(connection: Connection) -> str:
    mp = connection.mixpanel
    assert mp is not None
    return mp.token.reveal() if mp.token else str(mp.project_id or "")


def merged_concurrency(concurrency: Mapping[str, int] | None) -> dict[str, int]:
    unknown = set(concurrency or {}) - set(DEFAULT_CONCURRENCY)
    if unknown:
        raise ValueError(f"unknown concurrency families: {sorted(unknown)}; known: {sorted(DEFAULT_CONCURRENCY)}")
    return {**DEFAULT_CONCURRENCY, **(concurrency or {})}


def connection_gates(
    connection: Connection,
    concurrency: Mapping[str, int] | None = None,
    hosts: Hosts | None = None,
) -> dict[str, InFlightGate]:
    """One in-flight gate per vendor family that caps concurrency, per host + project: every
    `amplitude.com/api/2/*` call of the project shares `amplitude_rest`, every Query API call `mixpanel_query`."""
    caps = merged_concurrency(concurrency)
    hosts = hosts or resolve_hosts(connection.region, connection.base_url)
    out: dict[str, InFlightGate] = {}
    if connection.amplitude is not None:
        who = connection.amplitude.api_key.reveal() if connection.amplitude.api_key else ""
        out[AMPLITUDE_REST] = shared_gate(AMPLITUDE_REST, owner_hash(AMPLITUDE_REST, hosts.analytics, who),
                                          caps[AMPLITUDE_REST])
    if connection.mixpanel is not None:
        out[MIXPANEL_QUERY] = shared_gate(
            MIXPANEL_QUERY, owner_hash(MIXPANEL_QUERY, hosts.mp_query, _mixpanel_project(connection)),
            caps[MIXPANEL_QUERY])
    return out


#: families shown only when asked for (`include_query=True`): the Query API budget belongs to the Mixpanel
#: views; the status bar keeps its four entries
QUERY_FAMILIES = ("mpquery",)


def budget_statuses(budgets: Mapping[str, RollingBudget], hosts: Hosts, *,
                    include_query: bool = False) -> list[BudgetStatus]:
    """What each budget has left now (the profile budget only where the Profile API exists; the Mixpanel
    Query API budget with `include_query`)."""
    return [BudgetStatus(b.family, b.limit, b.window_s, b.remaining()) for b in budgets.values()
            if not (b.family == "profile" and hosts.profile is None)
            and (include_query or b.family not in QUERY_FAMILIES)]


def statuses_for(connection: Connection, limits: Mapping[str, tuple[int, float]] | None = None, *,
                 include_query: bool = False) -> list[BudgetStatus]:
    hosts = resolve_hosts(connection.region, connection.base_url)
    return budget_statuses(connection_budgets(connection, limits, hosts), hosts, include_query=include_query)

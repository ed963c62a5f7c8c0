"""The shared rate budgets of one connection, without the HTTP client.

The client spends them; the status bar only reads them. Keeping this free of httpx lets the console
show the budgets on its first frame without importing the network stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from idconsole.api.hosts import Hosts, resolve_hosts
from idconsole.api.ratelimit import DEFAULT_LIMITS, RollingBudget, owner_hash, shared_budget
from idconsole.config.connection import Connection


@dataclass(frozen=True)
class BudgetStatus:
    family: str          # "usermap" | "usersearch" | "profile" | "mixpanel"
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
        who = mp.token.reveal() if mp.token else str(mp.project_id or "")
        out["mixpanel"] = shared_budget("mixpanel", owner_hash("mixpanel", hosts.mp_ingest, who),
                                        *limits["mixpanel"])
    return out


def budget_statuses(budgets: Mapping[str, RollingBudget], hosts: Hosts) -> list[BudgetStatus]:
    """What each budget has left now (the profile budget only where the Profile API exists)."""
    return [BudgetStatus(b.family, b.limit, b.window_s, b.remaining()) for b in budgets.values()
            if not (b.family == "profile" and hosts.profile is None)]


def statuses_for(connection: Connection, limits: Mapping[str, tuple[int, float]] | None = None) -> list[BudgetStatus]:
    hosts = resolve_hosts(connection.region, connection.base_url)
    return budget_statuses(connection_budgets(connection, limits, hosts), hosts)

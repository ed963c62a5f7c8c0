"""5. Client overhead: 1,000 profile fetches through idconsole's client against raw httpx.AsyncClient calls
to the same sandbox.

Same requests (GET /v1/userprofile?user_id=...&get_amp_props=true&get_cohort_ids=true, `Api-Key` header),
same concurrency (CONCURRENCY in flight, an asyncio.Semaphore around both), same keep-alive pool
(httpx.Limits of the client's transport), same JSON decoding (raw calls do `response.json()`; the client
also builds its typed UserProfile). The sandbox runs with no latency and its profile limit lifted
(`--profile-rate 1000000/60`). The client's profile budget (600/min by default) is scaled for the run to
100,000 per 1 s: pacing never binds (the box does a few hundred fetches/s), and the budget keeps about as
many bookings in its window (~300) as the real 600-per-60 s budget does at most (600), so its bookkeeping
costs what it costs in production. Rounds alternate raw/client; medians compared. One more round runs the
client with the budget lifted inside a 60 s window (1,000,000 per 60 s: thousands of bookings in the
window), to show how the bookkeeping grows with them (informational).

Reported: wall time (the target, <= 1.15x) and this process's CPU time per fetch (the client's own cost;
on a 2-core box the sandbox server can hide it from the wall time).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from benchmarks._support import Result, Sandbox, isolated_env, log, median, quick, spread

NAME = "overhead"
TITLE = "Client overhead: 1,000 profile fetches vs raw httpx"
N_FETCHES = 1000
N_USERS = 200
CONCURRENCY = 10
TARGET_RATIO = 1.15
LIFTED = (1_000_000, 60.0)        # the sandbox's profile limit for the run
SCALED = (100_000, 1.0)            # the client's profile budget for the run (see the docstring)
#: stop adding rounds once this much time has gone (keeps the benchmark under 2 minutes on a busy box)
TIME_BUDGET_S = 70.0
MIN_ROUNDS = 3


def _users() -> list[dict[str, Any]]:
    return [
        {
            "user_id": f"profile-user-{i:04d}@example.com",
            "device_ids": [f"device-{i:04d}-a", f"device-{i:04d}-b"],
            "user_properties": {"plan": ["free", "pro", "team"][i % 3], "country": "DE", "logins": i,
                                "tags": [f"t{j}" for j in range(i % 7)], "nested": {"a": {"b": i}}},
            "computed_properties": {"12": str(i % 9)},
            "cohort_ids": [f"cohort{i % 5}", f"cohort{i % 11}"],
        }
        for i in range(N_USERS)
    ]


def _pool_limits() -> httpx.Limits:
    try:
        from idconsole.api.transport import DEFAULT_POOL

        return DEFAULT_POOL
    except ImportError:
        return httpx.Limits(max_connections=20, max_keepalive_connections=10)


def make_client(url: str, budget: tuple[int, float] = SCALED) -> tuple[Any, str]:
    """idconsole's client on the sandbox with its profile budget set to `budget`; says how."""
    from idconsole.api import ratelimit
    from idconsole.api.client import ApiClient
    from idconsole.sandbox import SandboxConfig
    from idconsole.workspace import demo_connection

    connection = demo_connection(SandboxConfig(), base_url=url)
    import inspect

    params = inspect.signature(ApiClient).parameters
    if "limits" in params:
        client = ApiClient(connection, limits={"profile": budget})
        how = f"ApiClient(limits={{'profile': ({budget[0]}, {budget[1]:g})}})"
    else:
        old = ratelimit.DEFAULT_LIMITS["profile"]
        ratelimit.DEFAULT_LIMITS["profile"] = budget
        try:
            client = ApiClient(connection)
        finally:
            ratelimit.DEFAULT_LIMITS["profile"] = old
        how = "ratelimit.DEFAULT_LIMITS['profile'] patched while the client was built"
    return client, how


async def _bounded(n: int, fn: Any, items: list[str]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: str) -> None:
        async with gate:
            await fn(item)

    await asyncio.gather(*(one(i) for i in items))


async def _measure(sb: Sandbox, rounds: int) -> dict[str, Any]:
    from idconsole.sandbox import SandboxConfig

    url = sb.url
    secret = SandboxConfig().secret_key
    ids = [f"profile-user-{i % N_USERS:04d}@example.com" for i in range(N_FETCHES)]
    raw_http = httpx.AsyncClient(limits=_pool_limits(), timeout=httpx.Timeout(30.0))
    client, how = make_client(url)
    headers = {"Authorization": f"Api-Key {secret}"}

    async def raw_fetch(user_id: str) -> None:
        r = await raw_http.get(url + "/v1/userprofile", headers=headers,
                               params=[("user_id", user_id), ("get_amp_props", "true"),
                                       ("get_cohort_ids", "true")])
        if r.status_code != 200:
            raise RuntimeError(f"raw fetch: HTTP {r.status_code} {r.text[:200]}")
        r.json()

    async def client_fetch(user_id: str) -> None:
        await client.amplitude.profile(user_id=user_id)

    out: dict[str, Any] = {"raw_wall": [], "raw_cpu": [], "client_wall": [], "client_cpu": [], "how": how,
                           "served": 0, "throttled": 0}
    try:
        # warm both pools and code paths
        await _bounded(CONCURRENCY, raw_fetch, ids[:50])
        await _bounded(CONCURRENCY, client_fetch, ids[:50])
        sb.clear_requests()
        started = time.perf_counter()
        for i in range(rounds):
            if i >= MIN_ROUNDS and time.perf_counter() - started > TIME_BUDGET_S:
                log(f"  overhead: stopping after {i} rounds (time budget {TIME_BUDGET_S:.0f} s; busy machine?)")
                break
            for kind, fn in (("raw", raw_fetch), ("client", client_fetch)):
                c0, t0 = time.process_time(), time.perf_counter()
                await _bounded(CONCURRENCY, fn, ids)
                out[f"{kind}_wall"].append(time.perf_counter() - t0)
                out[f"{kind}_cpu"].append(time.process_time() - c0)
                served = [e for e in sb.requests() if e.get("path") == "/v1/userprofile"]
                out["served"] += len(served)
                out["throttled"] += sum(1 for e in served if e.get("status") == 429)
                sb.clear_requests()
            log(f"  overhead round {i + 1}/{rounds}: raw {out['raw_wall'][-1]:.3f}s "
                f"client {out['client_wall'][-1]:.3f}s")
        # informational: the same client code with its budget lifted inside a 60 s window, so thousands
        # of bookings sit in the window (a fresh client: it shares no budget with the one above)
        lifted, how_lifted = make_client(url, LIFTED)
        try:
            await _bounded(CONCURRENCY, lambda u: lifted.amplitude.profile(user_id=u), ids[:50])
            for _ in range(2):
                c0, t0 = time.process_time(), time.perf_counter()
                await _bounded(CONCURRENCY, lambda u: lifted.amplitude.profile(user_id=u), ids)
                out.setdefault("lifted_wall", []).append(time.perf_counter() - t0)
                out.setdefault("lifted_cpu", []).append(time.process_time() - c0)
            out["how_lifted"] = how_lifted
            out["lifted_bookings"] = len(getattr(lifted.budget("profile"), "_bookings", ()))
            log(f"  overhead, budget lifted in a 60 s window: {out['lifted_wall'][-1]:.3f}s")
        finally:
            await lifted.aclose()
        sb.clear_requests()
    finally:
        await raw_http.aclose()
        await client.aclose()
    return out


def run() -> Result:
    result = Result(NAME, TITLE)
    rounds = 3 if quick() else 7
    with isolated_env() as env, Sandbox("--no-demo-data", "--profile-rate", f"{LIFTED[0]}/{LIFTED[1]:g}",
                                        env=env) as sb:
        sb.call("POST", "/_sandbox/users", {"users": _users()})
        m = asyncio.run(_measure(sb, rounds))
    throttled = m["throttled"]
    rounds = len(m["raw_wall"])
    rw, cw = median(m["raw_wall"]), median(m["client_wall"])
    rc, cc = median(m["raw_cpu"]), median(m["client_cpu"])
    result.add("raw httpx: 1,000 fetches", rw, "s", note=f"median of {rounds}, {spread(m['raw_wall'])}; "
               f"{N_FETCHES / rw:,.0f}/s")
    result.add("idconsole client: 1,000 fetches", cw, "s", baseline=rw, baseline_label="raw httpx",
               target=f"<= {TARGET_RATIO}x", met=cw <= TARGET_RATIO * rw,
               note=f"median of {rounds}, {spread(m['client_wall'])}; concurrency {CONCURRENCY}")
    result.add("client CPU per fetch (this process)", cc / N_FETCHES * 1e6, "µs", baseline=rc / N_FETCHES * 1e6,
               baseline_label="raw httpx", note="process_time: the client's own work, server excluded")
    result.add("429s during the run", throttled, "count", target="0", met=throttled == 0,
               note=f"{m['served']:,} requests served; client budget: {m['how']}")
    if m.get("lifted_wall"):
        lw, lc = m["lifted_wall"][-1], m["lifted_cpu"][-1]
        result.add("client, budget lifted in a 60 s window: 1,000 fetches", lw, "s", baseline=rw,
                   baseline_label="raw httpx",
                   note=f"{m['how_lifted']}: {lc / N_FETCHES * 1e6:,.0f} µs CPU per fetch with "
                        f"{m['lifted_bookings']:,} bookings in the window (second round); informational")
    result.details = m
    return result


if __name__ == "__main__":
    from benchmarks.run import main

    raise SystemExit(main(["overhead"]))

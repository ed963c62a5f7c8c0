"""2. Lookup fan-out under the vendor's cap: the mappings of 1,000 user ids through idconsole's client
against `idconsole sandbox serve --latency-ms 300` (a real vendor's latency).

Amplitude's Dashboard REST API takes at most 5 requests in flight per project (429 beyond; the sandbox
enforces it and counts its peak at `/_sandbox/concurrency`). 1,000 ids are ceil(1000/100) = 10
get-mappings requests, so at 5 in flight the best any client can do is 2 rounds: the ideal is
latency x ceil(requests / 5). Counts the requests from the sandbox's own request log and reads the
server's in-flight peak and refusals after the run. The first call on a fresh client (cold: it opens
its connections) is reported apart; the target is judged on the median of the warm calls (connections
kept alive), which is what a support person sees after the first lookup. Raw httpx sends the same 10
requests at the same cap, alternating with the client. Target: within 1.1x of ideal, peak <= 5, no 429.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import math
import time
from typing import Any

import httpx

from benchmarks._support import (
    Result,
    Sandbox,
    isolated_env,
    log,
    median,
    process_cpu,
    quick,
    request_path,
    spread,
)

NAME = "fanout"
TITLE = "Lookup fan-out: mappings of 1,000 ids at 5 in flight (latency 300 ms)"
LATENCY_MS = 300
N_IDS = 1000
IDS_PER_REQUEST = 100
TARGET_RATIO = 1.1
#: the vendor's cap on Dashboard REST requests in flight (API.md), which the sandbox enforces
VENDOR_CAP = 5


def client_concurrency(client: Any) -> tuple[int | None, str]:
    """The client's bound on concurrent get-mappings requests, and where it was found: the smaller of
    its fan-out bound and its in-flight gate for the Dashboard REST family."""
    bound, where = _fanout_bound(client)
    gate = getattr(client.amplitude, "rest_gate", None)
    limit = getattr(gate, "limit", None)
    if isinstance(limit, int) and (bound is None or limit < bound):
        return limit, "client.amplitude.rest_gate.limit"
    return bound, where


def _fanout_bound(client: Any) -> tuple[int | None, str]:
    import idconsole.api.amplitude as amp

    names = ("get_mappings_concurrency", "mappings_concurrency", "fanout_concurrency", "concurrency",
             "max_concurrency", "fanout")
    for owner, label in ((client.amplitude, "client.amplitude"), (client, "client")):
        for name in names:
            value = getattr(owner, name, None)
            if isinstance(value, int) and value > 0:
                return value, f"{label}.{name}"
    if isinstance(getattr(amp, "GET_MAPPINGS_CONCURRENCY", None), int):
        return amp.GET_MAPPINGS_CONCURRENCY, "idconsole.api.amplitude.GET_MAPPINGS_CONCURRENCY"
    for name in dir(amp):
        if "CONCURRENCY" in name.upper() and isinstance(getattr(amp, name), int):
            return getattr(amp, name), f"idconsole.api.amplitude.{name}"
    try:
        sig = inspect.signature(client.amplitude.get_mappings)
        for p in sig.parameters.values():
            if "concurren" in p.name and isinstance(p.default, int):
                return p.default, f"get_mappings({p.name}=)"
    except (TypeError, ValueError):
        pass
    return None, "not found"


def _pool_limits() -> httpx.Limits:
    from idconsole.api.transport import DEFAULT_POOL

    return DEFAULT_POOL


def make_client(url: str) -> Any:
    from idconsole.api.client import ApiClient
    from idconsole.sandbox import SandboxConfig
    from idconsole.workspace import demo_connection

    return ApiClient(demo_connection(SandboxConfig(), base_url=url))


async def _measure(sb: Sandbox, ids: list[str], warm_runs: int) -> dict[str, Any]:
    """Alternates idconsole's get_mappings with the same requests sent by raw httpx (same pool limits,
    same concurrency, JSON decoded), recording wall time and the CPU time of both processes."""
    from idconsole.sandbox import SandboxConfig

    client = make_client(sb.url)
    cfg = SandboxConfig()
    auth = {"Authorization": "Basic " + base64.b64encode(f"{cfg.api_key}:{cfg.secret_key}".encode()).decode()}
    raw = httpx.AsyncClient(limits=_pool_limits(), timeout=httpx.Timeout(30.0))
    out: dict[str, Any] = {"times": [], "counts": [], "client_cpu": [], "server_cpu": [],
                           "raw_times": [], "raw_cpu": []}
    try:
        concurrency, where = client_concurrency(client)
        gate = asyncio.Semaphore(min(concurrency or VENDOR_CAP, VENDOR_CAP))

        async def raw_one(chunk: list[str]) -> None:
            async with gate:
                r = await raw.get(sb.url + "/api/2/usermap", params=[("user_ids", u) for u in chunk], headers=auth)
                r.raise_for_status()
                r.json()

        async def raw_lookup() -> None:
            await asyncio.gather(*(raw_one(ids[i:i + IDS_PER_REQUEST]) for i in range(0, len(ids), IDS_PER_REQUEST)))

        found = 0
        for i in range(warm_runs + 1):
            sb.clear_requests()
            s0, c0, t0 = process_cpu(sb.pid), time.process_time(), time.perf_counter()
            result = await client.amplitude.get_mappings(ids)
            out["times"].append(time.perf_counter() - t0)
            out["client_cpu"].append(time.process_time() - c0)
            out["server_cpu"].append(process_cpu(sb.pid) - s0)
            found = len(result)
            out["counts"].append(sum(1 for e in sb.requests() if request_path(e) == "/api/2/usermap"))
            c0, t0 = time.process_time(), time.perf_counter()
            await raw_lookup()
            out["raw_times"].append(time.perf_counter() - t0)
            out["raw_cpu"].append(time.process_time() - c0)
            log(f"  fanout call {i + 1}: {out['times'][-1] * 1000:.1f} ms, {out['counts'][-1]} requests, "
                f"{found} ids answered; raw httpx {out['raw_times'][-1] * 1000:.1f} ms")
        return {**out, "concurrency": concurrency, "where": where, "answered": found,
                "server": sb.concurrency().get("amplitude_rest", {})}
    finally:
        await client.aclose()
        await raw.aclose()


def run() -> Result:
    result = Result(NAME, TITLE)
    warm_runs = 4 if quick() else 15
    ids = [f"fanout-user-{i:05d}@example.com" for i in range(N_IDS)]
    with isolated_env() as env, Sandbox("--latency-ms", str(LATENCY_MS), "--no-demo-data", env=env) as sb:
        # realistic answers: half the ids are mapped somewhere, a few globals gather many
        sb.seed_mappings([(u, f"fanout-global-{i % 37}") for i, u in enumerate(ids) if i % 2 == 0])
        m = asyncio.run(_measure(sb, ids, warm_runs))
    cold, warm = m["times"][0], m["times"][1:]
    requests = max(m["counts"])
    concurrency = m["concurrency"]
    server = m["server"]
    latency = LATENCY_MS / 1000
    min_requests = math.ceil(N_IDS / IDS_PER_REQUEST)
    result.add("requests per lookup (sandbox log)", requests, "req", baseline=min_requests,
               baseline_label="ceil(1000/100)", target="= 10", met=requests == min_requests and
               min(m["counts"]) == requests, note=f"every call: {sorted(set(m['counts']))}")
    result.add("in flight at once (the server's peak)", server.get("peak"), "req", baseline=VENDOR_CAP,
               baseline_label="the vendor's cap", target=f"<= {VENDOR_CAP}, no 429",
               met=server.get("peak") is not None and server["peak"] <= VENDOR_CAP and not server.get("refused"),
               note=f"{server.get('refused', '?')} refused (429) of {server.get('admitted', '?')} admitted, "
                    "client and raw httpx together")
    if concurrency:
        ideal = latency * math.ceil(requests / VENDOR_CAP)
        result.add("wall time, warm pool (median)", median(warm), "s", baseline=ideal,
                   baseline_label=f"{LATENCY_MS} ms x ceil({requests}/{VENDOR_CAP})",
                   target=f"<= {TARGET_RATIO}x", met=median(warm) <= TARGET_RATIO * ideal,
                   note=f"{len(warm)} calls, {spread(warm)} s; concurrency from {m['where']}")
        result.add("wall time, first call (cold pool)", cold, "s", baseline=ideal, baseline_label="same ideal",
                   note="opens the connections; informational")
        raw_warm = m["raw_times"][1:]
        result.add("raw httpx, same 10 requests (median)", median(raw_warm), "s", baseline=ideal,
                   baseline_label="same ideal", note=f"what plain httpx reaches on this box: {spread(raw_warm)} s")
        result.add("idconsole vs raw httpx (wall)", median(warm), "s", baseline=median(raw_warm),
                   baseline_label="raw httpx", note="informational: the client's own share")
        result.add("CPU per lookup: client process", median(m["client_cpu"][1:]) * 1000, "ms",
                   baseline=median(m["raw_cpu"][1:]) * 1000, baseline_label="raw httpx",
                   note=f"sandbox server process: {median(m['server_cpu'][1:]) * 1000:.0f} ms per lookup")
    else:
        result.add("wall time, warm pool (median)", median(warm), "s", target=f"<= {TARGET_RATIO}x ideal",
                   met=None, note="client concurrency not found: ideal unknown")
    result.add("ids answered", m["answered"], "count", baseline=N_IDS, baseline_label="asked",
               met=m["answered"] == N_IDS, target="all")
    result.details = m
    return result


if __name__ == "__main__":
    from benchmarks.run import main

    raise SystemExit(main(["fanout"]))

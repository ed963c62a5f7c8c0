"""4. Big tree: a user with 10,000 and one with 100,000 `mapped_from` entries, from Enter to the drawn tree.

One sandbox (`idconsole sandbox serve`, no latency) is seeded through `POST /_sandbox/users` with three
global ids: one with 200 children (one page: the baseline, nothing hidden behind "show more"), one with
10,000 and one with 100,000. The real console runs in a pseudo-terminal (120x40), connected to the
sandbox through the IDCONSOLE_* environment (the implicit `env` profile); each run is a fresh process:

1. wait for the Lookup screen's first full frame;
2. type the global id and press Enter (the clock starts when Enter is written);
3. "drawn": the output that completes the status line's "N ids mapped into it" and the first child rows;
   "settled": the last byte of that burst (then 150 ms of silence: the side panel, the footer's keys for
   the focused tree);
4. the process's CPU time from Enter to settled, and its peak RSS (VmHWM in /proc/PID/status).

Pages of 200 are drawn, so the draw must cost the same for every size: the rows compare each size with
the 200-children baseline of the same run. What does grow with the size is the answer itself, reported
beside it: the get-mappings request with raw httpx (server + wire) and, in this process, decoding and
parsing that body into the client's models (`json.loads` + `parse_mappings`). Targets: drawn < 0.25 s
for 10,000 and 100,000, peak RSS < 150 MB.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from benchmarks._support import (
    PYTHON,
    PtySession,
    Result,
    Sandbox,
    isolated_env,
    log,
    median,
    process_cpu,
    process_status_mb,
    quick,
    spread,
)
from benchmarks.bench_startup import idconsole_markers

NAME = "bigtree"
TITLE = "Big tree: lookup of a user with 10,000 / 100,000 mapped_from, drawn (pty)"
SIZES = (200, 10_000, 100_000)
BASELINE = 200
CHILD_PREFIX = "bigtree-child-"
TARGET_S = 0.25
TARGET_MB = 150.0


def parent(size: int) -> str:
    return f"bigtree-parent-{size}@example.com"


def children(size: int) -> list[str]:
    return [f"{CHILD_PREFIX}{size}-{i:06d}@example.com" for i in range(size)]


def _env_for(url: str, env: dict[str, str]) -> dict[str, str]:
    from idconsole.sandbox import SandboxConfig

    cfg = SandboxConfig()
    return dict(env, IDCONSOLE_BASE_URL=url, IDCONSOLE_AMPLITUDE_API_KEY=cfg.api_key,
                IDCONSOLE_AMPLITUDE_SECRET_KEY=cfg.secret_key)


def _answer_costs(url: str, size: int) -> dict[str, float]:
    """The get-mappings request with plain httpx (keep-alive warm), then decoding and parsing its body as
    the client does; medians of 4."""
    from idconsole.api.parse import parse_mappings
    from idconsole.sandbox import SandboxConfig

    cfg = SandboxConfig()
    auth = {"Authorization": "Basic " + base64.b64encode(f"{cfg.api_key}:{cfg.secret_key}".encode()).decode()}
    request, decode, parse = [], [], []
    with httpx.Client(timeout=60) as http:
        for _ in range(5):
            t0 = time.perf_counter()
            r = http.get(url + "/api/2/usermap", params={"user_ids": parent(size)}, headers=auth)
            r.raise_for_status()
            body = r.content
            t1 = time.perf_counter()
            data = json.loads(body)
            t2 = time.perf_counter()
            parsed = parse_mappings(data, [parent(size)])
            t3 = time.perf_counter()
            request.append(t1 - t0)
            decode.append(t2 - t1)
            parse.append(t3 - t2)
    n = len(parsed[parent(size)].mapped_from)
    if n != size:
        raise RuntimeError(f"the sandbox answered {n} mapped_from entries, not {size}")
    return {"request_s": median(request[1:]), "decode_s": median(decode[1:]), "parse_s": median(parse[1:]),
            "bytes": len(body)}


def _one_run(env: dict[str, str], start_markers: tuple[str, ...], size: int) -> dict[str, Any]:
    session = PtySession([PYTHON, "-m", "idconsole"], env=env)
    try:
        marker_t, _ = session.wait_frame(start_markers, timeout_s=30)
        if marker_t is None:
            raise RuntimeError(f"the Lookup screen never appeared; screen text:\n{session.screen_tail()}")
        rss_idle = process_status_mb(session.pid, "VmRSS")
        session.mark()
        for ch in parent(size):
            session.write(ch.encode())
        session.drain(0.3)  # let the typed text echo and settle
        session.mark()
        cpu0 = process_cpu(session.pid)
        t_enter = session.write(b"\r")
        marker_t, end_t = session.wait_frame((f"{size} ids mapped into it", CHILD_PREFIX), timeout_s=60)
        if marker_t is None or end_t is None:
            raise RuntimeError(f"the tree was never drawn; screen text:\n{session.screen_tail()}")
        cpu = process_cpu(session.pid) - cpu0
        peak = process_status_mb(session.pid, "VmHWM")
        return {"drawn_s": marker_t - t_enter, "settled_s": end_t - t_enter, "cpu_s": cpu, "peak_mb": peak,
                "idle_mb": rss_idle}
    finally:
        session.close()


def run() -> Result:
    result = Result(NAME, TITLE)
    runs = 2 if quick() else 4
    start_markers = idconsole_markers()
    runs_by_size: dict[int, list[dict[str, Any]]] = {}
    costs: dict[int, dict[str, float]] = {}
    with isolated_env() as base_env, Sandbox("--no-demo-data", env=base_env) as sb:
        for size in SIZES:
            sb.seed_mappings([(c, parent(size)) for c in children(size)])
        env = _env_for(sb.url, base_env)
        for size in SIZES:
            costs[size] = _answer_costs(sb.url, size)
        _one_run(env, start_markers, SIZES[-1])  # warm-up (caches), not counted
        for i in range(runs):
            for size in SIZES:  # sizes alternate, so drift on the box hits them alike
                runs_by_size.setdefault(size, []).append(_one_run(env, start_markers, size))
                r = runs_by_size[size][-1]
                log(f"  bigtree {size:>6} run {i + 1}/{runs}: drawn {r['drawn_s']:.3f} s, settled "
                    f"{r['settled_s']:.3f} s, cpu {r['cpu_s']:.2f} s, peak RSS {r['peak_mb']:.0f} MB")
    base = runs_by_size[BASELINE]
    base_drawn, base_settled = median([r["drawn_s"] for r in base]), median([r["settled_s"] for r in base])
    base_cpu = median([r["cpu_s"] for r in base])
    result.add(f"{BASELINE} children (one page): drawn", base_drawn, "s",
               note=f"the baseline; settled {base_settled:.3f} s, CPU {base_cpu * 1000:.0f} ms; "
                    f"median of {runs}; pty run of `idconsole` (env profile on the sandbox)")
    for size in SIZES[1:]:
        rows = runs_by_size[size]
        drawn = [r["drawn_s"] for r in rows]
        settled = median([r["settled_s"] for r in rows])
        cpu = median([r["cpu_s"] for r in rows])
        c = costs[size]
        answer = c["request_s"] + c["decode_s"] + c["parse_s"]
        result.add(f"{size:,} children: Enter -> drawn", median(drawn), "s", baseline=TARGET_S,
                   baseline_label="target", target=f"< {TARGET_S} s", met=median(drawn) < TARGET_S,
                   note=f"median of {runs}, {spread(drawn)} s; settled {settled:.3f} s; "
                        f"vs the {BASELINE}-children baseline: {median(drawn) / base_drawn:.2f}x")
        result.add(f"  {size:,}: of which the answer (request + decode + parse)", answer, "s",
                   note=f"request (server + wire, {c['bytes'] / 1e6:.1f} MB) {c['request_s']:.3f} s, json.loads "
                        f"{c['decode_s']:.3f} s, parse_mappings {c['parse_s']:.3f} s; grows with the size")
        result.add(f"  {size:,}: drawn minus the answer", median(drawn) - answer, "s", baseline=base_drawn,
                   baseline_label=f"{BASELINE} drawn", target="flat (~1x)",
                   note="what the console adds once the answer is parsed: pages of 200, whatever the size")
        result.add(f"  {size:,}: console CPU, Enter -> settled", cpu * 1000, "ms", baseline=base_cpu * 1000,
                   baseline_label=f"{BASELINE} children", note="the console process's user+sys CPU (10 ms ticks)")
    peaks = {size: max(r["peak_mb"] for r in rows) for size, rows in runs_by_size.items()}
    for size in SIZES[1:]:
        result.add(f"peak RSS, {size:,} children", peaks[size], "MB", baseline=TARGET_MB, baseline_label="target",
                   target=f"< {TARGET_MB:.0f} MB", met=peaks[size] < TARGET_MB,
                   note=f"VmHWM of the console; {BASELINE} children: {peaks[BASELINE]:.0f} MB, before the "
                        f"lookup {median([r['idle_mb'] for r in runs_by_size[size]]):.0f} MB")
    result.details = {"runs": runs_by_size, "answer": costs}
    return result


if __name__ == "__main__":
    from benchmarks.run import main

    raise SystemExit(main(["bigtree"]))

"""What-if experiments: the evidence behind the fixes proposed for missed targets. NOT benchmarks of
idconsole's own code paths: each one changes something (from the outside, in this process or a child's
sitecustomize) to show what a proposed fix would buy. Same harness, same sandbox, same machine.

    .venv/bin/python -m benchmarks.whatif apply-batches      # usermap batches sized to the budget (1500)
    .venv/bin/python -m benchmarks.whatif startup-httpx-cli  # httpx without its CLI (click, pygments, rich.syntax)
    .venv/bin/python -m benchmarks.whatif staged-save        # staged.json saves: indent=1 vs compact
    .venv/bin/python -m benchmarks.whatif budget-fast-path   # client overhead with a fast path in the budget
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._support import (
    PYTHON,
    Sandbox,
    isolated_env,
    log,
    median,
    request_path,
    request_status,
    run_in_pty,
    spread,
)


def apply_batches(batch: int = 1500) -> None:
    """The client's own map_batch, fed batches of `batch` (what map_users / the plan would send if
    split_usermap_batches were given max_mappings sized to the usermap budget)."""
    from benchmarks.bench_apply import LIMIT, WINDOW, N, ideal_wall, make_client, mappings

    async def go(url: str) -> float:
        from idconsole.api.amplitude import split_usermap_batches
        from idconsole.api.models import Mapping

        client, _ = make_client(url)
        try:
            batches = split_usermap_batches([Mapping(u, g) for u, g in mappings()], max_mappings=batch)
            t0 = time.perf_counter()
            for b in batches:
                await client.amplitude.map_batch(b)
            return time.perf_counter() - t0
        finally:
            await client.aclose()

    with isolated_env() as env, Sandbox("--no-demo-data", "--usermap-rate", f"{LIMIT}/{WINDOW:g}", env=env) as sb:
        wall = asyncio.run(go(sb.url))
        entries = [e for e in sb.requests() if request_path(e) == "/usermap"]
        held = sb.state()["amplitude"]["mappings"]
    lost = sum(1 for u, g in mappings() if held.get(u) != g)
    print(f"batches of {batch}: {len(entries)} requests, {sum(request_status(e) == 429 for e in entries)} x 429, "
          f"{N / wall:,.0f} mappings/s = {N / wall / (LIMIT / WINDOW):.0%} of the limit, "
          f"wall {wall:.1f} s (ideal {ideal_wall():.0f} s), lost {lost}")


SITECUSTOMIZE = '''
import sys, types
_stub = types.ModuleType("httpx._main")
def main(*args, **kwargs):
    raise SystemExit("httpx CLI stubbed out by benchmarks.whatif")
_stub.main = main
sys.modules["httpx._main"] = _stub
'''


def startup_httpx_cli(runs: int = 7) -> None:
    """`idconsole --demo` start-up with and without httpx importing its CLI (httpx/__init__ imports
    httpx._main, which pulls in click, rich.syntax, rich.progress and pygments whenever click is installed
    - and uvicorn installs click)."""
    from benchmarks.bench_startup import idconsole_markers

    markers = idconsole_markers()
    argv = [PYTHON, "-m", "idconsole", "--demo"]
    with tempfile.TemporaryDirectory() as stub_dir, isolated_env() as env:
        (Path(stub_dir) / "sitecustomize.py").write_text(SITECUSTOMIZE)
        stub_env = dict(env, PYTHONPATH=stub_dir + ":" + env.get("PYTHONPATH", ""))
        as_is, stubbed, cpu_as_is, cpu_stubbed = [], [], [], []
        run_in_pty(argv, markers=markers, env=env)
        run_in_pty(argv, markers=markers, env=stub_env)
        for i in range(runs):
            a = run_in_pty(argv, markers=markers, env=env)
            b = run_in_pty(argv, markers=markers, env=stub_env)
            if not (a.ok and b.ok):
                raise RuntimeError(a.tail or b.tail)
            as_is.append(a.frame_end_s or 0)
            stubbed.append(b.frame_end_s or 0)
            cpu_as_is.append(a.cpu_s or 0)
            cpu_stubbed.append(b.cpu_s or 0)
            log(f"  run {i + 1}: as is {as_is[-1]:.3f} s, httpx CLI stubbed {stubbed[-1]:.3f} s")
    print(f"first full frame: as is {median(as_is):.3f} s ({spread(as_is)}), httpx CLI stubbed "
          f"{median(stubbed):.3f} s ({spread(stubbed)}); CPU {median(cpu_as_is):.2f} s vs {median(cpu_stubbed):.2f} s")


def staged_save() -> None:
    """How long one staged.json save of 20,000 map changes takes (apply saves after every acknowledged
    batch, on the event loop), as written today (indent=1) and compact."""
    from benchmarks.bench_apply import mappings
    from idconsole.changes.model import Change
    from idconsole.changes.staged import StagedSet

    with tempfile.TemporaryDirectory() as d:
        staged = StagedSet.load(Path(d) / "staged.json", profile="bench")
        staged.extend(Change.map(u, g) for u, g in mappings())
        doc = json.loads((Path(d) / "staged.json").read_text(encoding="utf-8"))
        saves = []
        for _ in range(5):
            t0 = time.perf_counter()
            staged._save()  # noqa: SLF001 - measuring the private save on purpose
            saves.append(time.perf_counter() - t0)
        dumps = {}
        for label, kw in (("indent=1", {"indent": 1}), ("compact", {"separators": (",", ":")})):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                json.dumps(doc, ensure_ascii=False, **kw)
                times.append(time.perf_counter() - t0)
            dumps[label] = median(times)
    print(f"StagedSet._save with 20,000 changes: {median(saves) * 1000:.0f} ms ({spread(saves)} s); "
          f"json.dumps alone: indent=1 {dumps['indent=1'] * 1000:.0f} ms, compact {dumps['compact'] * 1000:.0f} ms")


def budget_fast_path() -> None:
    """The overhead benchmark with RollingBudget._earliest given a fast path: when the window at `start`
    has room even counting every booking after start - span (an over-count, so never more permissive),
    return `start` without sorting and scanning every candidate. Same client otherwise."""
    from benchmarks import bench_overhead
    from idconsole.api.ratelimit import RollingBudget

    original = RollingBudget._earliest

    def fast(self, cost, start, others, now):  # type: ignore[no-untyped-def]
        need = min(max(int(cost), 0), self.limit)
        horizon = start - self._span
        if sum(b.cost for b in others if self._when(b, now) > horizon) + need <= self.limit:
            return start
        return original(self, cost, start, others, now)

    RollingBudget._earliest = fast  # type: ignore[method-assign]
    try:
        res = bench_overhead.run()
    finally:
        RollingBudget._earliest = original  # type: ignore[method-assign]
    for row in res.rows:
        ratio = f" = {row.ratio:.2f}x {row.baseline_label}" if row.ratio is not None else ""
        print(f"{row.metric}: {row.value:,.3f} {row.unit}{ratio}")


EXPERIMENTS = {"apply-batches": apply_batches, "startup-httpx-cli": startup_httpx_cli, "staged-save": staged_save,
               "budget-fast-path": budget_fast_path}

if __name__ == "__main__":
    names = sys.argv[1:] or list(EXPERIMENTS)
    for name in names:
        if name not in EXPERIMENTS:
            raise SystemExit(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
        log(f"== {name}")
        EXPERIMENTS[name]()

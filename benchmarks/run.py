"""Run every benchmark (or some) and print one Markdown table; also writes benchmarks/results/latest.{md,json}.

    .venv/bin/python -m benchmarks.run                 # all of them
    .venv/bin/python -m benchmarks.run startup fanout  # some
    .venv/bin/python -m benchmarks.run --list

Every ratio is against a baseline measured in the same run on the same machine (or, for the network
benchmarks, against the ideal computed from the sandbox's own settings). Exit code 0 even when a target is
missed (benchmarks are not tests); 1 if a benchmark could not run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import RESULTS_DIR, Result, git_revision, load_average, log, machine_info  # noqa: E402

#: name -> module; in the order they run
BENCHMARKS = {
    "startup": "benchmarks.bench_startup",
    "latency": "benchmarks.bench_latency",
    "fanout": "benchmarks.bench_fanout",
    "apply": "benchmarks.bench_apply",
    "bigtree": "benchmarks.bench_bigtree",
    "overhead": "benchmarks.bench_overhead",
    "timeline": "benchmarks.bench_timeline",
}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit in ("", "count", "req", "429s", "mappings") and float(value).is_integer():
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip() if unit not in ("", "count") else text


def render(results: Sequence[Result], info: dict[str, str], started: str, revision: str) -> str:
    lines = [
        "# idconsole benchmarks",
        "",
        f"- date: {started}",
        f"- revision: {revision}",
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}",
        f"- software: {info['python']}, Textual {info['textual']}, httpx {info['httpx']}",
        f"- load average (1/5/15 min) at start: {info.get('load_start', '?')}, at end: {info.get('load_end', '?')}"
        " (other work on the box skews every figure; ratios are measured side by side to limit that)",
        "",
        "| benchmark | metric | value | baseline | ratio | target | met? | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        if res.error:
            first = res.error.strip().splitlines()[-1] if res.error.strip() else "error"
            lines.append(f"| {res.name} | (did not run) | — | — | — | — | ERROR | {first.replace('|', '/')[:200]} |")
        for r in res.rows:
            base = f"{_fmt(r.baseline, r.unit)} ({r.baseline_label})" if r.baseline is not None else "—"
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "—"
            met = "—" if r.met is None else ("yes" if r.met else "**NO**")
            note = r.note.replace("|", "/").replace("\n", " ")
            lines.append(f"| {r.benchmark} | {r.metric} | {_fmt(r.value, r.unit)} | {base} | {ratio} | "
                         f"{r.target or '—'} | {met} | {note} |")
    lines.append("")
    lines.append("Wall time per benchmark: " + ", ".join(f"{r.name} {r.seconds:.0f} s" for r in results))
    return "\n".join(lines) + "\n"


def wait_for_quiet(seconds: float) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        load = os.getloadavg()[0]
        if load < cores:
            return
        log(f"waiting for a quieter machine: load {load:.2f} >= {cores} cores")
        time.sleep(10)
    log("still busy; running anyway (see the load average in the table header)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/latest.*")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to SECONDS for the 1-minute load average to fall below the core count")
    ns = parser.parse_args(argv)
    if ns.list:
        for name, module in BENCHMARKS.items():
            mod = importlib.import_module(module)
            print(f"{name:10} {mod.TITLE}")
        return 0
    unknown = [n for n in ns.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    if ns.quick:
        os.environ["IDCONSOLE_BENCH_QUICK"] = "1"
    names = ns.names or list(BENCHMARKS)
    if ns.wait_quiet > 0:
        wait_for_quiet(ns.wait_quiet)
    started = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    info = machine_info()
    info["load_start"] = load_average()
    revision = git_revision()
    results: list[Result] = []
    for name in names:
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(BENCHMARKS[name])
            res = mod.run()
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            res = Result(name, getattr(sys.modules.get(BENCHMARKS[name]), "TITLE", name))
            res.error = traceback.format_exc()
            log(res.error)
        res.seconds = time.perf_counter() - t0
        log(f"== {name} done in {res.seconds:.1f} s")
        results.append(res)
    info["load_end"] = load_average()
    table = render(results, info, started, revision)
    print(table)
    if not ns.no_write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "latest.md").write_text(table, encoding="utf-8")
        doc = {"date": started, "revision": revision, "machine": info, "results": [r.to_json() for r in results]}
        (RESULTS_DIR / "latest.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        log(f"wrote {RESULTS_DIR / 'latest.md'} and latest.json")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())

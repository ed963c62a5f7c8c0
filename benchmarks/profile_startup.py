"""Where `idconsole --demo`'s start-up goes, step by step, against the minimal app's imports.

    .venv/bin/python -m benchmarks.profile_startup            # CPU-time checkpoints + -X importtime summary
    .venv/bin/python -m benchmarks.profile_startup --pyinstrument   # also a pyinstrument tree of a pty run

Each step runs in a fresh interpreter, in the order `idconsole --demo` runs them (cli -> open_workspace ->
the app module -> the first screen's modules -> what its widgets load on mount), and is timed in CPU
seconds (process_time: robust against other load on the box) and wall seconds; medians of several runs.
`-X importtime` then names the modules idconsole imports that the minimal app does not, by package.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections import Counter

from benchmarks._support import PYTHON, REPO, isolated_env

STEPS = r'''
import time, json, sys
marks = []
def mark(name):
    marks.append((name, time.process_time(), time.perf_counter()))
mark("start")
from idconsole.cli import build_parser
ns = build_parser().parse_args(["--demo"])
mark("cli: argparse + idconsole.cli")
import httpx
mark("import httpx (incl. httpx._main: click, rich.syntax, pygments)")
from idconsole.workspace import Workspace
mark("import idconsole.workspace")
import idconsole.sandbox, idconsole.sandbox.app
mark("import idconsole.sandbox (starlette)")
import idconsole.api.client
mark("import idconsole.api.client")
ws = Workspace.demo()
mark("Workspace.demo(): demo data + create_app + ApiClient")
from textual.app import App
from textual.widgets import Footer, Header, Static
mark("import textual.app + Header/Static/Footer (the minimal app's imports)")
from idconsole.tui.app import IdConsoleApp
mark("import idconsole.tui.app (bindings, commands, errors, status bar)")
from idconsole.tui.screens.lookup import LookupScreen
mark("import idconsole.tui.screens.lookup (tree, details, recent...)")
ws.staged
mark("workspace.staged (status bar on mount: idconsole.changes + staged.json)")
ws.client.budgets()
mark("client.budgets()")
out = []
for (a, ca, wa), (b, cb, wb) in zip(marks, marks[1:]):
    out.append([b, cb - ca, wb - wa])
print(json.dumps(out))
'''

MINIMAL = r'''
import time, json
c0, w0 = time.process_time(), time.perf_counter()
from textual.app import App
from textual.widgets import Footer, Header, Static
print(json.dumps([["minimal app: textual.app + Header/Static/Footer", time.process_time() - c0, time.perf_counter() - w0]]))
'''


def _steps(code: str, env: dict[str, str], runs: int) -> list[tuple[str, float, float]]:
    samples: dict[str, list[tuple[float, float]]] = {}
    order: list[str] = []
    for _ in range(runs):
        out = subprocess.run([PYTHON, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
        for name, cpu, wall in json.loads(out.stdout.strip().splitlines()[-1]):
            if name not in samples:
                order.append(name)
            samples.setdefault(name, []).append((cpu, wall))
    return [(n, statistics.median(c for c, _ in samples[n]), statistics.median(w for _, w in samples[n]))
            for n in order]


def _importtime(code: str, env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run([PYTHON, "-X", "importtime", "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, check=True)
    mods: dict[str, int] = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            mods[m.group(3)] = int(m.group(1))
    return mods


def main(argv: list[str]) -> int:
    runs = 5
    with isolated_env() as env:
        subprocess.run([PYTHON, "-c", STEPS], cwd=REPO, env=env, capture_output=True, check=True)  # warm .pyc
        steps = _steps(STEPS, env, runs)
        minimal = _steps(MINIMAL, env, runs)
        print(f"## Start-up steps of `idconsole --demo` (fresh interpreter each, median of {runs})\n")
        print("| step | CPU ms | wall ms |\n|---|---|---|")
        for name, cpu, wall in steps:
            print(f"| {name} | {cpu * 1000:.0f} | {wall * 1000:.0f} |")
        print(f"| **total (without the event loop / first render)** | **{sum(c for _, c, _ in steps) * 1000:.0f}** | "
              f"**{sum(w for _, _, w in steps) * 1000:.0f}** |")
        for name, cpu, wall in minimal:
            print(f"| {name} (baseline) | {cpu * 1000:.0f} | {wall * 1000:.0f} |")

        idc = _importtime(STEPS, env)
        base = _importtime(MINIMAL, env)
        extra = {m: us for m, us in idc.items() if m not in base}
        by_pkg: Counter[str] = Counter()
        for mod, us in extra.items():
            parts = mod.split(".")
            by_pkg[".".join(parts[:2]) if parts[0] == "idconsole" else parts[0]] += us
        print(f"\n## Modules idconsole imports that the minimal app does not: {len(extra)} modules, "
              f"{sum(extra.values()) / 1000:.0f} ms self time under -X importtime (inflated by the flag)\n")
        print("| package | self ms |\n|---|---|")
        for pkg, us in by_pkg.most_common(20):
            print(f"| {pkg} | {us / 1000:.1f} |")

    if "--pyinstrument" in argv:
        import tempfile
        from pathlib import Path

        from benchmarks._support import PtySession
        from benchmarks.bench_startup import idconsole_markers

        with isolated_env() as env, tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "startup.txt"
            session = PtySession([PYTHON, "-m", "pyinstrument", "--interval", "0.001", "-r", "text",
                                  "-o", str(out), "-m", "idconsole", "--demo"], env=env)
            session.wait_frame(idconsole_markers())
            session.close()  # ctrl+q: pyinstrument writes its report as the program exits
            print("\n## pyinstrument: `idconsole --demo` on a pty, start to first frame (+ quit)\n")
            print("```\n" + (out.read_text() if out.exists() else "(no report written)") + "\n```")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

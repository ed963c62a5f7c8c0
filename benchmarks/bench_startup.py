"""1. Start-up: time to the first full frame of `idconsole --demo` against a minimal Textual app.

Both run as a fresh interpreter (warm .pyc caches: one discarded warm-up run each) on a 120x40 pty with
TERM=xterm-256color and isolated XDG dirs. The clock starts just before the spawn and stops at the last byte
of the output burst that completes the screen's known text (then 150 ms of silence). Runs alternate
A/B so drift hits both; the medians are compared. Target: idconsole <= 1.5x the minimal app.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks._support import (
    BENCH_DIR,
    PYTHON,
    PtyRun,
    Result,
    isolated_env,
    log,
    median,
    quick,
    run_in_pty,
    spread,
)
from benchmarks.minimal_app import READY_TEXT

NAME = "startup"
TITLE = "Start-up to first full frame (pty 120x40)"
TARGET_RATIO = 1.5
TIME_BUDGET_S = 80.0

#: Text that only the final first frame of `idconsole --demo` shows. The Lookup screen's input placeholder
#: and footer; overridable while the TUI is in flux (IDCONSOLE_BENCH_STARTUP_MARKERS="a|b").
IDCONSOLE_MARKERS_DEFAULT = ("^q", "Quit")


def idconsole_markers() -> tuple[str, ...]:
    raw = os.environ.get("IDCONSOLE_BENCH_STARTUP_MARKERS")
    if raw:
        return tuple(m for m in raw.split("|") if m)
    return _discover_markers()


def _discover_markers() -> tuple[str, ...]:
    """The Lookup screen's input placeholder, read from its source (no import: that would warm caches
    differently between the two apps), plus the footer's quit hint."""
    src = Path(BENCH_DIR.parent / "idconsole" / "tui" / "screens" / "lookup.py")
    import re

    if src.exists():
        text = src.read_text(encoding="utf-8")
        m = re.search(r"placeholder\s*=\s*(['\"])(.{6,}?)\1", text)
        if m:
            # a run of plain words from the middle: the first cell may carry the cursor's style
            words = m.group(2).split()
            return (" ".join(words[1:4]) if len(words) > 2 else m.group(2)[1:],)
    return IDCONSOLE_MARKERS_DEFAULT


def _one(argv: list[str], markers: tuple[str, ...], env: dict[str, str]) -> PtyRun:
    run = run_in_pty(argv, markers=markers, env=env, timeout_s=30.0)
    if not run.ok:
        raise RuntimeError(f"{' '.join(argv[1:])}: markers {markers!r} never drawn "
                           f"(exit {run.exit_code}); last screen text:\n{run.tail}")
    return run


def run(runs: int | None = None) -> Result:
    runs = runs or (3 if quick() else 7)
    result = Result(NAME, TITLE)
    markers = idconsole_markers()
    minimal_argv = [PYTHON, str(BENCH_DIR / "minimal_app.py")]
    idc_argv = [PYTHON, "-m", "idconsole", "--demo"]
    base: list[float] = []
    idc: list[float] = []
    base_first: list[float] = []
    idc_first: list[float] = []
    base_cpu: list[float] = []
    idc_cpu: list[float] = []
    with isolated_env() as env:
        # warm-up: compile .pyc, fill the OS page cache; not counted
        _one(minimal_argv, (READY_TEXT,), env)
        _one(idc_argv, markers, env)
        started = time.perf_counter()
        for i in range(runs):
            if i >= 3 and time.perf_counter() - started > TIME_BUDGET_S:
                log(f"  startup: stopping after {i} pairs (time budget {TIME_BUDGET_S:.0f} s; busy machine?)")
                break
            for argv, marks, out, first, cpu in ((minimal_argv, (READY_TEXT,), base, base_first, base_cpu),
                                                 (idc_argv, markers, idc, idc_first, idc_cpu)):
                r = _one(argv, marks, env)
                assert r.frame_end_s is not None
                out.append(r.frame_end_s)
                first.append(r.first_output_s or 0.0)
                cpu.append(r.cpu_s if r.cpu_s is not None else float("nan"))
                time.sleep(0.05)
            log(f"  startup run {i + 1}/{runs}: minimal {base[-1]:.3f}s idconsole {idc[-1]:.3f}s")
    runs = len(base)
    b, v = median(base), median(idc)
    result.add("minimal app: first full frame", b, "s", note=f"median of {runs}, {spread(base)}")
    result.add("idconsole --demo: first full frame", v, "s", baseline=b, baseline_label="minimal app",
               target=f"<= {TARGET_RATIO}x", met=v <= TARGET_RATIO * b,
               note=f"median of {runs}, {spread(idc)}; best-vs-best ratio {min(idc) / min(base):.2f}x")
    result.add("idconsole --demo: first byte on the tty", median(idc_first), "s", baseline=median(base_first),
               baseline_label="minimal app", note="interpreter + imports until the driver starts")
    result.add("CPU time to first full frame", median(idc_cpu), "s", baseline=median(base_cpu),
               baseline_label="minimal app", note="the child's user+sys CPU (10 ms ticks): less sensitive "
               "to other load on the box than wall time")
    result.details = {"minimal_cpu_s": base_cpu, "idconsole_cpu_s": idc_cpu,"markers": list(markers), "minimal_s": base, "idconsole_s": idc,
                      "minimal_first_byte_s": base_first, "idconsole_first_byte_s": idc_first}
    return result


if __name__ == "__main__":
    from benchmarks.run import main

    raise SystemExit(main(["startup"]))

"""Shared benchmark plumbing: results, machine facts, isolated dirs, a sandbox subprocess, pty runs.

Nothing here asserts on time: benchmarks report figures, `run.py` compares them with targets.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from idconsole.sandbox.harness import SandboxProcess

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable


# --- results -----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    benchmark: str
    metric: str
    value: float | None
    unit: str = ""
    baseline: float | None = None       # measured in the same run (or computed ideal), same unit
    baseline_label: str = ""
    target: str = ""                    # human text, e.g. "<= 1.5x"
    met: bool | None = None             # None: informational, no target
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass
class Result:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(self.name, *args, **kwargs)
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "rows": [{**asdict(r), "ratio": r.ratio} for r in self.rows],
            "details": self.details,
        }


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """min..max as text, for the notes column."""
    return f"{min(values):.3g}..{max(values):.3g}" if values else ""


def log(*parts: Any) -> None:
    """Progress goes to stderr; the table goes to stdout."""
    print(*parts, file=sys.stderr, flush=True)


# --- the machine -------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    try:
        from importlib.metadata import version

        textual_version = version("textual")
        httpx_version = version("httpx")
    except Exception:  # noqa: BLE001 - informational only
        textual_version = httpx_version = "?"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} (usable {affinity})",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "textual": textual_version,
        "httpx": httpx_version,
    }


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + (" (+uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


# --- isolation ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def isolated_env(extra: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """An environment whose XDG dirs (config/state/cache/data) live in a fresh temp dir, and with no
    IDCONSOLE_* variable or keyring leaking in from the developer's own setup."""
    tmp = Path(tempfile.mkdtemp(prefix="idconsole-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        d = tmp / name.lower()
        d.mkdir(mode=0o700)
        env[f"XDG_{name}_HOME" if name != "RUNTIME" else "XDG_RUNTIME_DIR"] = str(d)
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir()
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # start-up is measured with warm .pyc caches
    env.update(extra or {})
    try:
        yield env
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- the sandbox as a real HTTP server ---------------------------------------------------------------

LISTEN_RE = re.compile(r"idconsole sandbox listening on (http://\S+)")


class Sandbox(SandboxProcess):
    """`idconsole sandbox serve --port 0 ...` in a subprocess on 127.0.0.1 (the package's harness, shared
    with the tests), run from the repository with the benchmark's environment."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        super().__init__(*args, env=env, cwd=REPO, timeout=timeout)


def request_path(entry: dict[str, Any]) -> str:
    for key in ("path", "route", "url"):
        if isinstance(entry.get(key), str):
            return entry[key].split("?", 1)[0]
    return ""


def request_status(entry: dict[str, Any]) -> int | None:
    for key in ("status", "status_code", "code"):
        if isinstance(entry.get(key), int):
            return entry[key]
    return None


def request_method(entry: dict[str, Any]) -> str:
    return str(entry.get("method", "")).upper()


# --- pseudo-terminal runs ----------------------------------------------------------------------------

ANSI_RE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def strip_ansi(data: bytes) -> str:
    return ANSI_RE.sub(b"", data).decode("utf-8", "replace")


@dataclass
class PtyRun:
    ok: bool
    first_output_s: float | None       # first byte from the child (the interpreter + imports are done)
    marker_s: float | None             # the chunk that completed the marker text
    frame_end_s: float | None          # last byte of the burst holding the marker (then `quiet_s` of silence)
    total_bytes: int
    exit_code: int | None
    tail: str = ""
    cpu_s: float | None = None         # the child's user+sys CPU at the end of the frame (10 ms ticks)


class PtySession:
    """A child process on a fresh cols x rows pseudo-terminal (TERM=xterm-256color), read continuously.

    `wait_frame(markers)` returns when every marker has been drawn since the last `mark()` (searched in the
    output with escape sequences stripped) and the output then stayed silent for `quiet_s`: the end of
    that frame's burst (a cursor blink is 0.5 s away). Times are perf_counter() values.
    """

    def __init__(self, argv: Sequence[str], *, env: dict[str, str], cols: int = 120, rows: int = 40,
                 cwd: Path = REPO) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(env, TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(cols), LINES=str(rows))
        env.pop("TEXTUAL", None)  # no devtools
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.buf = bytearray()
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._from = 0
        self.closed = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, timeout: float) -> bool:
        """Read what is there within `timeout`; False on EOF/exit."""
        r, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not r:
            return self.proc.poll() is None
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            return False
        if not data:
            return False
        now = time.perf_counter()
        if self.first_t is None:
            self.first_t = now
        self.last_t = now
        self.buf += data
        return True

    def mark(self) -> None:
        """Only output after this point counts for the next wait."""
        self._from = len(self.buf)

    def write(self, data: bytes) -> float:
        os.write(self.master, data)
        return time.perf_counter()

    def wait_frame(self, markers: Sequence[str], *, quiet_s: float = 0.15,
                   timeout_s: float = 30.0) -> tuple[float | None, float | None]:
        """(time the markers were complete, time of the last byte of that burst), or (None, None)."""
        deadline = time.perf_counter() + timeout_s
        wanted = [m.encode() for m in markers]
        marker_t: float | None = None
        scanned = self._from
        while time.perf_counter() < deadline:
            if marker_t is None:
                if not self._read(0.05):
                    break
                if len(self.buf) > scanned:
                    text = strip_ansi(bytes(self.buf[self._from:])).encode()
                    scanned = len(self.buf)
                    if all(m in text for m in wanted):
                        marker_t = self.last_t
            else:
                remaining = (self.last_t or 0) + quiet_s - time.perf_counter()
                if remaining <= 0:
                    return marker_t, self.last_t
                if not self._read(remaining):
                    return marker_t, self.last_t
        return marker_t, (self.last_t if marker_t is not None else None)

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and self._read(end - time.perf_counter()):
            pass

    def screen_tail(self, n: int = 1500) -> str:
        return strip_ansi(bytes(self.buf[-4000:]))[-n:]

    def close(self, quit_keys: bytes = b"\x11") -> int | None:
        """Type `quit_keys` (ctrl+q), drain until it exits; terminate it after 5 s."""
        if self.closed:
            return self.proc.returncode
        self.closed = True
        with contextlib.suppress(OSError):
            os.write(self.master, quit_keys)
        end = time.perf_counter() + 5
        while self.proc.poll() is None and time.perf_counter() < end:
            if not self._read(0.05):
                break
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        os.close(self.master)
        return self.proc.returncode


def run_in_pty(
    argv: Sequence[str],
    *,
    markers: Sequence[str],
    env: dict[str, str],
    cols: int = 120,
    rows: int = 40,
    quiet_s: float = 0.15,
    timeout_s: float = 30.0,
    cwd: Path = REPO,
) -> PtyRun:
    """Start `argv` on a fresh pty and time its first full frame (see PtySession), then quit it.
    Times are seconds from just before the spawn."""
    session = PtySession(argv, env=env, cols=cols, rows=rows, cwd=cwd)
    try:
        marker_t, end_t = session.wait_frame(markers, quiet_s=quiet_s, timeout_s=timeout_s)
        cpu = process_cpu(session.pid)
        tail = "" if marker_t is not None else session.screen_tail()
    finally:
        code = session.close()
    t0 = session.t0
    return PtyRun(
        ok=marker_t is not None,
        first_output_s=None if session.first_t is None else session.first_t - t0,
        marker_s=None if marker_t is None else marker_t - t0,
        frame_end_s=None if end_t is None else end_t - t0,
        total_bytes=len(session.buf),
        exit_code=code,
        tail=tail,
        cpu_s=cpu,
    )


def process_status_mb(pid: int, field: str = "VmHWM") -> float:
    """A memory figure of a live process from /proc/PID/status (VmHWM: its peak RSS), in MB (10^6 bytes)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


# --- other processes ---------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def quick() -> bool:
    """`run.py --quick`: fewer repetitions."""
    return os.environ.get("IDCONSOLE_BENCH_QUICK") == "1"

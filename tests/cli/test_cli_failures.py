"""Every failure ends in one clear sentence and the contract's exit code, never a traceback (issue 8, point 6).

Each case runs the real `idconsole` entry in a subprocess, under a real fault:
- a read-only state directory: `chmod 0555` for a normal user; as root (who ignores modes) a read-only bind
  mount in a private mount namespace (`unshare -m`), which gives EROFS;
- a full disk, two ways: RLIMIT_FSIZE=0 in the child (every write to a regular file fails with EFBIG, as on a
  disk with no room), and — where a mount namespace is allowed — the state directory on a 256 KiB tmpfs that
  is filled first, which gives the real ENOSPC;
- JSON nested 10,000 deep (a `stage set` value, a staged.json, a CSV value, a profiles file);
- a base URL with an out-of-range port; nonsense `sandbox serve --usermap-rate` values;
- a service that is down or answers only 5xx; stdout on a full disk or closed early.
Asserted for each: the exit code, no "Traceback", one error line on stderr, exactly one JSON document on
stdout under `--json` (`{"error": {"kind", "message"}}` on failure), and — where there is a staged set —
staged.json byte for byte as before and nothing POSTed to the service.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import NO_KEYRING, REPO, amplitude_env, closed_port_url, json_out, run_cli
from sandbox_helpers import SandboxServer

from idconsole.api.errors import Unavailable
from idconsole.headless.errors import run_reporting_errors, translate

DEEP = 10_000
DEEP_JSON = "[" * DEEP + "]" * DEEP
USER, TARGET = "cli-fail-user-0001", "cli-fail-global-0001"
BAD_PORT = "http://127.0.0.1:99999"


def state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "idconsole" / "env"


def _can_use_mount_namespace() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


MOUNT_NS = _can_use_mount_namespace()
READ_ONLY_POSSIBLE = os.name == "posix" and (os.geteuid() != 0 or MOUNT_NS)

# root: a read-only bind mount of the state dir over itself, in a private mount namespace
_RO_PREFIX = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$1" "$1" && shift && exec "$@"', "sh"]
# root: the state dir on a tiny tmpfs (its files copied in), filled to the last block before the command runs
_FULL_PREFIX = ["unshare", "-m", "sh", "-c",
                'set -e; d="$1"; keep="$2"; cp -a "$d/." "$keep/"; mount -t tmpfs -o size=256k tmpfs "$d"; '
                'cp -a "$keep/." "$d/"; cat /dev/zero > "$d/.fill" 2>/dev/null || true; shift 2; exec "$@"', "sh"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict[str, str], fault: str | None = None, keep: Path | None = None,
        timeout: float = 90) -> Run:
    """`python -m idconsole ARGS` like cli_helpers.run_cli (isolated XDG dirs, no keyring, no terminal),
    under `fault`: readonly | fsize0 | enospc | stdout_full | stdout_closed."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    full.update(PYTHON_KEYRING_BACKEND=NO_KEYRING, PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1")
    full.update(env)
    command = [sys.executable, "-m", "idconsole", *args]
    preexec: Callable[[], None] | None = None
    stdout: Any = subprocess.PIPE
    chmodded = False
    if fault == "readonly":
        if os.geteuid() == 0:
            command = [*_RO_PREFIX, str(state_dir()), *command]
        else:
            state_dir().chmod(0o555)
            chmodded = True
    elif fault == "enospc":
        assert keep is not None
        command = [*_FULL_PREFIX, str(state_dir()), str(keep), *command]
    elif fault == "fsize0":
        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    elif fault == "stdout_full":
        stdout = open("/dev/full", "w")  # noqa: SIM115 - closed below
    try:
        proc = subprocess.Popen(command, cwd=REPO, env=full, stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8", preexec_fn=preexec)
        if fault == "stdout_closed":
            assert proc.stdout is not None
            proc.stdout.close()  # the reader went away before the first byte
            err = proc.stderr.read() if proc.stderr else ""
            return Run(proc.wait(timeout), "", err)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"idconsole {' '.join(args)} did not end within {timeout} s")
        return Run(proc.returncode, out or "", err)
    finally:
        if chmodded:
            state_dir().chmod(0o700)
        if fault == "stdout_full":
            stdout.close()


# --- the cases -------------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    fault: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    setup: str = "staged"          # staged | deep_staged | deep_profiles | deep_csv | none
    service: str = "sandbox"       # sandbox | down | failing | none
    says: str = ""                 # a fragment the error line holds
    sent_nothing: bool = True

    @property
    def json(self) -> bool:
        return "--json" in self.args and self.fault not in ("stdout_full", "stdout_closed")


def rate(value: str) -> Case:
    return Case(f"usermap-rate {value}", ("sandbox", "serve", "--port", "0", f"--usermap-rate={value}"), 2,
                setup="none", service="none", says="N/SECONDS")


CASES = [
    # a read-only state directory
    Case("readonly: stage map", ("stage", "map", "cli-fail-user-0002", TARGET), 2, fault="readonly", says="Could not"),
    Case("readonly: stage clear", ("stage", "clear"), 2, fault="readonly", says="Could not"),
    Case("readonly: apply --json", ("apply", "--yes", "--json"), 2, fault="readonly", says="nothing more was sent"),
    # a full disk: RLIMIT_FSIZE=0 (EFBIG) anywhere, a filled tmpfs (ENOSPC) where a mount namespace is allowed
    Case("fsize0: stage map", ("stage", "map", "cli-fail-user-0002", TARGET), 2, fault="fsize0", says="disk is full"),
    Case("fsize0: apply --json", ("apply", "--yes", "--json"), 2, fault="fsize0", says="nothing more was sent"),
    Case("enospc: stage map", ("stage", "map", "cli-fail-user-0002", TARGET), 2, fault="enospc", says="disk is full"),
    Case("enospc: apply --json", ("apply", "--yes", "--json"), 2, fault="enospc", says="disk is full"),
    Case("stdout on a full disk: plan --json", ("plan", "--json"), 2, fault="stdout_full", says="standard output"),
    Case("stdout on a full disk: stage list", ("stage", "list"), 2, fault="stdout_full", says="standard output"),
    Case("stdout closed early: journal --json", ("journal", "--json"), 1, fault="stdout_closed"),
    # JSON nested 10,000 deep
    Case("deep: stage set KEY:=JSON", ("stage", "set", USER, "k:=" + DEEP_JSON), 2, says="nested too deeply"),
    Case("deep: stage set 101 levels", ("stage", "set", USER, "k:=" + "[" * 101 + "]" * 101), 2, says="101 levels"),
    Case("deep: staged.json, plan --json", ("plan", "--json"), 2, setup="deep_staged", says="staged changes file"),
    Case("deep: staged.json, stage list --json", ("stage", "list", "--json"), 2, setup="deep_staged",
         says="staged changes file"),
    Case("deep: a CSV value is text", ("stage", "import", "{csv}"), 0, setup="deep_csv"),
    Case("deep: profiles file, profiles list", ("profiles", "list"), 2, setup="deep_profiles", says="nested too deeply"),
    Case("deep: profiles file, plan --json", ("--profile", "deep", "plan", "--json"), 2, setup="deep_profiles",
         says="nested too deeply"),
    # a base URL with an out-of-range port
    Case("port 99999: plan --json", ("plan", "--json"), 2, env={"IDCONSOLE_BASE_URL": BAD_PORT}, says="port"),
    Case("port 99999: apply --json", ("apply", "--yes", "--json"), 2, env={"IDCONSOLE_BASE_URL": BAD_PORT}, says="port"),
    Case("port 99999: profile --json", ("profile", USER, "--json"), 2, env={"IDCONSOLE_BASE_URL": BAD_PORT}, says="port"),
    Case("port 99999: lookup --json", ("lookup", USER, "--json"), 2, env={"IDCONSOLE_BASE_URL": BAD_PORT}, says="port"),
    Case("port 99999: profiles add", ("profiles", "add", "badport", "--vendor", "amplitude", "--base-url", BAD_PORT), 2,
         says="port"),
    # nonsense --usermap-rate values for `sandbox serve`
    *(rate(v) for v in ("10/inf", "999999999999999999999999/1", "0/1", "-1/5", "abc")),
    # the service is down, or answers only 5xx
    Case("down: apply --json", ("apply", "--yes", "--json"), 4, service="down"),
    Case("5xx: apply --json", ("apply", "--yes", "--json"), 4, service="failing"),
    Case("5xx: plan --json", ("plan", "--json"), 4, service="failing"),
    Case("5xx: profile --json", ("profile", USER, "--json"), 4, service="failing"),
    # the exit-code contract
    Case("unknown id: profile --json", ("profile", "nobody-ever@example.com", "--json"), 5, setup="none",
         says="no user"),
    Case("blocking plan: plan --json", ("plan", "--json"), 2, setup="blocking"),
]


@pytest.fixture(scope="module")
def failing_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer.start("--fail-rate", "1")
    yield server
    server.stop()


# progress and retry notes an apply or a retried read may print before the one error line
_NOTES = ("idconsole: reading ", "idconsole: GET ", "idconsole: POST ", "[")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(_NOTES)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_failure_is_one_sentence_and_the_right_exit_code(case: Case, request, sandbox_clean, tmp_path):
    if case.fault == "readonly" and not READ_ONLY_POSSIBLE:
        pytest.skip("running as root without a mount namespace: a directory cannot be made read-only")
    if case.fault == "enospc" and not MOUNT_NS:
        pytest.skip("a real full disk needs a private mount namespace (root); the fsize0 cases cover it")
    if case.fault == "stdout_full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    base = {"sandbox": sandbox_clean.base_url, "down": closed_port_url(), "none": sandbox_clean.base_url}
    if case.service == "failing":
        base["failing"] = request.getfixturevalue("failing_sandbox").base_url
    env = amplitude_env(sandbox_clean, IDCONSOLE_BASE_URL=base[case.service])
    setup_env = amplitude_env(sandbox_clean)
    args = [a.replace("{csv}", str(tmp_path / "deep.csv")) for a in case.args]
    _setup(case.setup, setup_env, tmp_path, sandbox_clean)
    staged = state_dir() / "staged.json"
    before = staged.read_bytes() if staged.exists() else None
    sandbox_clean.clear_requests()

    result = run(*args, env={**env, **case.env}, fault=case.fault, keep=tmp_path / "keep",
                 timeout=30 if args[0] == "sandbox" else 90)

    assert result.returncode == case.code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result.stderr)
    if case.fault == "stdout_closed":
        assert lines == []  # the reader left: nothing to say
    elif not (case.setup == "blocking" and case.json):
        assert len(lines) == 1, result.stderr  # one sentence, nothing else
        assert case.says in lines[0], lines[0]
    if case.json:
        document = json.loads(result.stdout)  # exactly one document: json.loads refuses anything after it
        if case.setup != "blocking" and case.code != 0:
            assert set(document) == {"error"} and set(document["error"]) == {"kind", "message"}, document
            assert document["error"]["message"] and document["error"]["message"] in result.stderr
    if case.setup == "staged" and case.code != 0:
        assert (staged.read_bytes() if staged.exists() else None) == before  # nothing lost, nothing half-written
    if case.sent_nothing and case.code != 0:
        assert not [r for r in sandbox_clean.requests() if r["method"] == "POST"]


def _setup(kind: str, env: dict[str, str], tmp_path: Path, sandbox: SandboxServer) -> None:
    (tmp_path / "keep").mkdir()
    if kind == "none":
        return
    if kind == "blocking":
        sandbox.seed_users([(TARGET, USER)])
        assert run_cli("stage", "map", USER, TARGET, env=env).returncode == 0  # a cycle: blocking
        return
    if kind == "deep_profiles":
        config = Path(os.environ["XDG_CONFIG_HOME"]) / "idconsole"
        config.mkdir(parents=True, exist_ok=True)
        (config / "profiles.toml").write_text(f'[profiles.deep]\nvendors = ["amplitude"]\nextra = {DEEP_JSON}\n')
        return
    if kind == "deep_csv":
        (tmp_path / "deep.csv").write_text(f"op,user_id,global_user_id,key,value\nset,{USER},,k,{DEEP_JSON}\n")
        return
    assert run_cli("stage", "map", USER, TARGET, env=env).returncode == 0
    if kind == "deep_staged":
        path = state_dir() / "staged.json"
        doc = json.loads(path.read_text())
        text = json.dumps(doc).replace('"changes": [', '"changes": [' + DEEP_JSON + ", ", 1)
        path.write_text(text)


def test_a_deep_csv_value_is_staged_as_the_text_it_is(sandbox_clean, tmp_path):
    env = amplitude_env(sandbox_clean)
    (tmp_path / "deep.csv").write_text(f"op,user_id,global_user_id,key,value\nset,{USER},,k,{DEEP_JSON}\n")
    assert run_cli("stage", "import", str(tmp_path / "deep.csv"), env=env).returncode == 0
    (item,) = json_out(run_cli("stage", "list", "--json", env=env))
    assert item["properties"] == {"k": DEEP_JSON}


# --- the net under the real fixes (in process: a real failing handler through the real reporter) ----

class _Ns:
    command = "apply"
    json = True


def test_an_unexpected_error_is_one_redacted_sentence_and_one_json_document(capsys, monkeypatch):
    monkeypatch.setenv("IDCONSOLE_AMPLITUDE_SECRET_KEY", "hunter2-secret")

    def handler(ns: Any) -> int:
        return {"k": 1}["the key hunter2-secret was not there"]  # a KeyError idconsole has no words for

    assert run_reporting_errors(handler, _Ns()) == 1
    out, err = capsys.readouterr()
    assert "hunter2-secret" not in out + err and "***" in err
    (line,) = err.splitlines()
    assert line.startswith("idconsole: idconsole hit an unexpected error: KeyError: ")
    assert line.endswith("nothing more was sent. Please report it with the command you ran.")
    assert json.loads(out) == {"error": {"kind": "unexpected", "message": line.removeprefix("idconsole: ")}}


def test_recursion_is_bad_input_and_an_exception_group_is_its_own_error():
    assert translate(RecursionError("maximum recursion depth exceeded")).exit_code == 2
    group_type = getattr(builtins, "ExceptionGroup", None)
    if group_type is None:
        pytest.skip("no ExceptionGroup before Python 3.11")
    down = Unavailable("Amplitude is down.")
    assert translate(group_type("in a task group", [OverflowError("x"), down])) is down
    assert translate(group_type("in a task group", [OverflowError("port")])).exit_code == 1


def test_an_unexpected_error_inside_a_workspace_is_scrubbed_of_its_secrets(capsys):
    """run_async translates while the workspace is open: the connection's secrets, raw and in the Basic
    form the client sends, never reach the sentence."""
    import base64

    from idconsole.headless.open_workspace import run_async

    class Ns:
        demo, profile, readonly, command, json = True, None, False, "plan", True

    leaked: list[str] = []

    async def handler(ws: Any, ns: Any) -> int:
        creds = ws.connection.amplitude
        pair = f"{creds.api_key.reveal()}:{creds.secret_key.reveal()}"
        basic = base64.b64encode(pair.encode()).decode()
        leaked.extend([creds.secret_key.reveal(), basic])
        ws.client  # noqa: B018 - the client exists, so its own redactor is used
        raise ValueError(f"server said: Authorization: Basic {basic} for secret {creds.secret_key.reveal()}")

    assert run_reporting_errors(lambda ns: run_async(handler, ns), Ns()) == 1
    out, err = capsys.readouterr()
    assert leaked and not any(secret in out + err for secret in leaked)
    assert "idconsole hit an unexpected error: ValueError: server said: Authorization: Basic ***" in err
    assert json.loads(out)["error"]["kind"] == "unexpected"

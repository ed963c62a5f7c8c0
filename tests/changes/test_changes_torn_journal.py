"""A torn journal line can never lead to a second send, and a journal that cannot be written stops an
apply before it sends anything more.

End to end against the served sandbox with the real CLI in subprocesses. The crash between the server's
acknowledgement and the staged-set rewrite is a real `os._exit` at that moment: a Python audit hook in
the apply's process watches for the rename that rewrites staged.json once the journal holds an `ack`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import NO_KEYRING, REPO, json_out, run_cli, sandbox_env

from idconsole.changes import Journal

USER = "torn-add-user-0001"
TORN = b'{"journal_id":"20240101-000000-dead","type":"end","at":"2024-01-01T00:00:0'

# runs `python -m idconsole ARGS`, dying (as a kill would: no cleanup, no flush) when it is about to
# replace staged.json after the journal has recorded an acknowledgement
CRASH_AFTER_ACK = r"""
import os, runpy, sys
journal = os.environ["CRASH_JOURNAL"]

def hook(event, args):
    if event == "os.rename" and str(args[1]).endswith("staged.json"):
        try:
            with open(journal, "rb") as fh:  # an "open" event, not a rename: no recursion
                acked = b'"type":"ack"' in fh.read()
        except OSError:
            acked = False
        if acked:
            os._exit(137)

sys.addaudithook(hook)
sys.argv = ["idconsole", *sys.argv[1:]]
runpy.run_module("idconsole", run_name="__main__", alter_sys=True)
"""


def state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "idconsole" / "env"


def run_crashing(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    full.update(env, PYTHON_KEYRING_BACKEND=NO_KEYRING, PYTHONIOENCODING="utf-8",
                CRASH_JOURNAL=str(state_dir() / "journal.jsonl"))
    return subprocess.run([sys.executable, "-c", CRASH_AFTER_ACK, *args], cwd=REPO, env=full, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=90)


def clicks(server) -> int:
    user = server.user(USER)
    return 0 if user is None else user["user_properties"].get("clicks", 0)


def identify_requests(server) -> list[dict]:
    return [r for r in server.requests() if r["path"] == "/identify"]


def journal_lines() -> list[bytes]:
    return (state_dir() / "journal.jsonl").read_bytes().splitlines(keepends=True)


def test_a_torn_tail_and_a_crash_after_the_ack_never_send_an_add_twice(sandbox_clean):
    server = sandbox_clean
    env = sandbox_env(server)
    assert run_cli("stage", "set", USER, "clicks=1", "--op", "$add", env=env).returncode == 0
    # an earlier apply was killed while writing its last record
    (state_dir() / "journal.jsonl").write_bytes(TORN)

    crashed = run_crashing("apply", "--yes", "--json", env=env)
    assert crashed.returncode == 137, crashed.stderr
    assert clicks(server) == 1  # the server applied it once and acknowledged it

    # the fragment was moved aside, never joined to the apply's records
    aside = sorted(state_dir().glob("journal.jsonl.torn-*"))
    assert [p.read_bytes() for p in aside] == [TORN]
    lines = journal_lines()
    assert all(line.endswith(b"\n") for line in lines)
    records = [json.loads(line) for line in lines]  # every line is whole
    assert [r["type"] for r in records] == ["torn", "begin", "intent", "ack"]
    assert records[0]["saved_as"] == aside[0].name and records[0]["bytes"] == len(TORN)
    assert records[3]["changes"] == records[2]["changes"]  # the ack names what it acknowledges

    # the crash left the staged set unrewritten: the $add is still in the file, held
    staged = json.loads((state_dir() / "staged.json").read_bytes())["changes"]
    assert [(item["user_id"], item["status"]) for item in staged] == [(USER, "unknown")]

    # the next run knows the server acknowledged it: dropped as done, never sent again
    server.clear_requests()
    again = run_cli("apply", "--yes", "--json", env=env)
    assert identify_requests(server) == []
    assert clicks(server) == 1
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []
    assert again.returncode == 0 and "nothing was sent" in again.stderr, again.stderr


def test_an_ack_is_recognised_when_its_begin_record_is_damaged(sandbox_clean):
    """Even a damaged line in the middle of the journal (a disk error, a bad edit) cannot hide an ack."""
    server = sandbox_clean
    env = sandbox_env(server)
    assert run_cli("stage", "set", USER, "clicks=1", "--op", "$add", env=env).returncode == 0
    crashed = run_crashing("apply", "--yes", "--json", env=env)
    assert crashed.returncode == 137, crashed.stderr
    path = state_dir() / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[0])["type"] == "begin"
    path.write_bytes(lines[0][: len(lines[0]) // 2] + b"\n" + b"".join(lines[1:]))  # the begin is unreadable

    server.clear_requests()
    run_cli("apply", "--yes", "--json", env=env)
    assert identify_requests(server) == []
    assert clicks(server) == 1
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []
    entry = Journal(path).entries()[0]
    assert entry.change_status(entry.change_ids()[0]) == "acked"


def test_a_journal_on_a_full_disk_stops_the_apply_before_anything_is_sent(sandbox_clean):
    server = sandbox_clean
    env = sandbox_env(server)
    assert run_cli("stage", "set", USER, "clicks=1", "--op", "$add", env=env).returncode == 0
    assert run_cli("stage", "map", "full-disk-user-01", "full-disk-global-01", env=env).returncode == 0
    before = (state_dir() / "staged.json").read_bytes()
    (state_dir() / "journal.jsonl").symlink_to("/dev/full")  # every write: ENOSPC

    server.clear_requests()
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "journal.jsonl" in result.stderr and "disk is full" in result.stderr
    assert "nothing more was sent" in result.stderr
    assert json_out(result)["error"]["kind"] == "local_io"
    assert [r for r in server.requests() if r["method"] == "POST"] == []
    assert clicks(server) == 0
    # nothing lost: the staged set is as it was, statuses included
    assert json.loads((state_dir() / "staged.json").read_bytes())["changes"] == json.loads(before)["changes"]


# runs `python -m idconsole ARGS` with a file-size limit (ulimit -f) that falls inside the next journal
# record once the journal holds an acknowledgement: a real short write, then EFBIG
LIMIT_AFTER_ACK = r"""
import os, resource, runpy, signal, sys
journal = os.environ["CRASH_JOURNAL"]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

busy = []

def hook(event, args):
    if event == "open" and not busy and str(args[0]) == journal and os.path.exists(journal):
        busy.append(1)  # the hook's own open() is audited too
        try:
            with open(journal, "rb") as fh:
                data = fh.read()
        finally:
            busy.clear()
        if b'"type":"ack"' in data:
            resource.setrlimit(resource.RLIMIT_FSIZE, (len(data) + 20, resource.RLIM_INFINITY))

sys.addaudithook(hook)
sys.argv = ["idconsole", *sys.argv[1:]]
runpy.run_module("idconsole", run_name="__main__", alter_sys=True)
"""


def test_a_journal_write_that_fails_mid_apply_stops_before_the_next_request(sandbox_clean):
    """The first request is acknowledged and reported, the journal's next write is cut short: nothing
    more is sent, exit 2, no half line is left, and a re-run sends the rest exactly once."""
    server = sandbox_clean
    env = sandbox_env(server)
    users = [f"fsize-user-{i:03d}" for i in range(25)]
    lines = ["op,user_id,global_user_id,key,value"] + [f"add,{u},,clicks,1" for u in users]
    csv = state_dir().parent / "adds.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cli("stage", "import", str(csv), env=env).returncode == 0  # three identify requests of 10
    journal = state_dir() / "journal.jsonl"
    full = {k: v for k, v in os.environ.items() if not k.startswith("IDCONSOLE_")}
    full.update(env, PYTHON_KEYRING_BACKEND=NO_KEYRING, PYTHONIOENCODING="utf-8", CRASH_JOURNAL=str(journal))
    server.clear_requests()
    result = subprocess.run([sys.executable, "-c", LIMIT_AFTER_ACK, "apply", "--yes", "--json"], cwd=REPO,
                            env=full, text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=90)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    report = json_out(result)
    assert report["stopped"] == "local_io" and "journal.jsonl" in report["stop_message"]
    assert report["succeeded"] == 10
    assert len(identify_requests(server)) == 1  # nothing after the failed write
    assert all(line.endswith(b"\n") for line in journal.read_bytes().splitlines(keepends=True))

    rerun = run_cli("apply", "--yes", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr
    values = {u: (server.user(u) or {}).get("user_properties", {}).get("clicks", 0) for u in users}
    assert set(values.values()) == {1}, values


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_state_dir_stops_the_apply_before_anything_is_sent(sandbox_clean):
    server = sandbox_clean
    env = sandbox_env(server)
    assert run_cli("stage", "set", USER, "clicks=1", "--op", "$add", env=env).returncode == 0
    state_dir().chmod(0o500)
    try:
        server.clear_requests()
        result = run_cli("apply", "--yes", "--json", env=env)
    finally:
        state_dir().chmod(0o700)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert [r for r in server.requests() if r["method"] == "POST"] == []
    assert clicks(server) == 0

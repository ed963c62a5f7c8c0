"""The request log (`--log-file`, the `log_file` setting): one line per request the sandbox saw, with its
status, timing, retry number and budget wait; never a secret in any form, never an id unless `--log-ids`,
never a body. Real commands against the sandbox over HTTP, like tests/test_no_secret_leaks.py."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from api_support import api_log, fresh_budgets, make_client  # noqa: F401
from cli_helpers import closed_port_url, json_out, run_cli, sandbox_env
from echo_peer import leaks
from leak_support import SA_USER, SECRETS, WRONG, leak_env

from idconsole.api import debug_log
from idconsole.sandbox.demo import CHAIN, STORY_MP_WEB_ANON, STORY_PHONE_USER, STORY_USER, STORY_WEB_DEVICE

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|POST) (\S+) (/\S*) -> (\d{3}|failed \([^)]*\)) "
    r"(\d+\.\d{3})s retry=(\d+) budget_wait=(\d+\.\d{3})s$"
)
IDS = (*CHAIN, STORY_USER, STORY_PHONE_USER, STORY_WEB_DEVICE, STORY_MP_WEB_ANON)


def tag(value: str) -> str:
    return "id:" + hashlib.sha256(value.encode()).hexdigest()[:6]


def id_forms(value: str) -> set[str]:
    """An id as it may be written: raw, URL-encoded three ways, JSON-escaped (the local part of an email
    alone is too common a word to test, the whole id is what must not be there)."""
    return {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}


def request_lines(path: Path) -> list[re.Match[str]]:
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    matches = [LINE.match(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    return [m for m in matches if m]


def test_log_has_one_line_per_request_and_no_secret_id_or_body(leak_sandbox, tmp_path):
    leak_sandbox.reset()
    leak_sandbox.clear_requests()
    log = tmp_path / "requests.log"
    good = leak_env(leak_sandbox)
    commands = [
        (("lookup", *CHAIN, "--json"), good, 0),
        (("lookup", STORY_WEB_DEVICE, "--by", "search"), good, 0),
        (("profile", STORY_USER, "--recs", "rec-home-feed", "--json"), good, 0),
        (("profile", STORY_MP_WEB_ANON, "--vendor", "mixpanel", "--json"), good, 0),
        (("lookup", STORY_USER), leak_env(leak_sandbox, IDCONSOLE_AMPLITUDE_SECRET_KEY=WRONG), 3),
        (("profile", STORY_USER, "--vendor", "mixpanel"), leak_env(leak_sandbox, IDCONSOLE_MIXPANEL_SA_SECRET=WRONG), 3),
        (("stage", "unmap", STORY_USER), good, 0),
        (("stage", "map", STORY_PHONE_USER, STORY_USER), good, 0),
        (("stage", "set", STORY_USER, "plan=pro"), good, 0),
        (("apply", "--yes", "--json"), good, 0),
    ]
    for args, env, expected in commands:
        result = run_cli(*args, "--log-file", str(log), env=env)
        assert result.returncode == expected, (args, result.stdout, result.stderr)

    assert log.stat().st_mode & 0o077 == 0   # owner-only
    lines = request_lines(log)
    assert len(lines) == len(api_log(leak_sandbox)) >= len(commands)
    statuses = {m.group(4) for m in lines}
    assert {"200", "401"} <= statuses or {"200", "403"} <= statuses, statuses
    assert {m.group(1) for m in lines} == {"GET", "POST"}
    text = log.read_text("utf-8")

    pairs = [(SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"], SECRETS["IDCONSOLE_AMPLITUDE_SECRET_KEY"]),
             (SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"], WRONG), (SA_USER, SECRETS["IDCONSOLE_MIXPANEL_SA_SECRET"]),
             (SA_USER, WRONG), (SECRETS["IDCONSOLE_MIXPANEL_API_SECRET"], "")]
    assert not leaks(text, [*SECRETS.values(), WRONG], pairs)
    assert "SECRETVALUE" not in text
    for value in IDS:
        for form in id_forms(value):
            assert form not in text, f"the id {value!r} is in the log as {form!r}"
    for value in (*CHAIN, STORY_USER):   # ...but the same id is the same tag, line after line
        assert tag(value) in text
    for word in ("global_user_id", "user_properties", "mapping", "plan=pro", "$set", "%24set", "distinct_id="):
        assert word not in text, f"a body ({word!r}) reached the log"


def test_log_ids_keeps_the_ids_and_still_no_secret(leak_sandbox, tmp_path):
    leak_sandbox.reset()
    log = tmp_path / "with-ids.log"
    result = run_cli("lookup", *CHAIN, "--log-file", str(log), "--log-ids", env=leak_env(leak_sandbox))
    assert result.returncode == 0, result.stderr
    text = log.read_text("utf-8")
    assert "ids kept as sent" in text.splitlines()[0]
    assert all(value in text for value in CHAIN)
    assert tag(CHAIN[0]) not in text
    assert not leaks(text, list(SECRETS.values()), [])


def test_retries_and_failures_each_get_a_line(sandbox_clean, tmp_path):
    sandbox_clean.fault(path="/api/2/usermap", status=503)   # once: the retry gets the answer
    log = tmp_path / "retry.log"
    result = run_cli("lookup", STORY_USER, "--json", "--log-file", str(log), env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    outcomes = [(m.group(3).split("?")[0], m.group(4), m.group(6)) for m in request_lines(log)]
    # a user search may go out beside the mapping lookup (one round trip): only the usermap lines matter here
    usermap = [o for o in outcomes if o[0] == "/api/2/usermap"]
    assert usermap[:2] == [("/api/2/usermap", "503", "0"), ("/api/2/usermap", "200", "1")]

    down = tmp_path / "down.log"
    result = run_cli("lookup", STORY_USER, "--log-file", str(down), env=sandbox_env(sandbox_clean,
                     IDCONSOLE_BASE_URL=closed_port_url()))
    assert result.returncode == 4, result.stderr
    failed = request_lines(down)
    for path in {m.group(3).split("?")[0] for m in failed}:  # each request's retries, numbered in turn
        tries = [m.group(6) for m in failed if m.group(3).split("?")[0] == path]
        assert tries == [str(n) for n in range(len(tries))] and len(tries) > 1, path
    assert all(m.group(4) == "failed (connection failed)" for m in failed)


async def test_a_budget_wait_is_logged(sandbox_clean, tmp_path):
    """Two searches on a budget of one per 0.3 s: the second line says how long it waited."""
    log = tmp_path / "budget.log"
    debug_log.start(log)
    try:
        async with make_client(sandbox_clean, limits={"usersearch": (1, 0.3)}) as client:
            await client.amplitude.search(STORY_USER)
            await client.amplitude.search(STORY_PHONE_USER)
    finally:
        debug_log.stop()
    waits = [float(m.group(7)) for m in request_lines(log)]
    assert len(waits) == 2 and waits[0] < 0.1 and 0.1 < waits[1] < 5, waits


def test_log_setting_writes_the_log_and_the_flag_wins(sandbox_clean, tmp_path, isolated_dirs):
    from_setting, from_flag = tmp_path / "setting.log", tmp_path / "flag.log"
    config = Path(isolated_dirs["XDG_CONFIG_HOME"]) / "idconsole" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"log_file = {json.dumps(str(from_setting))}\n")
    assert run_cli("lookup", STORY_USER, env=sandbox_env(sandbox_clean)).returncode == 0
    written = len(request_lines(from_setting))
    assert written >= 1
    assert run_cli("lookup", STORY_USER, "--log-file", str(from_flag), env=sandbox_env(sandbox_clean)).returncode == 0
    assert len(request_lines(from_flag)) == written
    assert len(request_lines(from_setting)) == written   # the flag's file instead, not both


@pytest.mark.parametrize("json_flag", [False, True])
def test_a_log_that_cannot_be_written_is_one_sentence_and_exit_2(tmp_path, json_flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = ["stage", "list", "--demo", "--log-file", str(blocker / "requests.log")] + (["--json"] if json_flag else [])
    result = run_cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert str(blocker) in result.stderr and "not a directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if json_flag:
        assert json_out(result)["error"]["kind"] == "local_io"


def test_ids_in_paths_and_json_lists_are_tagged(tmp_path):
    """Paths the client does not send today (an id as a path segment) and a JSON list of ids, through
    `record` itself: plain words and versions stay, anything else is tagged."""
    from idconsole.api.redact import Redactor
    from idconsole.api.transport import Call

    log = tmp_path / "units.log"
    debug_log.start(log)
    try:
        call = Call("GET", "http://h.example:8080/api/2.0/users/ana@x.io/profile?limit=5", "/api/2.0/users",
                    service="s", credential="c", params=[("distinct_ids", json.dumps(["ana@x.io", "b\nc"])),
                                                          ("token", "t-SECRETVALUE9")])
        debug_log.record(call, Redactor(["t-SECRETVALUE9"]), attempt=2, status=None, failure="read timeout",
                         seconds=0.5, budget_wait=0.0)
    finally:
        debug_log.stop()
    (line,) = request_lines(log)
    assert line.group(2) == "h.example:8080"
    assert line.group(3) == (f"/api/2.0/users/{tag('ana@x.io')}/profile?limit=5"
                             f"&distinct_ids=[{tag('ana@x.io')},{tag('b' + chr(10) + 'c')}]&token={tag('t-SECRETVALUE9')}")
    assert line.group(4) == "failed (read timeout)" and line.group(6) == "1"

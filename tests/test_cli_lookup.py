"""`idconsole lookup` end to end: a subprocess against the sandbox server (IDCONSOLE_* env, no keyring),
and in-process with --demo."""

from __future__ import annotations

import json

import pytest
from cli_helpers import amplitude_env, closed_port_url, json_out, run_cli, sandbox_env

from idconsole.cli import main
from idconsole.sandbox.demo import (
    CHAIN,
    CONTROL_CHAR_ID,
    CYCLE,
    STORY_PHONE_USER,
    STORY_USER,
    STORY_WEB_DEVICE,
)


def _ids(entries: list[dict]) -> list[str]:
    return [e["user_id"] for e in entries]


def test_lookup_json_chain_and_cycle(sandbox_clean):
    result = run_cli("lookup", *CHAIN, *CYCLE, "--json", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert list(doc) == [*CHAIN, *CYCLE]
    a, b, c = CHAIN
    assert _ids(doc[a]["mapped_to"]) == [b] and doc[a]["mapped_from"] == []
    assert _ids(doc[b]["mapped_to"]) == [c] and _ids(doc[b]["mapped_from"]) == [a]
    assert doc[c]["mapped_to"] == [] and _ids(doc[c]["mapped_from"]) == [b]
    x, y = CYCLE
    assert _ids(doc[x]["mapped_to"]) == [y] and _ids(doc[x]["mapped_from"]) == [y]
    assert _ids(doc[y]["mapped_to"]) == [x] and _ids(doc[y]["mapped_from"]) == [x]
    for entry in doc.values():
        assert set(entry) == {"mapped_to", "mapped_from"}
        for end in entry["mapped_to"] + entry["mapped_from"]:
            assert set(end) == {"user_id", "amplitude_id"}
            assert isinstance(end["amplitude_id"], int)


def test_lookup_unknown_user_has_empty_lists(sandbox_clean):
    result = run_cli("lookup", "nobody-ever@example.com", STORY_USER, "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert doc["nobody-ever@example.com"] == {"mapped_to": [], "mapped_from": []}
    assert _ids(doc[STORY_USER]["mapped_to"]) == [STORY_PHONE_USER]


def test_lookup_by_search_resolves_devices_and_reports_misses(sandbox_clean):
    result = run_cli("lookup", STORY_WEB_DEVICE, "no-such-device-000", "--by", "search", "--json",
                     env=amplitude_env(sandbox_clean))
    assert result.returncode == 1, result.stderr  # one id did not resolve; the rest is still printed
    doc = json_out(result)
    assert list(doc) == [STORY_USER]
    assert _ids(doc[STORY_USER]["mapped_to"]) == [STORY_PHONE_USER]
    assert "no-such-device-000" in result.stderr
    assert "budget" in result.stderr.lower()


def test_lookup_by_device_human_output(sandbox_clean):
    result = run_cli("lookup", STORY_WEB_DEVICE, "--by", "device", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert f"{STORY_WEB_DEVICE} → {STORY_USER}" in result.stdout
    assert "mapped to:" in result.stdout and STORY_PHONE_USER in result.stdout


def test_lookup_by_amplitude_needs_numbers(sandbox_clean):
    result = run_cli("lookup", "abc", "--by", "amplitude", env=amplitude_env(sandbox_clean))
    assert result.returncode == 2
    assert "number" in result.stderr
    assert sandbox_clean.requests() == []


def test_lookup_human_output_makes_control_characters_visible(capsys):
    # in-process: argv cannot carry the NUL of this demo id
    code = main(["lookup", CONTROL_CHAR_ID, *CHAIN[:2], "--demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out and "\r" not in out
    assert "ansi-\\x1b[31mRED\\x1b[0m-\\x07bell\\x0d\\x0aline2\\x09tab\\x00nul" in out
    assert f"{CHAIN[0]}\n  mapped to:" in out


def test_lookup_json_is_ascii_and_round_trips_hostile_ids(capsys):
    code = main(["lookup", CONTROL_CHAR_ID, "--json", "--demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.isascii() and "\x1b" not in out
    assert list(json.loads(out)) == [CONTROL_CHAR_ID]


def test_lookup_wrong_secret_key_exits_3_naming_the_credential_not_its_value(sandbox_clean):
    env = amplitude_env(sandbox_clean, IDCONSOLE_AMPLITUDE_SECRET_KEY="wrong-SECRET-xyz")
    result = run_cli("lookup", STORY_USER, "--json", env=env)
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert "secret key" in result.stderr.lower() or "api key" in result.stderr.lower()
    assert "wrong-SECRET-xyz" not in result.stderr


def test_lookup_unreachable_service_exits_4():
    env = {"IDCONSOLE_BASE_URL": closed_port_url(), "IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s"}
    result = run_cli("lookup", STORY_USER, "--json", env=env)
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""
    assert all(line.startswith("idconsole: ") for line in result.stderr.splitlines()), result.stderr
    assert "unreachable" in result.stderr


def test_lookup_without_any_connection_exits_2():
    result = run_cli("lookup", STORY_USER)
    assert result.returncode == 2
    assert "--demo" in result.stderr and "profiles add" in result.stderr


def test_lookup_needs_amplitude(sandbox_clean):
    env = {k: v for k, v in sandbox_env(sandbox_clean).items() if "AMPLITUDE" not in k}
    result = run_cli("lookup", STORY_USER, env=env)
    assert result.returncode == 2
    assert "Amplitude" in result.stderr


def test_lookup_empty_id_is_bad_input():
    assert run_cli("lookup", "", "--demo").returncode == 2


# --- in-process, --demo ---------------------------------------------------------------------------


def test_demo_lookup_in_process(capsys):
    code = main(["lookup", *CHAIN, "--json", "--demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert _ids(doc[CHAIN[1]]["mapped_to"]) == [CHAIN[2]]
    assert _ids(doc[CHAIN[1]]["mapped_from"]) == [CHAIN[0]]


@pytest.mark.parametrize("by", ["search", "device"])
def test_demo_lookup_by_search_in_process(capsys, by):
    code = main(["lookup", STORY_WEB_DEVICE, "--by", by, "--json", "--demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert list(json.loads(out)) == [STORY_USER]


def test_demo_and_profile_together_is_bad_input(capsys):
    assert main(["lookup", STORY_USER, "--demo", "--profile", "acme"]) == 2
    assert "--demo" in capsys.readouterr().err

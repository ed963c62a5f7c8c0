"""`idconsole lookup` end to end: a subprocess against the sandbox server (IDCONSOLE_* env, no keyring),
and in-process with --demo. Every id is resolved the way the console's Lookup screen does it
(idconsole.identity.lookup): the JSON adds `resolved`, `chain` and `cycle`; an unknown id exits 5."""

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
    assert [doc[u]["chain"] for u in CHAIN] == [list(CHAIN), list(CHAIN[1:]), [c]]
    assert doc[x]["chain"] == [x, y] and doc[y]["chain"] == [y, x]
    assert [doc[u]["cycle"] for u in (*CHAIN, *CYCLE)] == [False, False, False, True, True]
    for user_id, entry in doc.items():
        assert set(entry) == {"mapped_to", "mapped_from", "resolved", "chain", "cycle"}
        assert entry["resolved"]["user_id"] == user_id and entry["resolved"]["by"] == "user"
        assert isinstance(entry["resolved"]["amplitude_id"], int)
        for end in entry["mapped_to"] + entry["mapped_from"]:
            assert set(end) == {"user_id", "amplitude_id"}
            assert isinstance(end["amplitude_id"], int)


def test_lookup_unknown_user_exits_5_and_still_prints_every_id(sandbox_clean):
    result = run_cli("lookup", "nobody-ever@example.com", STORY_USER, "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 5, result.stderr
    doc = json_out(result)
    assert doc["nobody-ever@example.com"] == {"mapped_to": [], "mapped_from": [], "resolved": None, "chain": [],
                                              "cycle": False}
    assert _ids(doc[STORY_USER]["mapped_to"]) == [STORY_PHONE_USER]
    assert doc[STORY_USER]["chain"] == [STORY_USER, STORY_PHONE_USER]
    assert "nobody-ever@example.com: unknown to Amplitude" in result.stderr
    assert "1 of 2 ids are unknown" in result.stderr


def test_lookup_one_unknown_id_human_output_exits_5(sandbox_clean):
    result = run_cli("lookup", "nobody-ever@example.com", env=amplitude_env(sandbox_clean))
    assert result.returncode == 5, result.stderr
    assert result.stdout.splitlines() == ["nobody-ever@example.com",
                                          "  resolved:    (unknown: no mappings, no user search match)"]
    assert "unknown to Amplitude" in result.stderr


def test_lookup_by_search_resolves_devices_and_reports_misses(sandbox_clean):
    result = run_cli("lookup", STORY_WEB_DEVICE, "no-such-device-000", "--by", "search", "--json",
                     env=amplitude_env(sandbox_clean))
    assert result.returncode == 5, result.stderr  # one id is unknown; the rest is still printed
    doc = json_out(result)
    assert list(doc) == [STORY_WEB_DEVICE, "no-such-device-000"]
    assert doc[STORY_WEB_DEVICE]["resolved"]["user_id"] == STORY_USER
    assert doc[STORY_WEB_DEVICE]["resolved"]["by"] == "device"
    assert _ids(doc[STORY_WEB_DEVICE]["mapped_to"]) == [STORY_PHONE_USER]
    assert doc["no-such-device-000"]["resolved"] is None
    assert "no-such-device-000" in result.stderr
    assert "budget" in result.stderr.lower()
    # forced search: the ids are never asked as user ids first
    assert [e["path"] for e in sandbox_clean.requests()].count("/api/2/usersearch") == 2


def test_lookup_by_device_human_output(sandbox_clean):
    result = run_cli("lookup", STORY_WEB_DEVICE, "--by", "device", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert f"device id of user {STORY_USER}" in result.stdout
    assert f"chain:       {STORY_USER} → {STORY_PHONE_USER}" in result.stdout
    assert "mapped to:" in result.stdout and STORY_PHONE_USER in result.stdout


def test_lookup_resolves_device_and_amplitude_ids_without_being_told(sandbox_clean):
    hank = sandbox_clean.user(STORY_USER)["amplitude_id"]
    result = run_cli("lookup", STORY_WEB_DEVICE, str(hank), "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert doc[STORY_WEB_DEVICE]["resolved"] == {"user_id": STORY_USER, "amplitude_id": hank, "by": "device"}
    assert doc[str(hank)]["resolved"] == {"user_id": STORY_USER, "amplitude_id": hank, "by": "amplitude"}
    assert doc[str(hank)]["chain"] == [STORY_USER, STORY_PHONE_USER]


def test_lookup_human_output_shows_the_resolution_and_the_whole_chain(sandbox_clean):
    result = run_cli("lookup", CHAIN[0], CYCLE[0], env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"chain:       {' → '.join(CHAIN)}  (a chain: Amplitude resolves nothing transitively)" in out
    assert f"chain:       {CYCLE[0]} → {CYCLE[1]} → {CYCLE[0]} ↻  (a cycle" in out
    assert f"{CHAIN[0]}\n  resolved:    user id (amplitude id " in out
    # the mapping lookup said enough: no search was spent
    assert "/api/2/usersearch" not in [e["path"] for e in sandbox_clean.requests()]


def test_lookup_searches_only_ids_without_mappings_in_one_mapping_batch(sandbox_clean):
    result = run_cli("lookup", *CHAIN, STORY_WEB_DEVICE, "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    paths = [e["path"] for e in sandbox_clean.requests()]
    assert paths.count("/api/2/usersearch") == 1
    # one batch for the four ids, then only what no answer held yet (the device's user, its chain step)
    assert paths.count("/api/2/usermap") == 3


def test_lookup_by_user_never_searches_and_takes_the_id_as_it_is(sandbox_clean):
    result = run_cli("lookup", "nobody-ever@example.com", "--by", "user", "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert doc["nobody-ever@example.com"]["resolved"] == {"user_id": "nobody-ever@example.com",
                                                          "amplitude_id": None, "by": "user"}
    assert "/api/2/usersearch" not in [e["path"] for e in sandbox_clean.requests()]


def test_lookup_several_matches_are_listed(sandbox_clean):
    sandbox_clean.seed_users(users=[
        {"user_id": "twin-one-1", "user_properties": {"email": "twins@example.com"}},
        {"user_id": "twin-two-2", "user_properties": {"email": "twins@example.com"}},
    ])
    result = run_cli("lookup", "twins@example.com", "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    entry = json_out(result)["twins@example.com"]
    assert entry["resolved"] is None and _ids(entry["matches"]) == ["twin-one-1", "twin-two-2"]
    assert "2 users match it" in result.stderr
    human = run_cli("lookup", "twins@example.com", env=amplitude_env(sandbox_clean))
    assert "several users match" in human.stdout and "twin-two-2" in human.stdout


def test_lookup_anonymous_device_is_known(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": None, "device_ids": ["anon-device-5521"]}])
    result = run_cli("lookup", "anon-device-5521", "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    resolved = json_out(result)["anon-device-5521"]["resolved"]
    assert resolved["user_id"] is None and isinstance(resolved["amplitude_id"], int)
    assert "anonymous user" in result.stderr


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
    assert f"{CHAIN[0]}\n  resolved:    user id" in out
    assert "\n  resolved:    user id (amplitude id " in out.split(CHAIN[0])[0]  # the control-char id too


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
    assert json_out(result)["error"]["kind"] == "auth"  # --json: one document, on failure too (DESIGN.md)
    assert "secret key" in result.stderr.lower() or "api key" in result.stderr.lower()
    assert "wrong-SECRET-xyz" not in result.stderr and "wrong-SECRET-xyz" not in result.stdout


def test_lookup_unreachable_service_exits_4():
    env = {"IDCONSOLE_BASE_URL": closed_port_url(), "IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s"}
    result = run_cli("lookup", STORY_USER, "--json", env=env)
    assert result.returncode == 4, result.stderr
    assert json_out(result)["error"]["kind"] in ("unavailable", "throttled")
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


@pytest.mark.parametrize("by", ["search", "device", None])
def test_demo_lookup_by_search_in_process(capsys, by):
    code = main(["lookup", STORY_WEB_DEVICE, *(["--by", by] if by else []), "--json", "--demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == [STORY_WEB_DEVICE]
    assert doc[STORY_WEB_DEVICE]["resolved"]["user_id"] == STORY_USER


def test_demo_unknown_id_in_process_exits_5_with_the_document(capsys):
    code = main(["lookup", "nobody-at-all-42", "--json", "--demo"])
    out, err = capsys.readouterr()
    assert code == 5
    assert json.loads(out) == {"nobody-at-all-42": {"mapped_to": [], "mapped_from": [], "resolved": None,
                                                    "chain": [], "cycle": False}}
    assert "unknown to Amplitude" in err


def test_demo_and_profile_together_is_bad_input(capsys):
    assert main(["lookup", STORY_USER, "--demo", "--profile", "acme"]) == 2
    assert "--demo" in capsys.readouterr().err

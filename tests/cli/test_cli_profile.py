"""`idconsole profile` end to end for both vendors: JSON shapes, EU, unknown users, hostile values."""

from __future__ import annotations

import json

from cli_helpers import amplitude_env, json_out, run_cli, sandbox_env

from idconsole.cli import main
from idconsole.sandbox.demo import (
    MP_HOSTILE_ID,
    REC_IDS,
    STORY_MP_WEB_ANON,
    STORY_USER,
    STORY_WEB_DEVICE,
)

AMPLITUDE_KEYS = {"user_id", "device_id", "amplitude_id", "user_properties", "computed_properties",
                  "cohort_ids", "recommendations", "propensities"}  # fmt: skip
REC_KEYS = {"rec_id", "items", "is_control", "source", "title"}


def test_amplitude_profile_json(sandbox_clean):
    result = run_cli("profile", STORY_USER, "--recs", f"{REC_IDS[0]}, ", "--json", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert set(doc) == AMPLITUDE_KEYS
    assert doc["user_id"] == STORY_USER
    assert doc["user_properties"]["email"] == STORY_USER
    assert doc["computed_properties"]
    assert "x7kq2p1" in doc["cohort_ids"]
    assert [r["rec_id"] for r in doc["recommendations"]] == [REC_IDS[0]]
    assert set(doc["recommendations"][0]) == REC_KEYS
    assert len(doc["recommendations"][0]["items"]) == 8


def test_amplitude_profile_by_device(sandbox_clean):
    result = run_cli("profile", STORY_WEB_DEVICE, "--device", "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert json_out(result)["user_id"] == STORY_USER


def test_amplitude_profile_human(sandbox_clean):
    result = run_cli("profile", STORY_USER, env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert f"user id: {STORY_USER}" in result.stdout
    assert "user properties:" in result.stdout and '"Hank Scorpio"' in result.stdout


def test_mixpanel_profile_json_gives_the_canonical_id(sandbox_clean):
    result = run_cli("profile", STORY_MP_WEB_ANON, "--vendor", "mixpanel", "--json", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert set(doc) == {"distinct_id", "properties"}
    assert doc["distinct_id"] == STORY_USER
    assert doc["properties"]["$email"] == STORY_USER


def test_vendor_defaults_to_mixpanel_without_amplitude(sandbox_clean):
    env = {k: v for k, v in sandbox_env(sandbox_clean).items() if "AMPLITUDE" not in k}
    result = run_cli("profile", STORY_USER, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert set(json_out(result)) == {"distinct_id", "properties"}


def test_mixpanel_hostile_values_are_visible_not_executed(sandbox_clean):
    result = run_cli("profile", MP_HOSTILE_ID, "--vendor", "mixpanel", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\u200b" not in result.stdout
    assert "\\x1b[2J" in result.stdout
    assert "[bold red]admin[/]" in result.stdout  # markup is shown literally


def test_eu_amplitude_profile_is_not_offered(sandbox_clean):
    sandbox_clean.clear_requests()
    result = run_cli("profile", STORY_USER, "--json", env=amplitude_env(sandbox_clean, IDCONSOLE_REGION="eu"))
    assert result.returncode == 2, result.stderr
    assert json_out(result)["error"]["kind"] == "not_offered"  # --json: one document, on failure too
    assert "EU" in result.stderr
    assert not [r for r in sandbox_clean.requests() if "userprofile" in r["path"]]


def test_unknown_user_is_exit_5_with_one_error_document(sandbox_clean):
    # the contract: an id the vendor does not know is exit 5, and --json still prints one document
    result = run_cli("profile", "nobody-ever@example.com", "--json", env=amplitude_env(sandbox_clean))
    assert result.returncode == 5
    error = json_out(result)["error"]
    assert error["kind"] == "not_found" and "nobody-ever@example.com" in error["message"]
    assert "nobody-ever@example.com" in result.stderr and "no user" in result.stderr
    result = run_cli("profile", "nobody-ever@example.com", "--vendor", "mixpanel", env=sandbox_env(sandbox_clean))
    assert result.returncode == 5
    assert "Mixpanel has no user" in result.stderr and result.stdout == ""


def test_vendor_without_credentials_is_bad_input(sandbox_clean):
    result = run_cli("profile", STORY_USER, "--vendor", "mixpanel", env=amplitude_env(sandbox_clean))
    assert result.returncode == 2
    assert "Mixpanel" in result.stderr


def test_device_flag_is_amplitude_only():
    assert run_cli("profile", STORY_USER, "--vendor", "mixpanel", "--device", "--demo").returncode == 2


def test_wrong_profile_key_exits_3(sandbox_clean):
    env = amplitude_env(sandbox_clean, IDCONSOLE_AMPLITUDE_SECRET_KEY="nope-WRONG-123")
    result = run_cli("profile", STORY_USER, env=env)
    assert result.returncode == 3
    assert "nope-WRONG-123" not in result.stderr + result.stdout


def test_demo_profiles_in_process(capsys):
    assert main(["profile", STORY_USER, "--json", "--demo"]) == 0
    assert json.loads(capsys.readouterr().out)["user_id"] == STORY_USER
    assert main(["profile", STORY_MP_WEB_ANON, "--vendor", "mixpanel", "--json", "--demo"]) == 0
    assert json.loads(capsys.readouterr().out)["distinct_id"] == STORY_USER

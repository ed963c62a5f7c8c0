"""`idconsole lookup ID --vendor mixpanel` through the real CLI against the served sandbox: the canonical id,
the properties and the distinct ids OBSERVED in the cluster's events, for ids Amplitude has never seen; the
Query API's cost said first; exit 5 for an unknown id; a project without the stream query still answers."""

from __future__ import annotations

from typing import Any

from cli_helpers import amplitude_env, json_out, run_cli, sandbox_env

from idconsole.sandbox import demo

STREAM = "/api/query/stream/query"


def test_the_phones_anonymous_cluster_amplitude_never_saw(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    amplitude = run_cli("lookup", demo.STORY_MP_PHONE_ANON, "--json", env=env)
    assert amplitude.returncode == 5            # Amplitude has never seen the `$device:` id
    result = run_cli("lookup", demo.STORY_MP_PHONE_ANON, "--vendor", "mixpanel", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json_out(result)[demo.STORY_MP_PHONE_ANON]
    assert doc["canonical_id"] == demo.STORY_MP_PHONE_ANON and doc["known"] is True
    assert doc["observed_ids"] == [demo.STORY_MP_PHONE_ANON]
    assert doc["observed_device_ids"] == [demo.STORY_PHONE_DEVICE] and doc["events"] > 10
    assert isinstance(doc["properties"], dict) and "observed in the cluster's events" in doc["observed"]
    assert "costs 2 requests of the Query API budget (60 per hour" in result.stderr


def test_a_web_anon_id_resolves_to_its_identified_cluster_and_the_text_says_observed(sandbox_clean: Any):
    result = run_cli("lookup", demo.STORY_MP_WEB_ANON, "--vendor", "mixpanel", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == demo.STORY_MP_WEB_ANON
    assert f"  distinct id: {demo.STORY_USER}" in lines
    observed = next(line for line in lines if line.startswith("  observed ids: "))
    assert demo.STORY_USER in observed and demo.STORY_MP_WEB_ANON in observed and "there may be more" in observed


def test_unknown_ids_exit_5_and_bad_combinations_exit_2(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    result = run_cli("lookup", demo.STORY_USER, "nobody-0000@example.com", "--vendor", "mixpanel", "--json", env=env)
    assert result.returncode == 5
    doc = json_out(result)
    assert doc[demo.STORY_USER]["known"] and doc["nobody-0000@example.com"]["canonical_id"] is None
    by = run_cli("lookup", demo.STORY_USER, "--vendor", "mixpanel", "--by", "user", "--json", env=env)
    assert by.returncode == 2 and "Amplitude lookups only" in json_out(by)["error"]["message"]
    no_mixpanel = run_cli("lookup", demo.STORY_USER, "--vendor", "mixpanel", env=amplitude_env(sandbox_clean))
    assert no_mixpanel.returncode == 2 and "no Mixpanel credentials" in no_mixpanel.stderr


def test_without_the_stream_query_the_profile_still_answers(sandbox_clean: Any):
    sandbox_clean.fault(path=STREAM, status=404, times=5)
    result = run_cli("lookup", demo.STORY_USER, "--vendor", "mixpanel", "--json", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)[demo.STORY_USER]
    assert doc["canonical_id"] == demo.STORY_USER and doc["observed_ids"] == []
    assert "not offered by this project" in doc["activity_note"] and "not offered" in result.stderr

"""`idconsole activity` through the real CLI (a subprocess) against the served sandbox: the JSON shape of
DESIGN.md, the cost said before anything is read, the budget refusal (exit 2) and `--limit`, unknown ids
(exit 5, one error document), hostile strings shown literally, and the Mixpanel face."""

from __future__ import annotations

import json
from typing import Any

from cli_helpers import json_out, run_cli, sandbox_env

from idconsole.sandbox import demo

ACTIVITY = "/api/2/useractivity"
ID_KEYS = {"user_id", "amplitude_id", "first_seen", "last_seen", "events", "sessions", "device_ids"}
EVENT_KEYS = {"time", "event_type", "user_id", "device_id", "amplitude_id", "session_id", "platform"}


def activity_requests(sb: Any) -> list[dict[str, Any]]:
    return [r for r in sb.requests() if r["path"] == ACTIVITY]


def test_the_story_tree_merged_newest_first(sandbox_clean: Any):
    result = run_cli("activity", demo.STORY_USER, "--all-ids", "--json", env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert [i["user_id"] for i in doc["ids"]] == [demo.STORY_USER, demo.STORY_PHONE_USER]
    assert all(ID_KEYS <= set(i) for i in doc["ids"]) and doc["truncated"] is False
    events = doc["events"]
    assert events and all(set(e) == EVENT_KEYS for e in events)
    assert [e["time"] for e in events] == sorted((e["time"] for e in events), reverse=True)
    assert len(events) == doc["ids"][1]["events"]          # hank's events, in both streams, once
    phone = [e for e in events if e["device_id"] == demo.STORY_PHONE_DEVICE]
    assert {e["user_id"] for e in phone} == {None, demo.STORY_PHONE_USER} and {e["platform"] for e in phone} == {"iOS"}
    (login,) = [m for m in doc["markers"] if m["kind"] == "device_new_user"]
    assert login["user_id"] == demo.STORY_PHONE_USER and login["previous_user_ids"] == [None]
    assert "costs up to 2 requests of the user search and activity budget" in result.stderr
    assert len(activity_requests(sandbox_clean)) == 2
    # without --all-ids: the user's own stream only
    own = json_out(run_cli("activity", demo.STORY_USER, "--json", env=sandbox_env(sandbox_clean)))
    assert [i["user_id"] for i in own["ids"]] == [demo.STORY_USER]
    assert {e["user_id"] for e in own["events"]} == {demo.STORY_USER}


def test_human_output_and_limit(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    result = run_cli("activity", demo.STORY_PHONE_USER, "--limit", "5", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{demo.STORY_PHONE_USER} (amplitude id ")
    rows = [line for line in lines if line[:4] == "2024"]
    assert len(rows) == 5 and "showing 5 of the events read" in result.stderr
    doc = json_out(run_cli("activity", demo.STORY_PHONE_USER, "--limit", "5", "--json", env=env))
    assert len(doc["events"]) == 5 and doc["truncated"] is True
    bad = run_cli("activity", demo.STORY_USER, "--limit", "0", "--json", env=env)
    assert bad.returncode == 2 and json_out(bad)["error"]["kind"] == "bad_input"
    assert "Traceback" not in bad.stderr


def test_unknown_ids_exit_5_with_one_error_document(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    result = run_cli("activity", "nobody-0000@example.com", "--json", env=env)
    assert result.returncode == 5
    assert json_out(result) == {"error": {"kind": "not_found", "message":
                                          "Amplitude does not know nobody-0000@example.com (no mappings, no user "
                                          "search match)."}}
    empty = run_cli("activity", "", env=env)
    assert empty.returncode == 2 and "empty id" in empty.stderr
    mixpanel = run_cli("activity", "nobody-0000@example.com", "--vendor", "mixpanel", "--json", env=env)
    assert mixpanel.returncode == 5 and json_out(mixpanel)["error"]["kind"] == "not_found"


def test_a_tree_bigger_than_the_budget_is_refused_unless_limit_bounds_it(sandbox_clean: Any):
    parent = "big-family-parent@example.com"
    children = [f"family-{n:04d}@example.com" for n in range(400)]
    sandbox_clean.seed_users(mappings=[(c, parent) for c in children])
    env = sandbox_env(sandbox_clean)
    sandbox_clean.clear_requests()
    refused = run_cli("activity", parent, "--all-ids", "--json", env=env)
    assert refused.returncode == 2, refused.stderr
    message = json_out(refused)["error"]["message"]
    assert "Fetching the activity of 401 ids costs up to 401 requests" in message and "360 left" in message
    assert "nothing was read" in message and activity_requests(sandbox_clean) == []
    assert len(refused.stderr.strip().splitlines()) == 2    # the cost note, then the refusal: one sentence each
    bounded = run_cli("activity", parent, "--all-ids", "--limit", "10", "--json", env=env, timeout=180)
    assert bounded.returncode == 0, bounded.stderr
    doc = json_out(bounded)
    assert doc["truncated"] is True and doc["ids"][0]["user_id"] == parent
    assert len(doc["ids"]) + len(doc["not_fetched"]) == 401 and len(doc["ids"]) <= 360
    assert {i["state"] for i in doc["not_fetched"]} <= {"skipped", "failed"}
    assert len(activity_requests(sandbox_clean)) <= 360


def test_hostile_strings_are_shown_literally(sandbox_clean: Any):
    hostile = demo.HOSTILE_IDS[1]      # "[@click=app.quit]x[/]": [bold red]admin[/] is mapped into it
    result = run_cli("activity", hostile, env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x00" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("2024-06-01")]
    assert rows[0].startswith("2024-06-01 00:01:00  \\x1b[31mred\\x1b[0m ") and "user [@click=app.quit]x[/]" in rows[0]
    assert "[bold red]purchase[/]" in rows[1] and "user [bold red]admin[/]" in rows[1]
    doc = json_out(run_cli("activity", hostile, "--json", env=sandbox_env(sandbox_clean)))
    assert "bold?" not in json.dumps(doc) and "<script>" not in json.dumps(doc)   # property values left out


def test_the_phones_mixpanel_cluster(sandbox_clean: Any):
    result = run_cli("activity", demo.STORY_MP_PHONE_ANON, "--vendor", "mixpanel", "--json",
                     env=sandbox_env(sandbox_clean))
    assert result.returncode == 0, result.stderr
    doc = json_out(result)
    assert doc["ids"][0]["user_id"] == demo.STORY_MP_PHONE_ANON and doc["events"]
    assert {e["device_id"] for e in doc["events"]} == {demo.STORY_PHONE_DEVICE}
    assert "2 requests of the Mixpanel Query API budget" in result.stderr


def test_events_never_reach_the_disk(sandbox_clean: Any, isolated_dirs: dict[str, str]):
    marker = "personal-event-type-7f3a9c"
    events = [{"event_type": marker, "time": 1717500000000, "user_id": demo.STORY_PHONE_USER,
               "device_id": demo.STORY_PHONE_DEVICE, "platform": "iOS", "insert_id": "disk-check-1",
               "event_properties": {"secret": marker}}]
    assert sandbox_clean.http.post("/_sandbox/events", json={"amplitude": events}).json()["kept"] == 1
    env = sandbox_env(sandbox_clean)
    assert run_cli("stage", "map", demo.STORY_PHONE_USER, demo.STORY_USER, env=env).returncode == 0  # a state file
    shown = run_cli("activity", demo.STORY_USER, "--all-ids", env=env)
    assert shown.returncode == 0 and marker in shown.stdout      # shown...
    assert run_cli("report", demo.STORY_USER, "--json", env=env).returncode == 0
    from pathlib import Path

    files = [p for root in isolated_dirs.values() for p in Path(root).rglob("*") if p.is_file()]
    assert any(p.name == "staged.json" for p in files)            # the walk sees what the commands keep...
    for path in files:                                            # ...and no event is among it
        assert marker not in path.read_text(encoding="utf-8", errors="replace"), path

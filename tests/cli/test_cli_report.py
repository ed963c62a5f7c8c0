"""`idconsole report` through the real CLI (a subprocess) against the served sandbox: the Markdown to paste
into the ticket, `--json`, `--journal ID`, unknown ids (exit 5), and nothing secret in it — no event property
value (a secret-looking one is seeded), no credential in any form, raw or Basic-encoded."""

from __future__ import annotations

import base64
from typing import Any

from cli_helpers import json_out, run_cli, sandbox_env
from sandbox_helpers import API_KEY, SA, SECRET_KEY, TOKEN

from idconsole.sandbox import demo

SECRET_VALUE = "sk_live_51Hx-VERY-SECRET-4242"


def secrets_absent(text: str) -> None:
    basic = base64.b64encode(f"{API_KEY}:{SECRET_KEY}".encode()).decode()
    for value in (SECRET_VALUE, API_KEY, SECRET_KEY, TOKEN, SA[1], basic, "card_token"):
        assert value not in text, value


def test_the_story_report_and_its_json(sandbox_clean: Any):
    events = [{"event_type": "payment", "time": 1717500000000, "user_id": demo.STORY_PHONE_USER,
               "device_id": demo.STORY_PHONE_DEVICE, "platform": "iOS", "insert_id": "cli-secret-1",
               "event_properties": {"card_token": SECRET_VALUE}}]
    assert sandbox_clean.http.post("/_sandbox/events", json={"amplitude": events}).json()["kept"] == 1
    env = sandbox_env(sandbox_clean)
    result = run_cli("report", demo.STORY_USER, env=env)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Identity investigation: `hank@globex.net`\n")
    for heading in ("## How the id resolves", "## Identity tree", "## Activity per id"):
        assert f"\n{heading}\n" in text
    assert f"first event under `{demo.STORY_PHONE_USER}` (before: no user id)" in text
    assert "## Staged plan" not in text           # nothing staged
    secrets_absent(result.stdout + result.stderr)
    doc = json_out(run_cli("report", demo.STORY_USER, "--json", env=env))
    assert doc["query"] == demo.STORY_USER and doc["lookup"]["chain"] == [demo.STORY_USER, demo.STORY_PHONE_USER]
    assert [i["user_id"] for i in doc["ids"]] == [demo.STORY_USER, demo.STORY_PHONE_USER]
    secrets_absent(str(doc))


def test_the_report_of_an_apply_names_its_journal_entry(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    for args in (("stage", "unmap", demo.STORY_USER), ("stage", "map", demo.STORY_PHONE_USER, demo.STORY_USER)):
        assert run_cli(*args, env=env).returncode == 0
    staged = run_cli("report", demo.STORY_USER, env=env)
    assert "## Staged plan" in staged.stdout and "2. map `63629@hmail.com` → `hank@globex.net`" in staged.stdout
    applied = json_out(run_cli("apply", "--yes", "--ticket", "SUP-1234", "--note", "phone login fix", "--json", env=env))
    entry = applied["journal_id"]
    result = run_cli("report", demo.STORY_USER, "--journal", entry, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Journal entry `{entry}`" in result.stdout and "— acked" in result.stdout
    assert "- ticket: `SUP-1234`" in result.stdout and "- note: `phone login fix`" in result.stdout
    assert "## Staged plan" not in result.stdout
    secrets_absent(result.stdout + result.stderr)


def test_unknown_ids_and_journal_entries(sandbox_clean: Any):
    env = sandbox_env(sandbox_clean)
    unknown = run_cli("report", "nobody-0000@example.com", "--json", env=env)
    assert unknown.returncode == 5 and json_out(unknown)["error"]["kind"] == "not_found"
    missing = run_cli("report", demo.STORY_USER, "--journal", "no-such-entry", "--json", env=env)
    assert missing.returncode == 2 and "No journal entry" in json_out(missing)["error"]["message"]
    assert "Traceback" not in unknown.stderr + missing.stderr

"""The report for the ticket (identity/report.py) against the served sandbox: ids and how they resolve, the
tree, activity per id, identity changes, the staged plan or a journal entry (requests, outcome,
verification) — and what it leaves out: event property values (a hostile, secret-looking one is seeded and
never appears), user property values, credentials, staged property values. Ids are code spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api_support import fresh_budgets, make_client  # noqa: F401
from sandbox_helpers import API_KEY, SECRET_KEY

from idconsole.changes import Change, apply, build_plan
from idconsole.identity.report import build_report, code, to_markdown
from idconsole.sandbox import demo
from idconsole.workspace import Workspace

SECRET_VALUE = "sk_live_51Hx-VERY-SECRET-4242"
HOSTILE_VALUE = "[bold red]pwn[/] \x1b[2J <script>alert(1)</script> $(rm -rf ~)"
STAGED_VALUE = "staged-value-never-in-report"


def workspace(sb: Any, tmp_path: Path) -> Workspace:
    client = make_client(sb)
    return Workspace(client.connection, client, state_dir=tmp_path / "state")


def seed_secret_events(sb: Any) -> None:
    events = [{"event_type": "payment", "time": 1717500000000 + n, "user_id": demo.STORY_PHONE_USER,
               "device_id": demo.STORY_PHONE_DEVICE, "session_id": 1717500000000, "platform": "iOS",
               "insert_id": f"secret-{n}", "event_properties": {"card_token": SECRET_VALUE, "note": HOSTILE_VALUE},
               "user_properties": {"api_token": SECRET_VALUE}} for n in range(3)]
    assert sb.http.post("/_sandbox/events", json={"amplitude": events}).json()["kept"] == 3


def left_out(text: str) -> None:
    for value in (SECRET_VALUE, "pwn", "<script>", "\x1b", API_KEY, SECRET_KEY, STAGED_VALUE, "card_token",
                  "enterprise", "Hank Scorpio"):   # event and user property values, credentials, staged values
        assert value not in text, value


async def test_the_story_report_says_where_the_history_went(sandbox_clean: Any, tmp_path: Path):
    seed_secret_events(sandbox_clean)
    ws = workspace(sandbox_clean, tmp_path)
    ws.staged.extend([Change.unmap(demo.STORY_USER), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER),
                      Change.identify(demo.STORY_USER, "$set", {"plan": STAGED_VALUE})])
    try:
        report = await build_report(ws, demo.STORY_USER)
    finally:
        await ws.aclose()
    text = to_markdown(report)
    for heading in ("# Identity investigation: `hank@globex.net`", "## How the id resolves", "## Identity tree",
                    "## Activity per id", "## Staged plan"):
        assert heading in text
    assert "- `hank@globex.net`: user id (Amplitude id" in text
    assert "- chain: `hank@globex.net` → `63629@hmail.com`" in text
    assert "  - maps into `63629@hmail.com`" in text
    assert f"device `{demo.STORY_PHONE_DEVICE}`: first event under `63629@hmail.com` (before: no user id)" in text
    assert "2. map `63629@hmail.com` → `hank@globex.net`" in text
    assert "3. identify `hank@globex.net`: `$set` `plan` (values left out)" in text
    assert "request 1/2: POST" in text and "/usermap (2 mappings" in text
    left_out(text)
    document = report.to_json()
    left_out(json.dumps(document))
    assert [h["user_id"] for h in document["ids"]] == [demo.STORY_USER, demo.STORY_PHONE_USER]
    assert document["plan"]["changes"][2]["property_keys"] == ["plan"]
    assert document["identity_changes"] and document["journal"] is None


async def test_a_journal_entry_shows_requests_outcome_and_verification(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    try:
        ws.staged.extend([Change.unmap(demo.STORY_USER), Change.map(demo.STORY_PHONE_USER, demo.STORY_USER)])
        plan = await build_plan(ws)
        result = await apply(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        report = await build_report(ws, demo.STORY_USER, journal_id=result.journal_id)
    finally:
        await ws.aclose()
    text = to_markdown(report)
    assert f"## Journal entry\n\nJournal entry `{result.journal_id}`" in text
    assert "1. unmap `hank@globex.net` — acked" in text and "2. map `63629@hmail.com` → `hank@globex.net` — acked" in text
    assert "verified: " in text and "- request 1: POST" in text and ": acked" in text
    assert "## Staged plan" not in text
    # after the fix the tree is the other way round, and the journal's mappings are markers
    assert "mapped from it: 1 id" in text and "journal `" in text and "mapped `63629@hmail.com` → `hank@globex.net`" in text
    doc = report.to_json()["journal"]
    assert doc["journal_id"] == result.journal_id and [c["status"] for c in doc["changes"]] == ["acked", "acked"]


async def test_hostile_ids_are_code_spans_and_an_unrelated_plan_is_left_out(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    ws.staged.add(Change.map(demo.STORY_PHONE_USER, demo.STORY_USER))
    hostile = demo.HOSTILE_IDS[0]
    try:
        report = await build_report(ws, hostile)
        unknown = await build_report(ws, "nobody-0000@example.com")
    finally:
        await ws.aclose()
    text = to_markdown(report)
    assert f"# Identity investigation: {code(hostile)}" in text and "## Staged plan" not in text
    assert "1 staged change(s) concern other ids; the plan is left out." in text
    assert not unknown.known and "unknown to Amplitude" in to_markdown(unknown)


def test_code_spans_cannot_be_broken_out_of():
    assert code("plain") == "`plain`"
    assert code("a`b") == "``a`b``" and code("`x`") == "`` `x` ``"
    assert code("x\ny\x1b[31m") == "`x\\x0ay\\x1b[31m`"
    assert code("<b>[link](http://evil)</b>") == "`<b>[link](http://evil)</b>`"


async def test_the_redactor_scrubs_the_text_once_more(sandbox_clean: Any, tmp_path: Path):
    ws = workspace(sandbox_clean, tmp_path)
    try:
        report = await build_report(ws, demo.STORY_USER)
    finally:
        await ws.aclose()
    report.notes.append(f"a note that somehow holds {SECRET_KEY}")
    assert SECRET_KEY not in to_markdown(report, redact=lambda t: t.replace(SECRET_KEY, "***"))

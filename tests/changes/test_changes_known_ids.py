"""A typo is caught before it is sent: the plan says, for each id a map maps from or into, whether
Amplitude knows it (User Profile API in the US, user search in the EU or as a fallback, within their
budgets), warns about a map INTO an unknown id with the closest recent lookup, and says "not checked"
when a budget does not allow the check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_support import workspace_on
from cli_helpers import json_out, run_cli, sandbox_env

from idconsole.api.ratelimit import reset_budgets
from idconsole.changes import Change, build_plan
from idconsole.changes.known_ids import (
    MAX_CHECKS_PER_PLAN,
    MAX_SEARCHES_PER_PLAN,
    check_known_ids,
    closest,
    lookup_history,
)
from idconsole.config import paths
from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER
from idconsole.tui.widgets.recent_lookups import RecentLookups

TYPO = "hank@globex.nte"
assert STORY_USER == "hank@globex.net" and STORY_PHONE_USER == "63629@hmail.com"


@pytest.fixture(autouse=True)
def full_budgets() -> None:
    """Budgets are shared per process: each test starts with full ones (a test spends some on purpose)."""
    reset_budgets()


def remember_lookups(profile: str, *queries: str) -> None:
    """What the console's Lookup screen keeps (its own class writes the file the plan reads)."""
    recent = RecentLookups(profile)
    for query in queries:
        recent.add(query)


def searches(server: Any) -> list[dict[str, Any]]:
    return [r for r in server.requests() if r["path"] == "/api/2/usersearch"]


# --- end to end: the CLI against the served sandbox ------------------------------------------------


def test_a_typo_in_the_global_id_is_a_warning_that_suggests_the_recent_lookup(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    remember_lookups("env", "someone-else@example.com", STORY_USER, "12345678")
    assert run_cli("stage", "map", STORY_PHONE_USER, TYPO, env=env).returncode == 0
    plan = json_out(run_cli("plan", "--json", env=env))
    assert plan["ids"] == {TYPO: "unknown", STORY_PHONE_USER: "known"}
    (warning,) = [w for w in plan["warnings"] if w["code"] == "unknown_id"]
    assert warning["severity"] == "warning" and warning["n"] == [1]
    assert TYPO in warning["message"] and f"Did you mean {STORY_USER}" in warning["message"]
    assert "recent lookup" in warning["message"]
    text = run_cli("plan", env=env).stdout
    assert f"  {TYPO}: unknown" in text and f"  {STORY_PHONE_USER}: known" in text
    assert f"[unknown_id] change 1 maps {STORY_PHONE_USER} into {TYPO}" in text
    # it is a warning: apply without --yes refuses and sends nothing
    sandbox_clean.clear_requests()
    assert run_cli("apply", env=env).returncode == 2
    assert [r for r in sandbox_clean.requests() if r["method"] == "POST"] == []
    # checked with the User Profile API (US): not one user search spent
    assert searches(sandbox_clean) == []


def test_known_ids_give_no_warning_and_no_suggestion_without_history(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    assert run_cli("stage", "map", STORY_PHONE_USER, STORY_USER, env=env).returncode == 0
    assert run_cli("stage", "map", "brand-new-user-0001", TYPO, env=env).returncode == 0
    plan = json_out(run_cli("plan", "--json", env=env))
    assert plan["ids"] == {STORY_USER: "known", TYPO: "unknown", STORY_PHONE_USER: "known",
                           "brand-new-user-0001": "unknown"}
    unknown = [w for w in plan["warnings"] if w["code"] == "unknown_id"]
    assert [w["n"] for w in unknown] == [[2]]  # only the unknown id mapped INTO
    # no lookup history: the closest id the plan knows is offered, saying where it comes from
    assert f"Did you mean {STORY_USER} (an id in this plan that Amplitude knows)" in unknown[0]["message"]


def test_eu_checks_with_user_search_and_a_spent_search_budget_says_not_checked(start_sandbox: Any) -> None:
    server = start_sandbox("--usersearch-rate", "1/3600")
    env = sandbox_env(server, IDCONSOLE_REGION="eu")
    assert run_cli("stage", "map", STORY_PHONE_USER, TYPO, env=env).returncode == 0
    plan = json_out(run_cli("plan", "--json", env=env))
    # the target is checked first and spends the server's only search; the second is refused (429)
    assert plan["ids"][TYPO] == "unknown"
    assert plan["ids"][STORY_PHONE_USER].startswith("not checked: ")
    assert "429" in plan["ids"][STORY_PHONE_USER] or "throttl" in plan["ids"][STORY_PHONE_USER]
    assert [w["code"] for w in plan["warnings"]].count("unknown_id") == 1
    assert not [r for r in server.requests() if r["path"] == "/v1/userprofile"]  # EU: never asked
    # a second plan: the sandbox's budget is still spent, so nothing is pretended
    plan = json_out(run_cli("plan", "--json", env=env))
    assert plan["ids"][TYPO].startswith("not checked") and plan["ids"][STORY_PHONE_USER].startswith("not checked")
    assert not [w for w in plan["warnings"] if w["code"] == "unknown_id"]


# --- the budgets (in process, real HTTP to the served sandbox) -------------------------------------


async def test_a_low_search_budget_is_not_spent(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, region="eu", name="eu-low")
    budget = ws.client.budget("usersearch")
    budget.book(budget.limit - 20, open=False)  # the hour's searches are nearly spent by lookups
    ws.staged.add(Change.map(STORY_PHONE_USER, TYPO))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    assert plan.ids[TYPO] == plan.ids[STORY_PHONE_USER]
    assert plan.ids[TYPO] == "not checked: the user search budget is low (20 of 360 left); it is kept for lookups"
    assert searches(sandbox_clean) == []
    assert "unknown_id" not in [w.code for w in plan.warnings]


async def test_a_plan_spends_few_searches_and_checks_few_ids(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, region="eu", name="eu-many")
    changes = [Change.map(f"user-{i:04d}@example.com", "global-0001@example.com") for i in range(12)]
    sandbox_clean.clear_requests()
    try:
        report = await check_known_ids(ws, changes)
    finally:
        await ws.aclose()
    labels = list(report.to_json().values())
    assert len(searches(sandbox_clean)) == MAX_SEARCHES_PER_PLAN
    assert labels.count(f"not checked: a plan spends at most {MAX_SEARCHES_PER_PLAN} user searches") == 13 - 10
    us = workspace_on(sandbox_clean, tmp_path, name="us-many")
    many = [Change.map(f"user-{i:04d}@example.com", f"global-{i:04d}@example.com") for i in range(30)]
    try:
        report = await check_known_ids(us, many)
    finally:
        await us.aclose()
    labels = list(report.to_json().values())
    assert labels.count(f"not checked: a plan checks at most {MAX_CHECKS_PER_PLAN} ids") == 60 - MAX_CHECKS_PER_PLAN
    # targets first: every global id was checked
    assert all(report.statuses[f"global-{i:04d}@example.com"].state == "unknown" for i in range(30))


async def test_a_low_profile_budget_falls_back_to_search(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="us-fallback")
    budget = ws.client.budget("profile")
    budget.book(budget.limit - 5, open=False)
    sandbox_clean.clear_requests()
    try:
        report = await check_known_ids(ws, [Change.map(STORY_PHONE_USER, TYPO)])
    finally:
        await ws.aclose()
    assert report.to_json() == {TYPO: "unknown", STORY_PHONE_USER: "known"}
    assert len(searches(sandbox_clean)) == 2
    assert not [r for r in sandbox_clean.requests() if r["path"] == "/v1/userprofile"]


async def test_answers_are_reused_so_replanning_spends_nothing(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="us-again")
    ws.staged.add(Change.map(STORY_PHONE_USER, STORY_USER))
    try:
        first = await build_plan(ws)
        sandbox_clean.clear_requests()
        second = await build_plan(ws)
    finally:
        await ws.aclose()
    assert first.ids == second.ids == {STORY_USER: "known", STORY_PHONE_USER: "known"}
    assert not [r for r in sandbox_clean.requests() if r["path"] in ("/v1/userprofile", "/api/2/usersearch")]


# --- the lookup history ----------------------------------------------------------------------------


def test_the_history_is_the_consoles_own_file_per_profile() -> None:
    remember_lookups("p1", STORY_USER, "x\x1b[31m-hostile")
    remember_lookups("p2", "only-in-p2@example.com")
    assert lookup_history("p1") == [STORY_USER]  # an id that can never be right is never suggested
    assert lookup_history("p2") == ["only-in-p2@example.com"]
    assert lookup_history("nobody") == []
    (paths.cache_dir() / "recent.json").write_text("{torn", encoding="utf-8")
    assert lookup_history("p1") == []
    (paths.cache_dir() / "recent.json").write_text(json.dumps({"profiles": {"p1": "not a list"}}))
    assert lookup_history("p1") == []


@pytest.mark.parametrize(
    ("typo", "pool", "expected"),
    [(TYPO, [STORY_USER, "hank@globex.com.au"], STORY_USER),
     ("HANK@globex.nte", [STORY_USER], STORY_USER),
     (TYPO, [TYPO], None),
     ("totally-different-9", [STORY_USER], None)],
)
def test_closest(typo: str, pool: list[str], expected: str | None) -> None:
    assert closest(typo, pool) == expected


async def test_a_suggestion_amplitude_does_not_know_is_not_made(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="us-bad-history")
    try:
        report = await check_known_ids(ws, [Change.map(STORY_PHONE_USER, TYPO)],
                                       history=["hank@globex.ne"])  # also a typo, looked up once
    finally:
        await ws.aclose()
    (warning,) = report.warnings
    assert warning.suggestion is None and "check the spelling" in warning.message

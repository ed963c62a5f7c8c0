"""The plan's "Before" is the real current state: each property an identify touches as the User Profile
API has it now (and what the operation makes of it), each Mixpanel id's cluster as engage shows it now —
read within a small share of each budget, and `not read: <why>` (never a guess) where that is not
possible. Real HTTP to the served sandbox; the CLI and the engine give the same answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_support import workspace_on
from cli_helpers import json_out, run_cli, sandbox_env

from idconsole.api.ratelimit import reset_budgets
from idconsole.changes import Change, build_plan
from idconsole.changes.plan_current import MAX_MIXPANEL_READS
from idconsole.changes.property_ops import MISSING, predict
from idconsole.sandbox.demo import STORY_MP_PHONE_ANON, STORY_MP_WEB_ANON, STORY_USER

HOSTILE = "[bold red]admin[/] \x1b[2J\u202e"


@pytest.fixture(autouse=True)
def full_budgets() -> None:
    reset_budgets()


def current_of(plan: Any, n: int) -> list[tuple[str, str, str, bool]]:
    return [(c.subject, c.before, c.after, c.read) for c in plan.changes[n - 1].current]


def requests_to(server: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in server.requests() if r["path"] == path]


# --- the prediction itself (pure) ----------------------------------------------------------------


@pytest.mark.parametrize(("props", "op", "values", "after"), [
    ({"plan": "free"}, "$set", {"plan": "pro"}, {"plan": "pro"}),
    ({"plan": "free"}, "$setOnce", {"plan": "pro", "tier": 1}, {"plan": "free", "tier": 1}),
    ({"n": 3}, "$add", {"n": 2, "m": -1}, {"n": 5, "m": -1}),
    ({"n": "x"}, "$add", {"n": 2}, {"n": "x"}),
    ({"tags": "a"}, "$append", {"tags": ["b"]}, {"tags": ["a", "b"]}),
    ({"tags": ["a"]}, "$prepend", {"tags": "z"}, {"tags": ["z", "a"]}),
    ({"tags": ["a"]}, "$postInsert", {"tags": ["a", "b", "b"]}, {"tags": ["a", "b"]}),
    ({"tags": ["a", "b"]}, "$remove", {"tags": "a"}, {"tags": ["b"]}),
    ({"plan": "free", "x": 1}, "$unset", {"plan": "-"}, {"x": 1}),
    ({"plan": "free", "x": 1}, "$clearAll", {}, {}),
])
def test_predict_follows_the_documented_operations(props: dict[str, Any], op: str, values: dict[str, Any],
                                                   after: dict[str, Any]) -> None:
    before = dict(props)
    assert predict(props, op, values) == after
    assert props == before  # the input is not changed
    assert repr(MISSING) == "MISSING"


# --- properties ------------------------------------------------------------------------------------


def test_the_cli_plan_shows_each_property_as_it_is_now_and_after(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    for args in (("plan=pro",), ("sessions=2", "--op", "add"), ("company=Acme", "tier=gold", "--op", "setOnce"),
                 ("sessions=10", "--op", "add")):
        assert run_cli("stage", "set", STORY_USER, *args, env=env).returncode == 0
    plan = json_out(run_cli("plan", "--json", env=env))
    current = [[(c["subject"], c["before"], c["after"]) for c in p["current"]] for p in plan["changes"]]
    assert current == [
        [("plan", '"enterprise"', '"pro"')],
        [("sessions", "1843", "1845")],
        [("company", '"Globex"', '"Globex" (already set)'), ("tier", "(not set)", '"gold"')],
        [("sessions", "1845", "1855")],  # starts from the earlier change's result, in plan order
    ]
    text = run_cli("plan", env=env).stdout
    assert '        plan: "enterprise" → "pro"' in text and "        sessions: 1845 → 1855" in text
    # the live profile was not changed by planning, and a profile read is all it cost
    assert requests_to(sandbox_clean, "/identify") == []


async def test_eu_says_why_the_properties_are_not_read_and_asks_nothing(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, region="eu", name="eu")
    ws.staged.add(Change.identify(STORY_USER, "$set", {"plan": "pro"}))
    ws.staged.add(Change.identify(STORY_USER, "$add", {"sessions": 1}))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    why = "not read: the User Profile API is not offered in EU"
    assert current_of(plan, 1) == [("plan", why, '"pro"', False)]
    assert current_of(plan, 2) == [("sessions", why, "+1", False)]
    assert requests_to(sandbox_clean, "/v1/userprofile") == []


async def test_a_low_profile_budget_is_kept_for_the_person(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="low-profile")
    budget = ws.client.budget("profile")
    budget.book(budget.limit - 10, open=False)
    ws.staged.add(Change.identify(STORY_USER, "$setOnce", {"plan": "pro"}))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    assert current_of(plan, 1) == [("plan", f"not read: the user profile budget is low (10 of {budget.limit} left)",
                                    '"pro" if not set', False)]
    assert requests_to(sandbox_clean, "/v1/userprofile") == []


async def test_a_hostile_current_value_is_carried_as_data(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="hostile")
    await ws.client.amplitude.identify([{"user_id": STORY_USER, "user_properties": {"$set": {"bio": HOSTILE}}}])
    ws.staged.add(Change.identify(STORY_USER, "$unset", {"bio": "-"}))
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    ((subject, before, after, read),) = current_of(plan, 1)
    assert (subject, after, read) == ("bio", "(not set)", True)
    assert before == '"[bold red]admin[/] \\u001b[2J\u202e"'  # JSON text: the escape is spelled, never sent raw


# --- Mixpanel clusters -------------------------------------------------------------------------------


async def test_a_merge_shows_each_ids_cluster_now(sandbox_clean: Any, tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="mp")
    ws.staged.add(Change.mp_merge(STORY_MP_PHONE_ANON, STORY_USER))
    ws.staged.add(Change.mp_merge(STORY_MP_WEB_ANON, STORY_USER))
    ws.staged.add(Change.mp_identify("$device:6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b", STORY_USER))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    assert current_of(plan, 1) == [
        (STORY_MP_PHONE_ANON, "its own cluster",
         f"one cluster with {STORY_USER}", True),
        (STORY_USER, "its own cluster", f"one cluster with {STORY_MP_PHONE_ANON}", True),
    ]
    # the web device is in Hank's cluster already: the merge would change nothing, and the plan says so
    assert current_of(plan, 2) == [
        (STORY_MP_WEB_ANON, f"in the cluster of {STORY_USER}", "unchanged: already one cluster", True),
        (STORY_USER, "its own cluster", "unchanged: already one cluster", True),
    ]
    assert current_of(plan, 3)[0][1] == "no profile (no cluster seen)"
    # each id is read once per plan, whatever the number of changes naming it
    assert len(requests_to(sandbox_clean, "/api/query/engage")) == 4


async def test_a_plan_spends_few_query_reads_and_none_when_the_budget_is_half_spent(sandbox_clean: Any,
                                                                                    tmp_path: Path) -> None:
    ws = workspace_on(sandbox_clean, tmp_path, name="mp-many")
    for i in range(5):
        ws.staged.add(Change.mp_alias(f"alias-{i}@example.com", f"user-{i}@example.com"))
    sandbox_clean.clear_requests()
    try:
        plan = await build_plan(ws)
        labels = [c.before for p in plan.changes for c in p.current]
        assert len(requests_to(sandbox_clean, "/api/query/engage")) == MAX_MIXPANEL_READS
        assert labels.count(f"not read: only {MAX_MIXPANEL_READS} ids are read per plan") == 10 - MAX_MIXPANEL_READS
        budget = ws.client.budget("mpquery")
        budget.book(budget.remaining() - budget.limit // 2 + 1, open=False)
        sandbox_clean.clear_requests()
        plan = await build_plan(ws)
    finally:
        await ws.aclose()
    befores = {c.before for p in plan.changes for c in p.current}
    assert len(befores) == 1 and befores.pop().startswith("not read: saving the Query API budget (")
    assert requests_to(sandbox_clean, "/api/query/engage") == []

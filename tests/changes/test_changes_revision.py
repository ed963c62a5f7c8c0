"""One truth on disk: every plan is built from staged.json as it is at that moment and records its
revision; apply re-reads the file and refuses a plan whose revision (or content) is no longer the file's.

Against the served sandbox, with a second process (the CLI) or a second StagedSet on the same state dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import json_out, run_cli, sandbox_env

from idconsole.api.client import ApiClient
from idconsole.api.errors import BadInput
from idconsole.changes import ApplyRefused, Change, build_plan
from idconsole.changes import apply as apply_plan
from idconsole.sandbox import SandboxConfig
from idconsole.workspace import Workspace, demo_connection

OLD = ("stale-user-0001", "stale-global-0001")
NEW = ("fresh-user-0002", "fresh-global-0002")


def env_state_dir() -> Path:
    """Where the CLI keeps the implicit `env` profile's state (the test's isolated XDG_STATE_HOME)."""
    return Path(os.environ["XDG_STATE_HOME"]) / "idconsole" / "env"


def workspace_on(server) -> Workspace:
    """A long-lived workspace (as a console holds one) on the same profile and state dir as the CLI."""
    connection = demo_connection(SandboxConfig(), base_url=server.base_url, name="env")
    return Workspace(connection, ApiClient(connection), state_dir=env_state_dir())


def sent_usermaps(server) -> list[dict]:
    return [r for r in server.requests() if r["path"] == "/usermap"]


async def test_a_plan_made_before_another_process_restaged_is_refused_and_nothing_is_sent(sandbox_clean):
    server = sandbox_clean
    env = sandbox_env(server)
    ws = workspace_on(server)
    try:
        ws.staged.add(Change.map(*OLD))
        plan = await build_plan(ws)
        assert [p.change.user_id for p in plan.changes] == [OLD[0]]
        assert plan.to_json()["revision"] == plan.revision == 1

        # a shell, meanwhile: clear, and stage something else
        assert run_cli("stage", "clear", env=env).returncode == 0
        assert run_cli("stage", "map", *NEW, env=env).returncode == 0

        server.clear_requests()
        with pytest.raises(ApplyRefused) as refused:
            await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert "changed since the plan was made" in str(refused.value)
        assert "plan again" in str(refused.value)
        assert sent_usermaps(server) == []
        mappings = server.state()["amplitude"]["mappings"]
        assert OLD[0] not in mappings and NEW[0] not in mappings

        # the next plan is the file's: the new change, at the file's revision
        fresh = await build_plan(ws)
        assert [(p.change.user_id, p.change.target_id) for p in fresh.changes] == [NEW]
        listing = json_out(run_cli("stage", "list", "--json", env=env))
        assert [item["user_id"] for item in listing] == [NEW[0]]
        report = await apply_plan(ws, fresh, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()
        mappings = server.state()["amplitude"]["mappings"]
        assert mappings.get(NEW[0]) == NEW[1] and OLD[0] not in mappings
    finally:
        await ws.aclose()


async def test_the_cli_plan_json_carries_the_files_revision(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    assert run_cli("stage", "map", *OLD, env=env).returncode == 0
    assert run_cli("stage", "map", *NEW, env=env).returncode == 0
    plan = json_out(run_cli("plan", "--json", env=env))
    assert plan["revision"] == 2


async def test_two_staged_sets_on_one_state_dir(sandbox_clean):
    server = sandbox_clean
    first, second = workspace_on(server), workspace_on(server)
    try:
        first.staged.add(Change.map(*OLD))
        plan = await build_plan(first)
        second.staged.drop(1)   # the second console removes it (it reads the file before an edit)
        second.staged.add(Change.map(*NEW))
        server.clear_requests()
        with pytest.raises(ApplyRefused, match="changed since the plan was made"):
            await apply_plan(first, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert sent_usermaps(server) == []
        assert [c.user_id for c in (await build_plan(first)).to_send] == [NEW[0]]
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_file_recreated_at_the_same_revision_is_still_a_change(sandbox_clean):
    """Revision numbers restart when the file is deleted: the content decides, not the number."""
    server = sandbox_clean
    ws = workspace_on(server)
    other = workspace_on(server)
    try:
        ws.staged.add(Change.map(*OLD))
        plan = await build_plan(ws)
        (env_state_dir() / "staged.json").unlink()
        other.staged.add(Change.map(*NEW))  # a fresh file, revision 1 again
        assert other.staged.revision == plan.revision
        server.clear_requests()
        with pytest.raises(ApplyRefused, match="changed since the plan was made"):
            await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert sent_usermaps(server) == []
    finally:
        await ws.aclose()
        await other.aclose()


async def test_a_plan_is_never_built_from_memory_when_the_file_is_broken(sandbox_clean):
    ws = workspace_on(sandbox_clean)
    try:
        ws.staged.add(Change.map(*OLD))
        (env_state_dir() / "staged.json").write_text("{ not json", encoding="utf-8")
        with pytest.raises(BadInput, match="not valid JSON"):
            await build_plan(ws)
        assert (env_state_dir() / "staged.json").read_text(encoding="utf-8") == "{ not json"
    finally:
        await ws.aclose()

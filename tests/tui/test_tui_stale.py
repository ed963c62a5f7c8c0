"""A console never plans or submits a stale staged set (issue 8, point 1).

The console runs (`App.run_test`) on the implicit `env` profile against the served sandbox; `idconsole stage
...` runs as a real subprocess with the same XDG dirs and the same profile, in between the console's steps,
as a support engineer's shell would. What was sent is read back from the sandbox itself (its state and its
request log), never from the console's own account of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import tui_support
from cli_helpers import run_cli, sandbox_env
from textual.widgets import DataTable, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.config.resolve import resolve_connection
from idconsole.tui.screens.confirm import ConfirmSubmitScreen
from idconsole.tui.screens.plan import PlanScreen
from idconsole.tui.screens.stage_dialog import StageChangeDialog
from idconsole.tui.screens.staged import StagedScreen
from idconsole.tui.staging.freshness import NOTICE
from idconsole.workspace import Workspace

tui_env = tui_support.tui_env  # the fixture every TUI test uses

OLD, OLD_TARGET = "stale-old-user@example.com", "stale-old-target@example.com"
NEW, NEW_TARGET = "stale-new-user@example.com", "stale-new-target@example.com"


@pytest.fixture
def shell(sandbox_clean: Any, tui_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`await shell("stage", "clear")`: the CLI on the console's profile, run off the console's loop."""
    env = sandbox_env(sandbox_clean)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sandbox_clean.clear_requests()

    async def run(*args: str) -> None:
        result = await asyncio.to_thread(run_cli, *args, env=env)
        assert result.returncode == 0, result.stderr

    yield run


def console() -> Any:
    return make_app(Workspace.open(resolve_connection(None)))


def staged_users(app: Any) -> list[str]:
    return [c.user_id for c in app.workspace.staged]


def table_users(screen: StagedScreen) -> list[str]:
    table = screen.query_one("#staged-table", DataTable)
    return [str(getattr(table.get_row_at(r)[3], "plain", "")) for r in range(table.row_count)]


async def until(pilot: Any, condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    assert condition()


def mapped(sandbox: Any, user_id: str) -> str | None:
    mappings = sandbox.state()["amplitude"]["mappings"]
    return (mappings if isinstance(mappings, dict) else dict(mappings)).get(user_id)


def usermap_items(sandbox: Any) -> int:
    return sum(r["items"] or 0 for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/usermap"))


def noticed(app: Any) -> bool:
    return any(n.message == NOTICE for n in app.notifications)


async def submit(pilot: Any, app: Any, plan: PlanScreen) -> None:
    for ack in plan.query(".plan-ack"):
        ack.value = True
    await pilot.pause()
    await pilot.press("s")
    await settle(pilot, app)
    assert isinstance(app.screen, ConfirmSubmitScreen)
    await pilot.click("#confirm-apply")
    await settle(pilot, app)


async def test_the_open_editor_follows_the_shell_and_only_the_new_change_is_sent(
    shell: Any, sandbox_clean: Any
) -> None:
    await shell("stage", "map", OLD, OLD_TARGET)
    app = console()
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.open_staged()
        await settle(pilot, app)
        editor = app.screen
        assert isinstance(editor, StagedScreen) and table_users(editor) == [OLD]

        await shell("stage", "clear")
        await shell("stage", "map", NEW, NEW_TARGET)
        await until(pilot, lambda: table_users(editor) == [NEW])  # the editor's own timer noticed
        assert noticed(app) and staged_users(app) == [NEW]

        await pilot.press("P")
        await settle(pilot, app)
        plan = app.screen
        assert isinstance(plan, PlanScreen) and plan.plan is not None
        assert [p.change.user_id for p in plan.plan.changes] == [NEW]
        await submit(pilot, app, plan)
    assert mapped(sandbox_clean, NEW) == NEW_TARGET
    assert mapped(sandbox_clean, OLD) is None
    assert usermap_items(sandbox_clean) == 1


async def test_a_plan_on_screen_is_rebuilt_before_it_is_submitted(shell: Any, sandbox_clean: Any) -> None:
    await shell("stage", "map", OLD, OLD_TARGET)
    app = console()
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.open_plan()
        await settle(pilot, app)
        plan = app.screen
        assert isinstance(plan, PlanScreen) and [p.change.user_id for p in plan.plan.changes] == [OLD]

        for ack in plan.query(".plan-ack"):
            ack.value = True
        await pilot.pause()
        await shell("stage", "clear")
        await shell("stage", "map", NEW, NEW_TARGET)
        await pilot.press("s")  # submit: the console checks the file first and plans again instead
        await settle(pilot, app)
        assert app.screen is plan and noticed(app)
        assert [p.change.user_id for p in plan.plan.changes] == [NEW]
        assert "built again" in str(plan.query_one("#plan-summary").content)
        assert usermap_items(sandbox_clean) == 0  # nothing sent yet

        await submit(pilot, app, plan)
    assert mapped(sandbox_clean, NEW) == NEW_TARGET and mapped(sandbox_clean, OLD) is None
    assert usermap_items(sandbox_clean) == 1


async def test_a_change_while_confirming_is_refused_and_replanned(shell: Any, sandbox_clean: Any) -> None:
    await shell("stage", "map", OLD, OLD_TARGET)
    app = console()
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.open_plan()
        await settle(pilot, app)
        plan = app.screen
        assert isinstance(plan, PlanScreen)
        for ack in plan.query(".plan-ack"):
            ack.value = True
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmSubmitScreen)

        await shell("stage", "clear")  # while the confirm dialog is open
        await shell("stage", "map", NEW, NEW_TARGET)
        await pilot.click("#confirm-apply")  # the engine re-reads the file and refuses the old plan
        await settle(pilot, app)
        assert app.screen is plan
        assert any(n.title == "Submit refused" for n in app.notifications)
        assert [p.change.user_id for p in plan.plan.changes] == [NEW]
        assert usermap_items(sandbox_clean) == 0 and mapped(sandbox_clean, OLD) is None

        await submit(pilot, app, plan)
    assert mapped(sandbox_clean, NEW) == NEW_TARGET and mapped(sandbox_clean, OLD) is None
    assert usermap_items(sandbox_clean) == 1


async def test_a_screen_that_comes_back_reloads_what_the_shell_changed(shell: Any) -> None:
    await shell("stage", "map", OLD, OLD_TARGET)
    app = console()
    async with app.run_test(size=TUI_SIZE) as pilot:
        assert staged_users(app) == [OLD]
        app.open_journal()  # the main screen is covered: nothing polls the file now
        await settle(pilot, app)
        await shell("stage", "clear")
        await shell("stage", "map", NEW, NEW_TARGET)
        await pilot.pause(1.5)
        assert not noticed(app)
        await pilot.press("escape")  # back to Lookup: it comes back, the file is read
        await settle(pilot, app)
        assert noticed(app) and staged_users(app) == [NEW]


async def test_two_consoles_on_one_profile(shell: Any, sandbox_clean: Any) -> None:
    """A second console (another App, its own Workspace on the same state dir) edits the staged set while
    the first has its editor open: the first follows, and plans and sends only what the file holds."""
    await shell("stage", "map", OLD, OLD_TARGET)
    first, second = console(), console()
    async with first.run_test(size=TUI_SIZE) as one:
        first.open_staged()
        await settle(one, first)
        editor = first.screen
        assert isinstance(editor, StagedScreen) and table_users(editor) == [OLD]
        async with second.run_test(size=TUI_SIZE) as two:
            second.open_staged()
            await settle(two, second)
            other = second.screen
            assert isinstance(other, StagedScreen) and table_users(other) == [OLD]
            await two.press("X")  # the second console clears the set (it asks first) ...
            await settle(two, second)
            await two.click("#ask-yes")
            await settle(two, second)
            await two.press("a")  # ... and stages the new change by hand
            await settle(two, second)
            dialog = second.screen
            assert isinstance(dialog, StageChangeDialog)
            dialog.query_one("#input-user_id", Input).value = NEW
            dialog.query_one("#input-global_user_id", Input).value = NEW_TARGET
            await two.click("#stage-ok")
            await settle(two, second)
            assert table_users(other) == [NEW]
        await until(one, lambda: table_users(editor) == [NEW])
        assert noticed(first)
        await one.press("P")
        await settle(one, first)
        plan = first.screen
        assert isinstance(plan, PlanScreen) and [p.change.user_id for p in plan.plan.changes] == [NEW]
        await submit(one, first, plan)
    assert mapped(sandbox_clean, NEW) == NEW_TARGET and mapped(sandbox_clean, OLD) is None
    assert usermap_items(sandbox_clean) == 1


async def test_a_plan_over_the_open_editor_is_rebuilt_even_when_the_editor_reloaded_first(
    shell: Any, sandbox_clean: Any
) -> None:
    """The editor under the plan reloads on its own timer; the plan must still see that it is stale."""
    await shell("stage", "map", OLD, OLD_TARGET)
    app = console()
    async with app.run_test(size=TUI_SIZE) as pilot:
        app.open_staged()
        await settle(pilot, app)
        editor = app.screen
        await pilot.press("P")
        await settle(pilot, app)
        plan = app.screen
        assert isinstance(plan, PlanScreen) and [p.change.user_id for p in plan.plan.changes] == [OLD]
        for ack in plan.query(".plan-ack"):
            ack.value = True
        await shell("stage", "clear")
        await shell("stage", "map", NEW, NEW_TARGET)
        await until(pilot, lambda: staged_users(app) == [NEW])  # the editor's timer, under the plan
        assert table_users(editor) == [NEW]
        await pilot.press("s")
        await settle(pilot, app)
        assert app.screen is plan, "a confirm for the stale plan was opened"
        assert [p.change.user_id for p in plan.plan.changes] == [NEW]
    assert usermap_items(sandbox_clean) == 0

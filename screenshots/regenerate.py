"""Regenerate screenshots/*.svg from the demo: `.venv/bin/python screenshots/regenerate.py`.

Every picture is taken at 120x40 with `App.run_test` on the embedded sandbox, with XDG dirs in a temp
dir and an in-memory keyring (no developer config or secret can appear), and steady text cursors.
Screens that do not exist in this checkout are skipped with a note.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIZE = (120, 40)

# isolate before anything reads a path
_tmp = tempfile.TemporaryDirectory(prefix="idconsole-shots-")
for _var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
    os.environ[_var] = str(Path(_tmp.name) / _var.lower())
for _var in [v for v in os.environ if v.startswith("IDCONSOLE_")]:
    del os.environ[_var]
# the journal records the operator (the OS user by default): the pictures show a support engineer, not
# whoever ran the script
for _var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
    os.environ[_var] = "support"

import keyring  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402
from textual import events  # noqa: E402

from idconsole.api.ratelimit import reset_budgets  # noqa: E402
from idconsole.config import secrets  # noqa: E402
from idconsole.config.profiles import Profile, save_profile  # noqa: E402
from idconsole.config.secret import Secret  # noqa: E402
from idconsole.tui.app import IdConsoleApp  # noqa: E402
from idconsole.workspace import Workspace  # noqa: E402


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


class ShotApp(IdConsoleApp):
    """Steady cursors, so the pictures do not depend on the blink phase."""

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False


Steps = Callable[[Any, IdConsoleApp], Awaitable[bool]]


async def _settle(pilot: Any, app: IdConsoleApp) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)


async def shoot(name: str, make: Callable[[], IdConsoleApp], steps: Steps) -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        if not await steps(pilot, app):
            print(f"skipped {name}: that screen is not in this checkout")
            return
        await _settle(pilot, app)
        (HERE / name).write_text(app.export_screenshot(title="idconsole"), encoding="utf-8")
        print(f"wrote screenshots/{name}")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def demo_app() -> IdConsoleApp:
    reset_budgets()
    # a fresh state dir per picture: staged changes of one must not show up in the next
    return ShotApp(Workspace.demo(state_dir=Path(tempfile.mkdtemp(dir=_tmp.name, prefix="demo-state-"))))


def first_run_app() -> IdConsoleApp:
    return ShotApp(None)


# --- the pictures -----------------------------------------------------------------------------------


async def lookup(pilot: Any, app: IdConsoleApp) -> bool:
    return type(app.screen).__name__ == "LookupScreen"


async def lookup_tree(pilot: Any, app: IdConsoleApp) -> bool:
    if type(app.screen).__name__ != "LookupScreen":
        return False
    from idconsole.sandbox.demo import STORY_USER

    await pilot.press(*STORY_USER, "enter")
    await _settle(pilot, app)
    return True


async def profile(pilot: Any, app: IdConsoleApp) -> bool:
    if not _has("idconsole.tui.screens.profile") or type(app.screen).__name__ != "LookupScreen":
        return False
    from idconsole.sandbox.demo import STORY_USER
    from idconsole.tui.screens.profile import ProfileScreen

    await app.push_screen(ProfileScreen(STORY_USER))
    await _settle(pilot, app)
    return True


async def timeline(pilot: Any, app: IdConsoleApp) -> bool:
    """The story user's events across every id of its tree: where the phone's history went."""
    if not _has("idconsole.tui.screens.timeline") or not await lookup_tree(pilot, app):
        return False
    await pilot.press("t")
    await _settle(pilot, app)
    await pilot.press("enter")  # the cost was asked first: fetch
    return True


async def mixpanel_view(pilot: Any, app: IdConsoleApp) -> bool:
    """The phone's Mixpanel cluster, opened by the `$device:` id Amplitude never saw."""
    if not _has("idconsole.tui.screens.mixpanel_view") or type(app.screen).__name__ != "LookupScreen":
        return False
    from idconsole.sandbox.demo import STORY_MP_PHONE_ANON

    await pilot.press(*STORY_MP_PHONE_ANON)
    await pilot.press("ctrl+t", "enter")  # the box's vendor toggle: Mixpanel
    return True


async def compare(pilot: Any, app: IdConsoleApp) -> bool:
    """The two users of the story side by side, before the fix."""
    if not _has("idconsole.tui.screens.compare") or not await lookup_tree(pilot, app):
        return False
    from idconsole.tui.widgets.identity_tree import IdentityTree

    tree = app.screen.query_one(IdentityTree)
    tree.focus()
    await pilot.press("down", "down")  # the user hank@globex.net is mapped into
    await pilot.press("C")
    return True


async def report(pilot: Any, app: IdConsoleApp) -> bool:
    """The Markdown summary for the ticket."""
    if not _has("idconsole.tui.screens.report") or not await lookup_tree(pilot, app):
        return False
    from idconsole.tui.widgets.identity_tree import IdentityTree

    app.screen.query_one(IdentityTree).focus()
    await pilot.press("R")
    return True


def _stage_story_fix(app: IdConsoleApp) -> None:
    """The demo ticket's fix: unmap hank@globex.net, then map the phone's id into it."""
    from idconsole.changes import Change
    from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER

    staged = app.workspace.staged  # type: ignore[union-attr]
    staged.add(Change.unmap(STORY_USER))
    staged.add(Change.map(STORY_PHONE_USER, STORY_USER))


async def staged_changes(pilot: Any, app: IdConsoleApp) -> bool:
    _stage_story_fix(app)
    await pilot.press("f2")
    return True


async def plan(pilot: Any, app: IdConsoleApp) -> bool:
    _stage_story_fix(app)
    await pilot.press("f2")
    await _settle(pilot, app)
    await pilot.press("P")
    return True


async def tree_preview(pilot: Any, app: IdConsoleApp) -> bool:
    """The story's fix staged, hank looked up, `a`: the tree as it will be after the submit."""
    if not await lookup_tree(pilot, app):
        return False
    _stage_story_fix(app)
    await _settle(pilot, app)
    await pilot.press("a")
    return True


async def plan_current_values(pilot: Any, app: IdConsoleApp) -> bool:
    """A plan's Before column as read now: a property's value, a Mixpanel id's cluster."""
    from idconsole.changes import Change
    from idconsole.sandbox.demo import STORY_MP_PHONE_ANON, STORY_USER

    staged = app.workspace.staged  # type: ignore[union-attr]
    staged.add(Change.identify(STORY_USER, "$set", {"plan": "enterprise-plus"}))
    staged.add(Change.identify(STORY_USER, "$add", {"sessions": 2}))
    staged.add(Change.mp_merge(STORY_MP_PHONE_ANON, STORY_USER))
    await pilot.press("f2")
    await _settle(pilot, app)
    await pilot.press("P")
    return True


async def confirm(pilot: Any, app: IdConsoleApp) -> bool:
    await plan(pilot, app)
    await _settle(pilot, app)
    await pilot.press("s")
    return True


async def results(pilot: Any, app: IdConsoleApp) -> bool:
    await confirm(pilot, app)
    await _settle(pilot, app)
    await pilot.click("#confirm-apply")
    return True


async def journal(pilot: Any, app: IdConsoleApp) -> bool:
    await results(pilot, app)
    await _settle(pilot, app)
    await pilot.press("f3")
    return True


async def connections(pilot: Any, app: IdConsoleApp) -> bool:
    return True


async def profile_form(pilot: Any, app: IdConsoleApp) -> bool:
    await pilot.press("a")
    await pilot.pause()
    form = app.screen
    form.query_one("#name").value = "acme-prod"  # type: ignore[attr-defined]
    form.query_one("#amplitude-api-key").value = "typed but never shown"  # type: ignore[attr-defined]
    form.query_one("#use-mixpanel").value = True  # type: ignore[attr-defined]
    form.query_one("#name").focus()
    return True


async def help_screen(pilot: Any, app: IdConsoleApp) -> bool:
    await pilot.press("f1")
    return True


async def palette(pilot: Any, app: IdConsoleApp) -> bool:
    await pilot.press("ctrl+p")
    await pilot.pause(0.5)
    return True


def with_profiles() -> IdConsoleApp:
    """The Connections screen of someone with a few profiles (none of them reachable: it is a picture)."""
    save_profile(Profile("acme-prod", region="eu", vendors=("amplitude", "mixpanel"),
                         sa_username="svc.acme", project_id="2210457"))
    save_profile(Profile("acme-staging", region="us", base_url="http://127.0.0.1:8765"))
    for profile, field in (("acme-prod", "amplitude_api_key"), ("acme-prod", "amplitude_secret_key"),
                           ("acme-prod", "mixpanel_token"), ("acme-prod", "mixpanel_sa_secret"),
                           ("acme-staging", "amplitude_api_key"), ("acme-staging", "amplitude_secret_key")):
        secrets.store_secret(profile, field, Secret("placeholder"))
    return ShotApp(None)


SHOTS: list[tuple[str, Callable[[], IdConsoleApp], Steps]] = [
    ("01-lookup.svg", demo_app, lookup),
    ("02-tree.svg", demo_app, lookup_tree),
    ("03-profile.svg", demo_app, profile),
    ("15-timeline.svg", demo_app, timeline),
    ("17-compare.svg", demo_app, compare),
    ("18-report.svg", demo_app, report),
    ("19-tree-preview.svg", demo_app, tree_preview),
    ("20-plan-current-values.svg", demo_app, plan_current_values),
    ("04-staged.svg", demo_app, staged_changes),
    ("05-plan.svg", demo_app, plan),
    ("06-confirm.svg", demo_app, confirm),
    ("07-results.svg", demo_app, results),
    ("08-journal.svg", demo_app, journal),
    ("16-mixpanel-view.svg", demo_app, mixpanel_view),  # after the others: the box's vendor choice is remembered
    ("10-connections-first-run.svg", first_run_app, connections),
    ("12-profile-form.svg", first_run_app, profile_form),
    ("13-help.svg", first_run_app, help_screen),
    ("14-palette.svg", first_run_app, palette),
    ("11-connections.svg", with_profiles, connections),  # last: it saves profiles
]


async def main(only: list[str]) -> int:
    keyring.set_keyring(_MemoryKeyring())
    secrets.clear_session()
    for name, make, steps in SHOTS:
        if only and not any(o in name for o in only):
            continue
        await shoot(name, make, steps)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(sys.argv[1:])))
    finally:
        _tmp.cleanup()

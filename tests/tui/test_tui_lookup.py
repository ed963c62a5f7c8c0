"""Pilot tests of the Lookup screen on the in-process demo sandbox. No timing: every step waits for the
workers to finish (`settle`) instead of sleeping."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
from textual.widgets import Input, OptionList
from tui_support import TUI_SIZE, make_app, settle

from idconsole.api.errors import AuthError
from idconsole.config import paths
from idconsole.config.secret import Secret
from idconsole.identity import graph as g
from idconsole.sandbox import SandboxConfig, create_app, demo
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.tui.screens.message import MessageScreen
from idconsole.tui.screens.profile import ProfileScreen
from idconsole.tui.widgets.identity_tree import IdentityTree
from idconsole.tui.widgets.recent_lookups import RecentLookupsScreen
from idconsole.workspace import Workspace

pytestmark = pytest.mark.usefixtures("tui_env")


# --- helpers ---------------------------------------------------------------------------------------


async def lookup(pilot, app, query: str) -> LookupScreen:
    screen = app.screen
    assert isinstance(screen, LookupScreen)
    box = screen.query_one("#lookup-input", Input)
    box.focus()
    box.value = query
    await pilot.press("enter")
    await settle(pilot, app)
    return screen


def status(screen) -> str:
    return str(screen.query_one("#lookup-status").render())


def details(screen) -> str:
    return str(screen.query_one("#node-details-body").render())


def labels(tree: IdentityTree) -> list[str]:
    return [n.label.plain for n in tree.iter_nodes()]


def nodes(tree: IdentityTree, kind: str, user_id: str | None = None):
    return [n for n in tree.iter_nodes()
            if n.data is not None and n.data.kind == kind and (user_id is None or n.data.user_id == user_id)]


async def seed(ws: Workspace, body: dict) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        response = await client.post("/_sandbox/users", json=body)
        assert response.status_code == 200, response.text


async def fault(ws: Workspace, body: dict) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        response = await client.post("/_sandbox/faults", json=body)
        assert response.status_code == 200, response.text


class Notes:
    """Records what the app notified (the message text, as passed: markup=False)."""

    def __init__(self, app) -> None:
        self.items: list[dict] = []
        original = app.notify

        def notify(message, **kwargs):
            self.items.append({"message": message, **kwargs})
            return original(message, **kwargs)

        app.notify = notify

    def text(self) -> str:
        return "\n".join(f"{n.get('title', '')}: {n['message']}" for n in self.items)


# --- tests -----------------------------------------------------------------------------------------


async def test_opens_on_lookup_with_the_input_focused(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, LookupScreen)
        assert app.focused is app.screen.query_one("#lookup-input")
        assert "search 360/360" in str(app.screen.query_one("#search-budget").render())
        # bindings carry ids (remappable) and the screen has help text
        ids = {b.id for b in LookupScreen.BINDINGS}
        assert {"lookup.recent", "lookup.copy", "lookup.profile", "lookup.focus_input"} <= ids
        assert "User search" in LookupScreen.HELP


async def test_story_user_tree_shows_what_it_maps_into(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        tree = screen.identity_tree
        root = tree.root.data
        assert root.user_id == demo.STORY_USER and root.role == g.ROOT and root.amplitude_id is not None
        shown = labels(tree)
        assert shown[0].startswith(demo.STORY_USER) and f"#{root.amplitude_id}" in shown[0]
        assert any(s.startswith("maps into: ") and demo.STORY_PHONE_USER in s for s in shown)
        chain_step = nodes(tree, g.USER, demo.STORY_PHONE_USER)[0]
        assert chain_step.data.role == g.CHAIN
        assert "maps into " + demo.STORY_PHONE_USER in status(screen)
        # focus moved to the tree, the details panel shows the root in full
        assert app.focused is tree
        assert demo.STORY_USER in details(screen) and "Maps into" in details(screen)
        assert screen.resolved_user == demo.STORY_USER


async def test_expanding_a_node_loads_its_children_lazily(demo_workspace):
    await seed(demo_workspace, {"mappings": [["leaf-one-111", "middle-222"], ["leaf-two-333", "middle-222"],
                                             ["middle-222", "top-444"]]})
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, "top-444")
        tree = screen.identity_tree
        middle = nodes(tree, g.USER, "middle-222")[0]
        assert middle.data.role == g.FROM and not middle.data.loaded
        assert list(middle.children) == []  # nothing fetched for it yet
        tree.move_cursor(middle)
        await pilot.pause()
        assert "not loaded" in details(screen)
        await pilot.press("right")  # expand: fetch middle's mappings in a worker
        await settle(pilot, app)
        assert middle.data.loaded and middle.is_expanded
        assert [c.data.user_id for c in middle.children] == ["leaf-one-111", "leaf-two-333"]
        assert "Mapped from  2 users" in details(screen)
        # a leaf has nothing mapped into it: the expansion says so
        leaf = middle.children[0]
        tree.move_cursor(leaf)
        await pilot.press("space")
        await settle(pilot, app)
        assert [c.data.kind for c in leaf.children] == [g.NOTE]
        # left collapses, then goes to the parent
        await pilot.press("left")
        assert not leaf.is_expanded
        await pilot.press("left")
        assert tree.cursor_node is middle


async def test_chain_is_marked(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.CHAIN[0])
        shown = labels(screen.identity_tree)
        group = next(s for s in shown if s.startswith("maps into: "))
        assert "maps into: → " + " → ".join(demo.CHAIN[1:]) in group and "⚠ chain" in group
        assert " → ".join(demo.CHAIN) in status(screen)
        assert [n.data.user_id for n in nodes(screen.identity_tree, g.USER) if n.data.role == g.CHAIN] == list(demo.CHAIN[1:])
        assert "maps into a chain" in status(screen)
        assert "resolves nothing transitively" in details(screen)


async def test_cycle_is_marked_and_never_followed(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.CYCLE[0])
        tree = screen.identity_tree
        markers = nodes(tree, g.CYCLE)
        assert markers, labels(tree)
        assert any("↻ cycle: " + demo.CYCLE[0] + " already shown above" == m.label.plain for m in markers)
        assert "maps into a cycle" in status(screen)
        # Enter on a marker jumps to where the id is shown
        marker = next(m for m in markers if m.data.user_id == demo.CYCLE[0])
        tree.move_cursor(marker)
        await pilot.pause()
        assert "↻ cycle" in details(screen)
        await pilot.press("enter")
        await pilot.pause()
        assert tree.cursor_node is tree.root
        # expanding the chain step (known already) adds no node for the cycle's other end
        step = nodes(tree, g.USER, demo.CYCLE[1])[0]
        tree.move_cursor(step)
        await pilot.press("right")
        await settle(pilot, app)
        assert all(c.data.kind != g.USER or c.data.user_id not in demo.CYCLE for c in step.children)


async def test_ten_thousand_children_page_and_show_more(demo_workspace):
    parent = "bulk-parent@example.com"
    await seed(demo_workspace, {"mappings": [[f"bulk-{i:05d}", parent] for i in range(10_000)]})
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, parent)
        tree = screen.identity_tree
        group = next(n for n in tree.root.children if n.data.title == "mapped from")
        assert group.data.count == 10_000
        assert len(group.children) == g.PAGE_SIZE + 1
        more = group.children[-1]
        assert more.label.plain == f"… show more ({10_000 - g.PAGE_SIZE} remaining)"
        assert tree.root.data.amplitude_id is not None  # learned from one child, not from search
        tree.move_cursor(more)
        await pilot.press("enter")
        await pilot.pause()
        assert len(group.children) == 2 * g.PAGE_SIZE + 1
        assert group.children[-1].label.plain == f"… show more ({10_000 - 2 * g.PAGE_SIZE} remaining)"
        assert tree.cursor_node is group.children[g.PAGE_SIZE]
        assert tree.cursor_node.data.user_id == f"bulk-{g.PAGE_SIZE:05d}"


async def test_search_resolves_a_device_id_and_says_which_match(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_PHONE_DEVICE)
        assert screen.resolved_user == demo.STORY_PHONE_USER
        assert "Resolved by search" in status(screen) and demo.STORY_PHONE_USER in status(screen)
        assert "search 359/360" in str(screen.query_one("#search-budget").render())
        # the same search again comes from the cache: no budget spent
        screen = await lookup(pilot, app, demo.STORY_PHONE_DEVICE)
        assert "(cached)" in status(screen)
        badge = str(screen.query_one("#search-budget").render())
        assert "search 359/360" in badge and "last result cached" in badge
        assert screen.found is not None and screen.found.resolution.by == "device"


async def test_several_matches_are_listed_to_choose(demo_workspace):
    # two users share one email property: search returns both
    await seed(demo_workspace, {"users": [
        {"user_id": "twin-one-1", "user_properties": {"email": "twins@example.com"}},
        {"user_id": "twin-two-2", "user_properties": {"email": "twins@example.com"}},
    ]})
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, "twins@example.com")
        options = screen.query_one("#lookup-matches", OptionList)
        assert options.display and options.option_count == 2
        assert "2 users match" in status(screen)
        assert app.focused is options
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert screen.resolved_user == "twin-two-2"
        assert not options.display


async def test_unknown_user_gives_a_clear_message(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        notes = Notes(app)
        screen = await lookup(pilot, app, "nobody-at-all-42")
        assert "Unknown user" in status(screen) and "nobody-at-all-42" in status(screen)
        assert "Unknown user" in notes.text()
        assert labels(screen.identity_tree) == ["Nothing found."]
        # still usable
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert screen.resolved_user == demo.STORY_USER


async def test_bad_credentials_give_a_clear_message_and_the_screen_stays_usable(tmp_path):
    connection = Workspace.demo(state_dir=tmp_path / "s").connection
    bad = dataclasses.replace(
        connection,
        amplitude=dataclasses.replace(connection.amplitude, secret_key=Secret("wrong-secret")),
    )
    ws = Workspace.open(bad, transport=httpx.ASGITransport(app=create_app(SandboxConfig())),
                        state_dir=tmp_path / "state")
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        lookup_screen = app.screen
        box = lookup_screen.query_one("#lookup-input", Input)
        box.value = demo.STORY_USER
        await pilot.press("enter")
        await settle(pilot, app)
        text = status(lookup_screen)
        assert "Lookup failed" in text and "rejected" in text.lower()
        # the router shows credential failures in a modal the user must dismiss
        assert isinstance(app.screen, MessageScreen)
        assert "Credentials rejected" in str(app.screen.query_one("#message-title").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is lookup_screen and app.is_running
        assert "Lookup failed" in labels(lookup_screen.identity_tree)[0]


async def test_auth_error_reaches_the_router(demo_workspace, monkeypatch):
    shown: list[tuple[BaseException, str]] = []
    app = make_app(demo_workspace)
    monkeypatch.setattr(app, "show_error", lambda exc, context="": shown.append((exc, context)))

    async def reject(ids):
        raise AuthError("Amplitude rejected the [bold]secret[/] key", credential="secret key")

    monkeypatch.setattr(demo_workspace.client.amplitude, "get_mappings", reject)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert len(shown) == 1 and isinstance(shown[0][0], AuthError) and shown[0][1] == "Lookup failed"
        assert "[bold]secret[/]" in status(screen)  # shown literally


async def test_throttled_search_gives_a_clear_message_and_the_screen_stays_usable(tmp_path):
    ws = Workspace.demo(sandbox_config=SandboxConfig(usersearch_rate=(1, 3600.0)), state_dir=tmp_path / "s")
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        notes = Notes(app)
        screen = await lookup(pilot, app, "nobody-first-1")  # spends the sandbox's only search
        assert "Unknown user" in status(screen)
        screen = await lookup(pilot, app, "nobody-second-2")  # the sandbox answers 429
        assert "Lookup failed" in status(screen) and "throttl" in status(screen).lower()
        assert "Throttled" in notes.text()
        assert app.is_running
        screen = await lookup(pilot, app, demo.STORY_USER)  # no search needed: still works
        assert screen.resolved_user == demo.STORY_USER


async def test_throttled_mappings_give_a_clear_message(demo_workspace):
    await fault(demo_workspace, {"path": "/api/2/usermap", "method": "GET", "status": 429, "times": 10,
                                 "headers": {"Retry-After": "0"}})
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert "Lookup failed" in status(screen) and "429" in status(screen)
        assert app.is_running and not screen.identity_tree.loading


async def test_copy_puts_the_id_on_the_clipboard_and_confirms(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        notes = Notes(app)
        screen = await lookup(pilot, app, demo.STORY_USER)
        step = nodes(screen.identity_tree, g.USER, demo.STORY_PHONE_USER)[0]
        screen.identity_tree.move_cursor(step)
        await pilot.press("c")
        assert app.clipboard == demo.STORY_PHONE_USER
        assert any(n["title"] == "Copied" and demo.STORY_PHONE_USER in n["message"] and n["markup"] is False
                   and "terminal's clipboard (OSC 52" in n["message"] for n in notes.items)


async def test_p_and_enter_open_the_profile_and_escape_comes_back(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        await pilot.press("p")
        await settle(pilot, app)
        assert isinstance(app.screen, ProfileScreen) and app.screen.user_id == demo.STORY_USER
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        step = nodes(screen.identity_tree, g.USER, demo.STORY_PHONE_USER)[0]
        screen.identity_tree.move_cursor(step)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ProfileScreen) and app.screen.user_id == demo.STORY_PHONE_USER
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("m")
        await settle(pilot, app)
        assert isinstance(app.screen, ProfileScreen) and app.screen.vendor == "mixpanel"


async def test_recent_lookups_rerun_and_persist(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await lookup(pilot, app, demo.CHAIN[0])
        screen = await lookup(pilot, app, demo.STORY_USER)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RecentLookupsScreen)
        assert app.screen.items[:2] == [demo.STORY_USER, demo.CHAIN[0]]
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert app.screen is screen and screen.resolved_user == demo.CHAIN[0]
    saved = json.loads((paths.cache_dir() / "recent.json").read_text(encoding="utf-8"))
    assert saved["profiles"]["demo"][:2] == [demo.CHAIN[0], demo.STORY_USER]


def test_recent_lookups_keep_twenty(tmp_path):
    from idconsole.tui.widgets.recent_lookups import RecentLookups

    recent = RecentLookups("p", tmp_path / "recent.json")
    for i in range(25):
        recent.add(f"user-{i}")
    recent.add("user-10")
    assert len(recent.items) == 20 and recent.items[0] == "user-10"
    assert RecentLookups("p", tmp_path / "recent.json").items == recent.items
    assert RecentLookups("other", tmp_path / "recent.json").items == []
    (tmp_path / "recent.json").write_text("{not json", encoding="utf-8")
    assert RecentLookups("p", tmp_path / "recent.json").items == []


async def test_stage_unmap_and_map_from_the_tree(demo_workspace):
    from idconsole.tui.screens.stage_dialog import StageChangeDialog

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        await pilot.press("U")
        await pilot.pause()
        assert isinstance(app.screen, StageChangeDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("M")
        await pilot.pause()
        assert isinstance(app.screen, StageChangeDialog)


async def test_read_only_hides_staging(tmp_path):
    ws = Workspace.demo(readonly=True, state_dir=tmp_path / "s")
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert screen.check_action("stage_map", ()) is False
        assert screen.check_action("stage_unmap", ()) is False
        await pilot.press("U")
        await pilot.pause()
        assert app.screen is screen


async def test_a_new_lookup_while_a_node_is_loading_drops_the_old_expansion(demo_workspace, monkeypatch):
    import asyncio

    gate = asyncio.Event()
    real = demo_workspace.client.amplitude.get_mappings
    blocked: list[str] = []

    async def gated(ids):
        ids = list(ids)
        if ids == [demo.STORY_USER] and not gate.is_set():
            blocked.append(ids[0])
            await gate.wait()
        return await real(ids)

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_PHONE_USER)
        monkeypatch.setattr(demo_workspace.client.amplitude, "get_mappings", gated)
        hank = nodes(screen.identity_tree, g.USER, demo.STORY_USER)[0]
        screen.identity_tree.move_cursor(hank)
        await pilot.press("right")  # its mappings are now held back
        await pilot.pause()
        assert blocked == [demo.STORY_USER] and screen.identity_tree.loading
        screen = await lookup(pilot, app, demo.CHAIN[0])  # replaces the tree, cancels the expansion
        gate.set()
        await settle(pilot, app)
        assert screen.resolved_user == demo.CHAIN[0] and not screen.identity_tree.loading
        assert not nodes(screen.identity_tree, g.USER, demo.STORY_USER)
        assert app.is_running


async def test_offline_gives_a_clear_message(demo_workspace, monkeypatch):
    from idconsole.api.errors import Unavailable

    async def offline(ids):
        raise Unavailable("Could not reach Amplitude get mappings (connection refused) after 5 attempts.")

    monkeypatch.setattr(demo_workspace.client.amplitude, "get_mappings", offline)
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        notes = Notes(app)
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert "Lookup failed" in status(screen) and "connection refused" in status(screen)
        assert any("Service unreachable" in n.get("title", "") and n.get("markup") is False for n in notes.items)
        assert app.focused is not None and app.is_running


async def test_the_tree_is_drawn_again_after_a_submit(demo_workspace):
    from idconsole.changes import Change, apply, build_plan

    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        screen = await lookup(pilot, app, demo.STORY_USER)
        assert any(s.startswith("maps into: ") for s in labels(screen.identity_tree))
        # the fix is submitted from another screen (here: straight through the engine)
        await pilot.press("f2")
        await settle(pilot, app)
        demo_workspace.staged.add(Change.unmap(demo.STORY_USER))
        plan = await build_plan(demo_workspace)
        report = await apply(demo_workspace, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is screen
        assert not any(s.startswith("maps into: ") for s in labels(screen.identity_tree))
        assert "Refreshed after a submit" in status(screen)
        # coming back without a submit does not spend another lookup
        before = await mapping_requests(demo_workspace)
        await pilot.press("f2")
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert await mapping_requests(demo_workspace) == before


async def mapping_requests(ws: Workspace) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as client:
        log = (await client.get("/_sandbox/requests")).json()
    return sum(1 for entry in log if entry["path"] == "/api/2/usermap")


def test_the_screens_words_show_ids_literally():
    from idconsole.api.models import MappedUser, UserMappings
    from idconsole.identity.graph import Chain
    from idconsole.tui.screens import lookup_text as words

    hostile = "[bold red]admin[/]\x1b[31m"
    assert "[bold red]admin[/]\\x1b[31m" in words.unknown_status(hostile).plain
    assert "[bold red]admin[/]" in words.unknown_notice(hostile) and "\x1b" not in words.unknown_notice(hostile)
    cycle = Chain("x-user", (MappedUser("y-user", 2),), cycle_to="x-user")
    text = words.summary("x-user", UserMappings("x-user", (MappedUser("y-user", 2),), (MappedUser("y-user", 2),)),
                         cycle).plain
    assert text == "x-user – maps into a cycle x-user → y-user → x-user ↻ · 1 id mapped into it"
    assert words.budget_text(3, 360).plain == "search 3/360 left this hour"
    assert words.budget_text(3, 360, cached=True).plain.endswith("· last result cached")

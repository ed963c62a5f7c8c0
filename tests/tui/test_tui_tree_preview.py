"""`a` in the Lookup tree: the tree after the staged changes (identity.preview, the same after-state as
`idconsole lookup --after-staged`), titled as a preview with nothing sent, changed nodes tagged, following
the staged set as it changes, and `a` again back to the current state."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_support import TUI_SIZE, make_app, settle

from idconsole.changes import Change
from idconsole.identity import graph as g
from idconsole.sandbox import demo

pytestmark = pytest.mark.usefixtures("tui_env")

HANK, PHONE = demo.STORY_USER, demo.STORY_PHONE_USER


def _labels(tree) -> list[str]:
    return [n.label.plain for n in tree.iter_nodes()]


def _user_label(tree, user_id: str) -> str:
    node = tree.find_user(user_id)
    assert node is not None, (user_id, _labels(tree))
    return node.label.plain


async def _look_up(pilot, app, query: str):
    await settle(pilot, app)
    await pilot.press(*query, "enter")
    await settle(pilot, app)
    tree = app.screen.identity_tree
    assert app.focused is tree
    return tree


async def test_a_previews_the_tree_after_the_staged_fix_and_back(demo_workspace):
    demo_workspace.staged.add(Change.unmap(HANK))
    demo_workspace.staged.add(Change.map(PHONE, HANK))
    demo_workspace.staged.add(Change.identify(HANK, "$set", {"plan": "pro"}))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        tree = await _look_up(pilot, app, HANK)
        now = _labels(tree)
        assert any(label.startswith("maps into: → " + PHONE) for label in now)
        assert tree.border_title is None and not any("◆" in label for label in now)

        await pilot.press("a")
        await settle(pilot, app)
        assert str(tree.border_title) == "Preview: after 3 staged changes (nothing sent)"
        assert tree.has_class("-preview")
        assert f"◆ unmapped (was → {PHONE})" in tree.root.label.plain
        assert "● staged" not in tree.root.label.plain  # the preview's tag replaces the mark on a changed node
        assert not any(label.startswith("maps into") for label in _labels(tree))
        phone = tree.find_user(PHONE)
        assert phone is not None and phone.parent is not None
        assert phone.parent.label.plain == "mapped from (1)"
        assert "◆ added into here" in phone.label.plain
        assert [s.style for s in phone.label.spans][-1] == "bold green"  # changed nodes are styled
        panel = str(app.screen.query_one("#node-details-body", Static).content)
        assert "nothing (a global id)" in panel and "1 user" in panel  # the side panel follows the preview

        # nothing was sent: the sandbox still has the wrong mapping
        answer = await demo_workspace.client.amplitude.get_mappings([HANK])
        assert [m.user_id for m in answer[HANK].mapped_to] == [PHONE]

        await pilot.press("a")
        await settle(pilot, app)
        assert tree.border_title is None and not tree.has_class("-preview")
        assert _labels(tree) == now


async def test_the_preview_follows_the_staged_set_and_shows_what_it_never_read(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        tree = await _look_up(pilot, app, demo.CHAIN[1])  # chain-b → chain-c, chain-a mapped into it
        await pilot.press("a")
        await settle(pilot, app)
        assert str(tree.border_title) == "Preview: after 0 staged changes (nothing sent)"
        assert not any("◆" in label for label in _labels(tree))

        stranger = "[bold]stranger[/]@example.com"  # never read by this lookup, and markup-looking
        demo_workspace.staged.add(Change.map(stranger, demo.CHAIN[1]))  # staged from anywhere
        demo_workspace.staged.add(Change.unmap(demo.CHAIN[0]))
        await settle(pilot, app)
        assert str(tree.border_title) == "Preview: after 2 staged changes (nothing sent)"
        assert "◆ added into here (not read: staged)" in _user_label(tree, stranger)  # literal, not markup
        assert tree.find_user(demo.CHAIN[0]) is None
        leaving = [n for n in tree.iter_nodes() if n.data is not None and n.data.kind == g.NOTE
                   and n.data.user_id == demo.CHAIN[0]]
        assert [n.label.plain for n in leaving] == [f"leaves: {demo.CHAIN[0]}, unmapped (was → {demo.CHAIN[1]})"]

        demo_workspace.staged.clear()
        await settle(pilot, app)
        assert str(tree.border_title) == "Preview: after 0 staged changes (nothing sent)"
        assert tree.find_user(stranger) is None and tree.find_user(demo.CHAIN[0]) is not None


async def test_a_node_expanded_in_the_preview_shows_its_after_state(demo_workspace):
    c = demo.CHAIN[2]
    demo_workspace.staged.add(Change.map("newcomer@example.com", c))
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        tree = await _look_up(pilot, app, demo.CHAIN[0])  # chain-a → chain-b → chain-c
        await pilot.press("a")
        await settle(pilot, app)
        step = tree.find_user(c)
        assert step is not None and "◆" not in step.label.plain
        tree.move_cursor(step)
        await pilot.press("right")
        await settle(pilot, app)
        under = [n.label.plain for n in step.children]
        assert any(label.startswith("newcomer@example.com") and "◆ added into here (not read: staged)"
                   in label for label in under), under


async def test_a_before_any_lookup_says_what_to_do(demo_workspace):
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        tree = app.screen.identity_tree
        tree.focus()
        await pilot.press("a")
        await settle(pilot, app)
        assert tree.border_title is None
        assert any(n.title == "No user" for n in app.notifications)

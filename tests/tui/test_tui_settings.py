"""The console and config.toml: the keymap and theme are applied, a bad file is one notification naming
file and line while the console starts with the defaults, a theme picked in the palette is remembered;
the Textual-free vocabulary (config/keymap.py) matches the real console; NO_COLOR; an 80x24 terminal."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.filter import Monochrome
from textual.keys import Keys, format_key
from tui_support import TUI_SIZE, make_app, settle

import idconsole.tui
from idconsole.config.keymap import BINDING_IDS, DEFAULT_THEME, THEMES, character_key, key_problem
from idconsole.config.settings import settings_file
from idconsole.tui.screens.help import HelpScreen


def console_bindings() -> dict[str, str]:
    """Every binding id declared anywhere in idconsole.tui -> the class that declares it."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(idconsole.tui.__path__, "idconsole.tui."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, DOMNode) and obj.__module__ == module.__name__:
                for binding in obj.__dict__.get("BINDINGS", []):
                    if isinstance(binding, Binding) and binding.id:
                        found.setdefault(binding.id, obj.__name__)
    return found


def test_the_settings_know_every_binding_id_of_the_console():
    declared = console_bindings()
    assert set(declared) - BINDING_IDS == set(), "add these ids to idconsole/config/keymap.py BINDING_IDS"
    assert BINDING_IDS - set(declared) == set(), "these ids are gone from the console: drop them from BINDING_IDS"


def test_the_settings_know_textuals_themes_and_keys():
    app = App()
    assert set(THEMES) == set(app.available_themes) and DEFAULT_THEME == app.theme
    for key in Keys:
        # not the pseudo keys (<any>) nor the legacy alias value "ctrl-at" (Textual sends ctrl+@)
        if not key.value.startswith("<") and "-" not in key.value:
            assert key_problem(key.value) is None, key.value
    for code in range(33, 127):   # the names the settings accept for characters are Textual's own
        assert format_key(character_key(chr(code))) == chr(code)


def write_settings(text: str) -> Path:
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


async def test_the_keymap_and_theme_are_applied(demo_workspace):
    write_settings('theme = "nord"\n[keymap]\n"app.help_f1" = "f5"\n"app.staged" = "f6"\n')
    app = make_app(demo_workspace)  # noqa: F405
    async with app.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, app)  # noqa: F405
        assert app.theme == "nord"
        await pilot.press("f2")      # the old key does nothing any more ...
        await pilot.pause()
        assert type(app.screen).__name__ == "LookupScreen"
        await pilot.press("f6")      # ... the new one opens the staged changes
        await pilot.pause()
        assert type(app.screen).__name__ == "StagedScreen"
        await pilot.press("f5")      # app.help_f1 is a priority binding: it works there too
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert not [n for n in app.notifications if n.title == "Settings"]


BAD = 'theme = "nord"\noperator = 7\n[keymap]\n"app.hlep" = "f5"\n"app.help_f1" = "ctrl+?"\n'


@pytest.mark.parametrize("content", [BAD, 'theme = "nord"\n[keymap\n'])
async def test_a_bad_settings_file_is_one_notice_and_the_console_starts_with_the_defaults(demo_workspace, content):
    path = write_settings(content)
    app = make_app(demo_workspace)  # noqa: F405
    async with app.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, app)  # noqa: F405
        (notice,) = [n for n in app.notifications if n.title == "Settings"]
        assert notice.severity == "warning" and notice.markup is False
        assert re.match(rf"{re.escape(str(path))} line \d+: ", notice.message)
        await pilot.press("f1")      # the default key of every binding still works
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    if content == BAD:
        assert f"{path} line 2: " in notice.message and f"{path} line 4: " in notice.message
        assert f"{path} line 5: " in notice.message and app.theme == "nord"   # the good entry is kept
    else:
        assert f"{path} line 2: not valid TOML" in notice.message and app.theme == DEFAULT_THEME


async def pick_theme(pilot, name: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.press(*"theme")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause(0.3)
    await pilot.press(*name)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause(0.3)


async def test_a_theme_picked_in_the_palette_is_remembered(demo_workspace):
    path = write_settings('# mine\noperator = "Ana"\n\n[keymap]\n"app.staged" = "f6"\n')
    app = make_app(demo_workspace)  # noqa: F405
    async with app.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, app)  # noqa: F405
        await pick_theme(pilot, "dracula")
        assert app.theme == "dracula"
    assert path.read_text() == '# mine\noperator = "Ana"\ntheme = "dracula"\n\n[keymap]\n"app.staged" = "f6"\n'

    again = make_app(demo_workspace)  # noqa: F405
    async with again.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, again)  # noqa: F405
        assert again.theme == "dracula"


async def test_a_theme_is_not_written_into_a_broken_file(demo_workspace):
    path = write_settings("[keymap\n")
    app = make_app(demo_workspace)  # noqa: F405
    async with app.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, app)  # noqa: F405
        await pick_theme(pilot, "dracula")
        assert app.theme == "dracula"    # in effect for this session ...
        notices = [n for n in app.notifications if n.title == "Theme not remembered"]
        assert len(notices) == 1 and f"{path} line 1" in notices[0].message
    assert path.read_text() == "[keymap\n"   # ... and the file is as the user left it


#: the SVG exporter's own default text colour (Rich's export theme), not one the console renders
SVG_DEFAULT_FOREGROUND = "c5c8c6"


async def rendered_colours(workspace) -> tuple[App, set[str]]:
    app = make_app(workspace)  # noqa: F405
    async with app.run_test(size=TUI_SIZE) as pilot:  # noqa: F405
        await settle(pilot, app)  # noqa: F405
        colours = set(re.findall(r"fill: ?#([0-9a-f]{6})", app.export_screenshot())) - {SVG_DEFAULT_FOREGROUND}
    return app, colours


def grey(colour: str) -> bool:
    return colour[0:2] == colour[2:4] == colour[4:6]


async def test_no_color_makes_the_console_monochrome(demo_workspace, monkeypatch):
    """Textual reads NO_COLOR when the app is created and adds its Monochrome line filter: every colour
    the screen renders is then a grey (without NO_COLOR the same screen has colours)."""
    _, coloured = await rendered_colours(demo_workspace)
    assert any(not grey(c) for c in coloured)
    monkeypatch.setenv("NO_COLOR", "1")
    app, colours = await rendered_colours(demo_workspace)
    assert app.no_color and any(isinstance(f, Monochrome) for f in app.get_line_filters())
    assert colours and all(grey(c) for c in colours), colours


async def test_80x24_help_and_quit_are_reachable(demo_workspace):
    app = make_app(None)  # noqa: F405   the Connections screen, a table focused
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)  # noqa: F405
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body")
        assert body.region.right <= 80 and body.region.bottom <= 24 and body.region.area > 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running

    lookup = make_app(demo_workspace)  # noqa: F405   the lookup box focused: ? and q are typed, F1 / ctrl+q work
    async with lookup.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lookup)  # noqa: F405
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(lookup.screen, HelpScreen)
        await pilot.press("escape", "tab")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(lookup.screen, HelpScreen)
        await pilot.press("escape", "ctrl+q")
        await pilot.pause()
        assert not lookup.is_running

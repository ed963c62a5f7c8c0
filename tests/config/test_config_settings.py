"""config.toml (idconsole.config.settings): defaults, every kind of bad entry named with its file and line
while the other entries stay in effect, and remembering a theme without disturbing the rest of the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idconsole.config.errors import ConfigError
from idconsole.config.keymap import DEFAULT_THEME, key_problem
from idconsole.config.settings import load_settings, os_user, remember_theme, settings_file


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path


def test_no_file_means_every_default(isolated_dirs):
    settings = load_settings()
    assert settings.path == Path(isolated_dirs["XDG_CONFIG_HOME"]) / "idconsole" / "config.toml" == settings_file()
    assert (settings.exists, settings.problems, settings.given) == (False, (), frozenset())
    assert (settings.theme, settings.default_vendor, settings.log_file, dict(settings.keymap)) == \
        (DEFAULT_THEME, "amplitude", None, {})
    assert settings.operator == os_user() and settings.operator


def test_a_good_file_is_read_in_every_form(tmp_path):
    path = write(tmp_path / "config.toml", """
theme = "dracula"
operator = "  Ana Lima (support)  "
default_vendor = "mixpanel"
log_file = "~/logs/idconsole.log"

[keymap]
"app.help" = "f5"
lookup.copy = ["y", "ctrl+c"]

[keymap.tree]
expand = " l , right "
""")
    settings = load_settings(path)
    assert settings.problems == ()
    assert settings.given == {"theme", "operator", "default_vendor", "log_file", "keymap"}
    assert (settings.theme, settings.operator, settings.default_vendor) == ("dracula", "Ana Lima (support)", "mixpanel")
    assert settings.log_file == Path("~/logs/idconsole.log").expanduser()
    assert dict(settings.keymap) == {"app.help": "f5", "lookup.copy": "y,ctrl+c", "tree.expand": "l,right"}


BAD = """\
theme = "nord"
colour = "red"
operator = 42
default_vendor = "heap"
log_file = "relative/requests.log"

[keymap]
"app.help" = "f5"
"app.hlep" = "f6"
lookup.copy = "ctrl+/"
"lookup.profile" = "control+p"
tree.expand = 5
"staged.drop" = "ctrl+A"
"plan.submit" = "f5,,f6"
"app.quit" = "hyper"
"""


def test_each_bad_entry_is_named_with_its_line_and_the_rest_stays_in_effect(tmp_path):
    path = write(tmp_path / "config.toml", BAD)
    settings = load_settings(path)
    found = {p.line: p.message for p in settings.problems}
    assert sorted(found) == [2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15]
    assert "unknown setting 'colour'" in found[2]
    assert "operator must be a string" in found[3]
    assert "default_vendor must be one of amplitude, mixpanel" in found[4]
    assert "absolute path" in found[5]
    assert "unknown binding id 'app.hlep'" in found[9] and "app.help" in found[9]
    assert "ctrl+slash" in found[10]
    assert "'control' is not a modifier" in found[11]
    assert "must be a string" in found[12]
    assert "ctrl+a" in found[13]
    assert "empty key" in found[14]
    assert "'hyper' is not a key name" in found[15]
    # what was right is in effect; what was wrong is its default
    assert (settings.theme, dict(settings.keymap)) == ("nord", {"app.help": "f5"})
    assert (settings.operator, settings.default_vendor, settings.log_file) == (os_user(), "amplitude", None)
    text = settings.problem_text()
    assert text.count(str(path)) == len(settings.problems) and f"{path} line 9: " in text
    assert "the other settings are in effect" in text


@pytest.mark.parametrize(("content", "line", "words"), [
    ('theme = "nord"\n[keymap\n"app.help" = "f5"\n', 2, "not valid TOML"),
    ('theme = \n', 1, "not valid TOML"),
    ('theme = "nord"\ntheme = "dracula"\n', 2, "not valid TOML"),
    ('theme = "nord"\n"unterminated = "x\n', 2, "not valid TOML"),
    (b'theme = "nord"\noperator = "\xff"\n', 2, "not UTF-8"),
])  # fmt: skip
def test_a_file_that_is_not_toml_gives_one_problem_with_its_line_and_every_default(tmp_path, content, line, words):
    path = write(tmp_path / "config.toml", content)
    settings = load_settings(path)
    (problem,) = settings.problems
    assert (problem.line, problem.path) == (line, path) and words in problem.message
    assert settings.theme == DEFAULT_THEME and not settings.keymap
    assert settings.problem_text().startswith(f"{path} line {line}: ")
    assert settings.problem_text().endswith("idconsole runs with the default settings.")


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "config.toml"
    path.mkdir()
    settings = load_settings(path)
    (problem,) = settings.problems
    assert problem.line is None and "could not be read" in problem.message and str(path) in str(problem)


def test_an_inline_keymap_table_names_the_line_of_the_table(tmp_path):
    path = write(tmp_path / "config.toml", 'theme = "nord"\nkeymap = { "app.hlep" = "f5", "app.help" = "f6" }\n')
    settings = load_settings(path)
    assert [(p.line, "app.hlep" in p.message) for p in settings.problems] == [(2, True)]
    assert dict(settings.keymap) == {"app.help": "f6"}


@pytest.mark.parametrize("name", ["", "   ", "ana\x1b[31m", "a\nb", "x" * 101])
def test_a_hostile_or_empty_operator_name_is_refused(tmp_path, name):
    path = write(tmp_path / "config.toml", f"operator = {json.dumps(name)}\n")
    settings = load_settings(path)
    assert settings.operator == os_user()
    assert [p.line for p in settings.problems] == [1] and "printable" in settings.problems[0].message


@pytest.mark.parametrize("keys", ["f5", "?", "question_mark", "ctrl+s", "ctrl+shift+up", "alt+f4", "shift+tab",
                                  "y,ctrl+c", "pageup", "full_stop", "slash", "less_than_sign", "A", "é",
                                  "section_sign", "ctrl+@"])
def test_keys_textual_can_deliver_are_accepted(keys):
    assert key_problem(keys) is None


@pytest.mark.parametrize("keys", ["", " ", "f5,", "ctrl+", "ctrl++", "control+a", "ctrl+ctrl+a", "ctrl+?",
                                  "ctrl+S", "hyper", "f99", "enterr", "a b", "tab\x00"])
def test_keys_that_can_never_be_pressed_are_refused(keys):
    assert key_problem(keys)


# -- remembering the theme -------------------------------------------------------------------------

def test_remember_theme_keeps_comments_and_every_other_entry(tmp_path):
    original = '# my settings\noperator = "Ana"  # me\ntheme = "nord"\n\n# keys\n[keymap]\n"app.help" = "f5"\n'
    path = write(tmp_path / "config.toml", original)
    remember_theme("dracula", path)
    assert path.read_text() == original.replace('theme = "nord"', 'theme = "dracula"')
    assert load_settings(path).theme == "dracula"


def test_remember_theme_adds_it_above_the_first_table_or_creates_the_file(tmp_path):
    path = write(tmp_path / "a" / "config.toml", '# keys\n[keymap]\n"app.help" = "f5"\n')
    remember_theme("nord", path)
    assert path.read_text() == 'theme = "nord"\n\n# keys\n[keymap]\n"app.help" = "f5"\n'
    assert dict(load_settings(path).keymap) == {"app.help": "f5"}

    fresh = tmp_path / "b" / "config.toml"
    remember_theme("gruvbox", fresh)
    assert fresh.read_text() == 'theme = "gruvbox"\n' and load_settings(fresh).problems == ()

    no_newline = write(tmp_path / "c" / "config.toml", 'operator = "Ana"')
    remember_theme("monokai", no_newline)
    assert no_newline.read_text() == 'operator = "Ana"\ntheme = "monokai"\n'


def test_remember_theme_never_touches_a_broken_file_or_saves_an_unknown_theme(tmp_path):
    broken = write(tmp_path / "config.toml", 'theme = "nord"\n[keymap\n')
    before = broken.read_bytes()
    with pytest.raises(ConfigError, match=r"line 2"):
        remember_theme("dracula", broken)
    assert broken.read_bytes() == before
    with pytest.raises(ConfigError, match="not one of Textual's themes"):
        remember_theme("no-such-theme", tmp_path / "other.toml")
    assert not (tmp_path / "other.toml").exists()

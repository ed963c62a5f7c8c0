"""`idconsole settings path|show`, `--version`, the examples at the end of every `--help`, and NO_COLOR —
through the real command line."""

from __future__ import annotations

import importlib.metadata
import shlex
from pathlib import Path

import pytest
from cli_helpers import json_out, run_cli

import idconsole
from idconsole.cli import build_parser
from idconsole.cli_examples import EXAMPLES, NOT_OURS, subcommands

BAD = '"theme" = "nord"\noperator = 7\n[keymap]\n"app.hlep" = "f5"\n"app.help" = "f6"\n'


def config_path(isolated_dirs) -> Path:
    return Path(isolated_dirs["XDG_CONFIG_HOME"]) / "idconsole" / "config.toml"


def write_config(isolated_dirs, text: str) -> Path:
    path = config_path(isolated_dirs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_settings_path_prints_where_the_file_goes(isolated_dirs):
    result = run_cli("settings", "path")
    assert result.returncode == 0 and result.stdout == f"{config_path(isolated_dirs)}\n"
    from idconsole.config.paths import profiles_file

    assert profiles_file().parent == config_path(isolated_dirs).parent   # beside profiles.toml


def test_settings_show_marks_the_defaults(isolated_dirs):
    result = run_cli("settings", "show")
    assert result.returncode == 0, result.stderr
    assert "not there yet: every setting is a default" in result.stdout
    assert result.stdout.count("(default") == 5

    write_config(isolated_dirs, 'theme = "nord"\n[keymap]\n"app.help" = "f5"\n')
    result = run_cli("settings", "show")
    assert result.returncode == 0 and result.stderr == ""
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.split()}
    assert "(default" not in lines["theme"] and "nord" in lines["theme"]
    assert "(default" in lines["operator"] and "app.help = f5" in lines["keymap"]

    document = json_out(run_cli("settings", "show", "--json"))
    assert document["settings"]["theme"] == {"value": "nord", "default": False}
    assert document["settings"]["operator"]["default"] is True
    assert document["settings"]["keymap"]["value"] == {"app.help": "f5"}
    assert "app.help" in document["binding_ids"] and "nord" in document["themes"]


def test_a_bad_settings_file_is_shown_with_each_problem_and_exit_2(isolated_dirs):
    path = write_config(isolated_dirs, BAD)
    result = run_cli("settings", "show")
    assert result.returncode == 2
    assert f"idconsole: {path} line 2: operator must be a string" in result.stderr
    assert f"idconsole: {path} line 4: unknown binding id 'app.hlep'" in result.stderr
    assert "app.help = f6" in result.stdout     # what is in effect is still shown

    result = run_cli("settings", "show", "--json")
    assert result.returncode == 2
    document = json_out(result)
    assert document["error"]["kind"] == "bad_input" and f"{path} line 4" in document["error"]["message"]
    assert [p["line"] for p in document["problems"]] == [2, 4]


def test_a_headless_command_says_the_settings_problem_once_and_runs(isolated_dirs):
    path = write_config(isolated_dirs, BAD)
    result = run_cli("stage", "list", "--demo", "--json")
    assert result.returncode == 0 and json_out(result) == []
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"idconsole: {path} line 2: ") and f"{path} line 4: " in line


def test_settings_show_file_checks_another_file(tmp_path):
    broken = tmp_path / "new.toml"
    broken.write_text("[keymap\n")
    result = run_cli("settings", "show", "--file", str(broken))
    assert result.returncode == 2 and f"{broken} line 1: not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_is_the_package_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"idconsole {importlib.metadata.version('idconsole')}\n"
    assert idconsole.__version__ == importlib.metadata.version("idconsole")


def _commands() -> list[str]:
    return [path for path, _ in subcommands(build_parser()) if path not in NOT_OURS]


def test_every_command_has_one_or_two_examples_that_parse():
    parser = build_parser()
    for path in _commands():
        examples = EXAMPLES.get(path, ())
        assert 1 <= len(examples) <= 2, f"`idconsole {path}` needs one or two examples in cli_examples.py"
        for example in examples:
            words = shlex.split(example, comments=True)
            words = words[: next((i for i, w in enumerate(words) if w in ("|", ">", "&&")), len(words))]
            assert words[0] == "idconsole" and words[1:len(path.split()) + 1] == path.split(), example
            if words[1:3] == ["sandbox", "serve"]:
                continue
            try:
                parser.parse_args(words[1:])
            except SystemExit:
                pytest.fail(f"the example {example!r} does not parse")


@pytest.mark.parametrize("command", ["", "lookup", "stage import", "profiles add", "settings show", "apply"])
def test_help_ends_with_the_examples(command):
    result = run_cli(*command.split(), "--help")
    assert result.returncode == 0
    tail = result.stdout.rstrip().splitlines()[-len(EXAMPLES[command]):]
    assert [line.strip() for line in tail] == list(EXAMPLES[command])
    assert result.stdout.rstrip().splitlines()[-len(EXAMPLES[command]) - 1].startswith("example")


def test_no_colour_codes_when_no_color_is_set(isolated_dirs):
    """The CLI's own output never colours (FORCE_COLOR and a colour TERM set too, to tempt a library)."""
    write_config(isolated_dirs, BAD)
    env = {"NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color", "PYTHON_COLORS": "1"}
    for args in (("--help",), ("lookup", "--help"), ("--version",), ("settings", "show"), ("stage", "list", "--demo"),
                 ("lookup", "--nope"), ("profile", "nobody@example.com", "--demo")):
        result = run_cli(*args, env=env)
        assert "\x1b[" not in result.stdout + result.stderr, args

"""assets/: the sample CSVs and the example settings file do what the README and their comments say,
through the real command line (the paths are the ones the docs print)."""

from __future__ import annotations

import re

from cli_helpers import REPO, json_out, run_cli

CLEAN = "assets/changes-clean.csv"
MISTAKES = "assets/changes-with-mistakes.csv"
EXAMPLE = "assets/config.example.toml"


def _data_rows(path: str) -> list[str]:
    rows = [line for line in (REPO / path).read_text("utf-8").splitlines() if line and not line.startswith("#")]
    return rows[1:] if rows and rows[0].startswith("op,") else rows


def test_the_clean_csv_stages_every_row_and_plans_without_a_blocking_problem():
    result = run_cli("stage", "import", CLEAN, "--demo")
    assert result.returncode == 0, result.stderr
    staged = json_out(run_cli("stage", "list", "--demo", "--json"))
    assert len(staged) == len(_data_rows(CLEAN)) == 6
    assert [c["op"] for c in staged][:2] == ["unmap", "map"]   # the demo ticket's fix comes first
    plan = run_cli("plan", "--demo", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json_out(plan)["changes"]


def test_the_csv_with_mistakes_names_each_bad_line_and_stages_nothing():
    text = (REPO / MISTAKES).read_text("utf-8")
    lines = text.splitlines()
    promised = {int(m.group(1)) for m in re.finditer(r"^# line (\d+):", text, re.M)}
    fine = {int(m.group(1)) for m in re.finditer(r"^# line (\d+) is fine", text, re.M)}
    assert len(promised) >= 8
    for number in promised | fine:   # each comment sits right above the row it talks about
        assert lines[number - 2].startswith("# line ") and not lines[number - 1].startswith("#")

    result = run_cli("stage", "import", MISTAKES, "--demo")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    reported = {int(n) for n in re.findall(r"^\s+line (\d+): ", result.stderr, re.M)}
    assert reported == promised
    assert f"{len(promised)} bad row(s); nothing was staged" in result.stderr
    # each bad line is a line of its own, the last one too: the hint follows on its own line
    said = result.stderr.rstrip("\n").splitlines()
    assert said[-1] == "Fix them and import the file again."
    assert re.fullmatch(r"  line \d+: .*\)", said[-2]), said[-2]
    assert json_out(run_cli("stage", "list", "--demo", "--json")) == []


def test_the_example_settings_file_is_accepted_as_written():
    result = run_cli("settings", "show", "--file", EXAMPLE, "--json")
    assert result.returncode == 0, result.stderr
    document = json_out(result)
    assert document["problems"] == [] and "error" not in document
    given = {name for name, entry in document["settings"].items() if not entry["default"]}
    assert given == {"theme", "operator", "default_vendor", "keymap"}
    assert document["settings"]["keymap"]["value"]["tree.expand"] == "right,l"

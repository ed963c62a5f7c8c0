"""Ids that can never be right are refused where they are staged — by the CLI's `stage`, the CSV import and
the console's stage dialog, through one function (`staging_refusal`) and so in the same words — and an old
staged file holding one still loads, its plan blocks it and nothing is sent."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cli_helpers import json_out, run_cli, sandbox_env
from textual.widgets import Button, Input, Select
from tui_support import TUI_SIZE, make_app, settle

from idconsole.api.errors import BadInput
from idconsole.changes import CsvImportError, StagedSet, parse_csv_text
from idconsole.changes.model import Change
from idconsole.changes.validate import MAX_ID_LENGTH, change_problems, staging_refusal
from idconsole.config.paths import state_dir
from idconsole.tui.screens.stage_dialog import StageChangeDialog
from idconsole.tui.screens.staged import StagedScreen

GOOD = "hank@globex.net"
NUL_ID = "hank\x00@globex.net"
NEWLINE_ID = "hank@globex.net\nx"
ESC_ID = "hank\x1b[31m@globex.net"
TOO_LONG = "u" * (MAX_ID_LENGTH + 1)
#: every id that can never be right, with what the sentence must say about it
NEVER_RIGHT = {
    "": "is required",
    "   \t ": "is required",
    NUL_ID: "control character (\\x00)",
    NEWLINE_ID: "control character (\\x0a)",
    ESC_ID: "control character (\\x1b)",
    "del\x7fete-user": "control character (\\x7f)",
    "c1-\x9b-user": "control character (\\x9b)",
    "line\u2028break-user": "line break (\\u2028)",
    "bad-\udcff-bytes": "undecodable character (\\udcff)",
    TOO_LONG: f"{MAX_ID_LENGTH + 1:,} characters long",
}
BUILDERS = {
    "map (user)": lambda bad: Change.map(bad, GOOD),
    "map (global)": lambda bad: Change.map(GOOD, bad),
    "unmap": lambda bad: Change.unmap(bad),
    "identify": lambda bad: Change.identify(bad, "$set", {"plan": "pro"}),
    "mp-identify": lambda bad: Change.mp_identify(bad, GOOD),
    "mp-alias": lambda bad: Change.mp_alias(GOOD, bad),
    "mp-merge": lambda bad: Change.mp_merge(bad, GOOD),
}


def raw_map(user: str, target: str) -> Change:
    """A map as an old or hand-edited staged file may hold it (no validation)."""
    return Change.from_json({"op": "map", "user_id": user, "global_user_id": target})


def sentence_for(user: str, target: str) -> str:
    refusal = staging_refusal(raw_map(user, target))
    assert refusal is not None
    return refusal


# --- the one function ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", list(NEVER_RIGHT), ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("kind", list(BUILDERS))
def test_every_kind_refuses_every_id_that_can_never_be_right(kind: str, bad: str) -> None:
    with pytest.raises(BadInput) as info:
        BUILDERS[kind](bad)
    message = info.value.message
    assert NEVER_RIGHT[bad] in message
    # the sentence is safe to print anywhere: no raw control character, the id shown escaped and cut
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\udcff" for c in message)
    assert len(message) < 200


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: Change.map("user-aaaa", "user-aaaa"), 'a user cannot be mapped into itself'),
        (lambda: Change.mp_merge("same-id-1", "same-id-1"), "a merge needs two different ids"),
        (lambda: Change.mp_alias("alias-0001", "alias-0001"), "the alias and the distinct id must differ"),
        (lambda: Change.mp_identify("anon-0001", "anon-0001"), "the anonymous id and the identified id must"),
    ],
)
def test_the_same_id_twice_is_refused(build: Any, words: str) -> None:
    with pytest.raises(BadInput, match=words):
        build()


def test_ids_that_only_look_odd_are_still_staged() -> None:
    # junk-looking, unicode, markup, bidi, exactly the longest: the plan warns about some, staging accepts
    for fine in ("null", " user-0001 ", "ünïcødé-user", "[bold]x[/]", "evil\u202e-id", "u" * MAX_ID_LENGTH, "$(rm)"):
        assert staging_refusal(Change.map(fine, GOOD)) is None, fine


def test_a_self_map_is_left_to_the_plan_but_bad_ids_block_there_too() -> None:
    # change_problems is what the plan blocks as `invalid`; the self-map has its own `self_map` code there
    assert change_problems(raw_map("user-aaaa", "user-aaaa")) == []
    assert any("control character" in p for p in change_problems(raw_map(NUL_ID, GOOD)))


# --- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "target"),
    [("63629@hmail.com", ESC_ID), (NEWLINE_ID, GOOD), ("63629@hmail.com", "63629@hmail.com"), ("  ", GOOD),
     (TOO_LONG, GOOD), (os.fsdecode(b"caf\xe9-user"), GOOD)],
    ids=["esc", "newline", "self-map", "blank", "too-long", "undecodable-bytes"],
)
def test_cli_stage_refuses_with_exit_2_and_one_sentence(sandbox_clean: Any, user: str, target: str) -> None:
    env = sandbox_env(sandbox_clean)
    result = run_cli("stage", "map", user, target, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"idconsole: {sentence_for(user, target)}"
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []


def test_every_cli_stage_command_refuses(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    for args in (["unmap", ESC_ID], ["set", ESC_ID, "plan=pro"], ["mp-identify", "anon-0001", "anon-0001"],
                 ["mp-alias", NEWLINE_ID, GOOD], ["mp-merge", "same-id-1", "same-id-1"]):
        result = run_cli("stage", *args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, args
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []


# --- CSV -------------------------------------------------------------------------------------------


def test_csv_names_the_line_and_uses_the_same_words() -> None:
    text = "\n".join([
        "op,user_id,global_user_id",      # 1
        f"map,user-0001,{GOOD}",          # 2 ok
        f'map,"{NEWLINE_ID}",user-0002',  # 3-4: a quoted newline (the row starts on line 3)
        "map,63629@hmail.com,63629@hmail.com",  # 5 self-map
        f"unmap,{NUL_ID}",                # 6
        f"mp-merge,{ESC_ID},{ESC_ID}",    # 7 (the bad id is reported before the same-ids problem)
        f"set,{TOO_LONG},,plan,pro",      # 8
    ])
    with pytest.raises(CsvImportError) as info:
        parse_csv_text(text, source="fix.csv")
    errors = dict(info.value.errors)
    assert sorted(errors) == [3, 5, 6, 7, 8]
    assert errors[3] == sentence_for(NEWLINE_ID, "user-0002")
    assert errors[5] == sentence_for("63629@hmail.com", "63629@hmail.com")
    assert errors[6] == staging_refusal(Change.from_json({"op": "unmap", "user_id": NUL_ID}))
    assert "first distinct id" in errors[7] and "\\x1b" in errors[7]
    assert "characters long" in errors[8]
    assert "\x00" not in str(info.value) and "\x1b" not in str(info.value)


# --- the console's stage dialog --------------------------------------------------------------------


async def until(pilot: Any, condition: Any, what: str) -> None:
    """Wait (up to ~5 s, a busy machine included) until `condition()` holds."""
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_dialog_gives_the_same_sentence_as_the_cli_and_the_csv(demo_workspace: Any) -> None:
    app = make_app(demo_workspace)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")  # the staged changes, from any screen
        await until(pilot, lambda: isinstance(app.screen, StagedScreen), "the staged changes")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, StageChangeDialog), "the stage dialog")
        dialog = app.screen
        assert isinstance(dialog, StageChangeDialog)
        error = dialog.query_one("#stage-error")

        async def stage(kind: str, values: dict[str, str]) -> str:
            dialog.query_one("#stage-kind", Select).value = kind
            await pilot.pause()
            for name, value in values.items():
                dialog.query_one(f"#input-{name}", Input).value = value
            await pilot.pause()
            before = str(error.content)
            dialog.query_one("#stage-ok", Button).press()
            await until(pilot, lambda: str(error.content) not in ("", before), f"the refusal of {values}")
            assert app.screen is dialog, values
            return str(error.content)

        cases = [{"user_id": "63629@hmail.com", "global_user_id": ESC_ID},
                 {"user_id": "63629@hmail.com", "global_user_id": "63629@hmail.com"},
                 {"user_id": NUL_ID, "global_user_id": GOOD},
                 {"user_id": TOO_LONG, "global_user_id": GOOD}]
        for values in cases:
            shown = await stage("map", values)
            assert shown == sentence_for(values["user_id"], values["global_user_id"])
            assert "\x1b" not in shown and "\x00" not in shown
        # the same words for the Mixpanel kinds (the dialog used to have its own)
        shown = await stage("mp_alias", {"alias": "alias-0001", "distinct_id": "alias-0001"})
        assert shown == staging_refusal(
            Change.from_json({"op": "mp_alias", "alias": "alias-0001", "distinct_id": "alias-0001"}))
        await pilot.press("escape")
        await settle(pilot, app)
    assert len(demo_workspace.staged) == 0


# --- an old staged file ----------------------------------------------------------------------------


def test_an_old_staged_file_with_such_ids_loads_blocks_and_sends_nothing(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    staged = StagedSet.load(state_dir("env") / "staged.json", "env")
    staged.extend([raw_map(NUL_ID, GOOD), raw_map("63629@hmail.com", NEWLINE_ID),
                   raw_map("user-aaaa", "user-aaaa")])
    listing = run_cli("stage", "list", env=env)
    assert listing.returncode == 0 and "hank\\x00@globex.net" in listing.stdout and "\x00" not in listing.stdout
    plan = json_out(run_cli("plan", "--json", env=env))
    blocking = [w["code"] for w in plan["warnings"] if w["severity"] == "blocking"]
    assert blocking.count("invalid") == 2 and "self_map" in blocking
    text = run_cli("plan", env=env).stdout
    assert "control character (\\x00)" in text and "\x00" not in text
    sandbox_clean.clear_requests()
    result = run_cli("apply", "--yes", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [r for r in sandbox_clean.requests() if r["method"] == "POST"] == []
    assert len(json_out(run_cli("stage", "list", "--json", env=env))) == 3  # nothing lost


def test_cli_stage_json_gives_the_error_document_or_what_was_staged(sandbox_clean: Any) -> None:
    env = sandbox_env(sandbox_clean)
    result = run_cli("stage", "map", "63629@hmail.com", ESC_ID, "--json", env=env)
    assert result.returncode == 2
    sentence = sentence_for("63629@hmail.com", ESC_ID)
    assert json_out(result) == {"error": {"kind": "bad_input", "message": sentence}}
    assert result.stderr.strip() == f"idconsole: {sentence}"
    result = run_cli("stage", "map", "63629@hmail.com", GOOD, "--json", env=env)
    assert result.returncode == 0, result.stderr
    staged = json_out(result)
    assert staged["total"] == 1 and [(c["n"], c["user_id"], c["global_user_id"]) for c in staged["staged"]] == [
        (1, "63629@hmail.com", GOOD)]


def test_a_mixpanel_anonymous_id_must_be_a_uuid_v4_device_id():
    # Mixpanel's create-identity API refuses (status 0) any other $anon_id: refused where staged, and a
    # staged file holding one plans as blocked
    for good in ("3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "$device:3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02", "3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02".upper()):
        assert Change.mp_identify(good, "user@example.com")
    for bad in ("anon-0001", "3f6c2a9e-5b1d-1c7e-9a0f-2d8b6e1c4a02", "$device:anon", "3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a02-x"):
        with pytest.raises(BadInput, match="not a UUID v4"):
            Change.mp_identify(bad, "user@example.com")

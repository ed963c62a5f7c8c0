"""The journal for a team: who applied a set and why (operator, ticket, note), "what did we do to hank?"
(filter by user id), and undo of a chosen subset of an entry's changes — the engine's rules on
hand-written journals, and end to end against the served sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from journal_support import write_entry
from test_changes_apply import props_of, seed, state
from test_changes_plan import make_workspace
from test_changes_undo import mappings_of, workspace_on

from idconsole.api.errors import BadInput
from idconsole.changes import (
    BLOCKING,
    Change,
    Journal,
    build_plan,
    check_note,
    check_ticket,
    current_operator,
    entries_touching,
    select_changes,
    undo,
    undo_with_lookup,
)
from idconsole.changes import apply as apply_plan
from idconsole.config import paths
from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER

ANON = "$device:3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a70"
HOSTILE = ["[bold]x[/]", "$(rm -rf ~)", "SUP-1 [link=http://evil]", "Ünïcødé ✓"]




def described(changes: list[Change]) -> list[str]:
    return [c.description() for c in changes]


# --- operator, ticket, note ------------------------------------------------------------------------


def test_ticket_and_note_rules_one_sentence_each():
    assert check_ticket(None) is None and check_ticket("   ") is None and check_note("") is None
    assert check_ticket("  SUP-1234 ") == "SUP-1234"
    for text in HOSTILE:  # markup-looking text is fine: it is stored as given and shown literally
        assert check_note(text) == text
    assert check_ticket("x" * 200) == "x" * 200 and check_note("y" * 2000) == "y" * 2000
    for bad, why in (("SUP\x1b[31m-1", "control character (\\x1b at character 4)"),
                     ("a\nb", "control character (\\x0a"), ("nul\x00", "\\x00"), ("rtl\u202eevil", "\\u202e"),
                     ("x" * 201, "201 characters long; at most 200")):
        with pytest.raises(BadInput) as caught:
            check_ticket(bad)
        message = str(caught.value)
        assert why in message and "\x1b" not in message and "\n" not in message and message.count(". ") == 0
    with pytest.raises(BadInput, match="2001 characters long; at most 2000"):
        check_note("y" * 2001)
    with pytest.raises(BadInput, match="note contains a control character"):
        check_note("line one\rline two")


def test_the_operator_is_the_settings_name_else_the_os_user(monkeypatch):
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "ossupport")
    assert current_operator() == "ossupport"
    settings = paths.config_dir() / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('operator = "Ana (support)"\n', encoding="utf-8")
    assert current_operator() == "Ana (support)"
    settings.write_text('operator = "bad\\u001bname"\n', encoding="utf-8")  # refused by the settings: OS user
    assert current_operator() == "ossupport"

    def no_user() -> str:
        raise KeyError("no passwd entry")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert current_operator() == "unknown"


async def test_apply_records_operator_ticket_and_note(tmp_path):
    ws = make_workspace(tmp_path)
    try:
        await seed(ws, [("user-aaaa", "global-old")])
        ws.staged.add(Change.map("user-aaaa", "global-new"))
        plan = await build_plan(ws)
        with pytest.raises(BadInput, match="control character"):  # refused before anything is sent
            await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False, ticket="T\x07")
        assert ws.journal.entries() == [] and len(ws.staged) == 1
        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False,
                                  operator="ana", ticket=" SUP-77 ", note=HOSTILE[0])
        assert report.exit_code == 0
        entry = ws.journal.require(report.journal_id)
        assert (entry.operator, entry.ticket, entry.note) == ("ana", "SUP-77", HOSTILE[0])
        doc = entry.to_json()
        assert (doc["operator"], doc["ticket"], doc["note"]) == ("ana", "SUP-77", HOSTILE[0])
        assert "by ana" in entry.headline() and "ticket SUP-77" in entry.headline()
        # without them: the current operator, no ticket, no note
        ws.staged.add(Change.unmap("user-aaaa"))
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        entry = ws.journal.require(report.journal_id)
        assert (entry.operator, entry.ticket, entry.note) == (current_operator(), None, None)
    finally:
        await ws.aclose()


def test_old_journal_lines_without_them_still_load(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    write_entry(journal, "20240101-000000-0ld0", [Change.map("user-aaaa", "global-0001")], {})
    write_entry(journal, "20240102-000000-0dd0", [Change.unmap("user-aaaa")], {},
                operator=["not", "text"], ticket=7, note="")  # a hand edit: ignored, not a crash
    for entry in journal.entries():
        assert (entry.operator, entry.ticket, entry.note) == (None, None, None)
        assert entry.headline().endswith("by —  ticket —")
        assert entry.to_json()["operator"] is None and entry.change_status(entry.changes[0].id) == "acked"


# --- journal --user --------------------------------------------------------------------------------


def test_entries_touching_an_id(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    write_entry(journal, "j1", [Change.map("hank", "phone")], {"mappings": {"hank": None}})
    write_entry(journal, "j2", [Change.unmap("hank")], {"mappings": {"hank": "phone"}})
    write_entry(journal, "j3", [Change.identify("sue", "$set", {"friend": "hank"})], {})
    write_entry(journal, "j4", [Change.mp_merge(ANON, "hank-mp")], {})
    write_entry(journal, "j5", [Change.mp_identify(ANON, "sue-mp")], {})
    write_entry(journal, "j6", [Change.map("sue", "global-1")], {"mappings": {"sue": "phone"}})
    entries = journal.entries()
    ids = lambda found: [e.journal_id for e in found]  # noqa: E731
    assert ids(entries_touching(entries, "hank")) == ["j2", "j1"]  # a property value is not an id
    assert ids(entries_touching(entries, "phone")) == ["j6", "j2", "j1"]  # as the global, now or before
    assert ids(entries_touching(entries, ANON)) == ["j5", "j4"]  # Mixpanel ids
    assert ids(entries_touching(entries, "hank-mp")) == ["j4"]
    assert entries_touching(entries, "Hank") == [] and entries_touching(entries, "") == []


# --- undo of a chosen subset ------------------------------------------------------------------------


def test_select_changes_by_number(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    changes = [Change.map(f"user-{i}", "global-1") for i in range(1, 6)]
    write_entry(journal, "j1", changes, {})
    entry = journal.require("j1")
    assert select_changes(entry, "3,1") == [changes[0], changes[2]]  # the entry's order
    assert select_changes(entry, " 2-4 , 4") == changes[1:4]
    assert select_changes(entry, [5]) == [changes[4]]
    for bad, why in (("6", "has 5 change(s), numbered 1 to 5; there is no change 6"), ("0", "numbers start at 1"),
                     ("x", "'x' is not a change number"), ("", "at least one change number"), (",", "at least one"),
                     ("4-2", "a range goes upwards"), ("-1", "'-1' is not a change number"),
                     ("1-999999999", "more than 100000"), ("\x1b[2J", "'\\\\x1b[2J'")):
        with pytest.raises(BadInput) as caught:
            select_changes(entry, bad)
        assert why in str(caught.value), str(caught.value)
        assert "\x1b" not in str(caught.value)


def test_a_subset_of_the_story_fix_is_ordered_on_what_stays(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    fix = [Change.unmap(STORY_USER), Change.map(STORY_PHONE_USER, STORY_USER)]
    write_entry(journal, "j1", fix, {"mappings": {STORY_USER: STORY_PHONE_USER, STORY_PHONE_USER: None}})
    entry = journal.require("j1")
    inverse, notes = undo(entry, only=[fix[1].id])
    assert described(inverse) == [f"unmap {STORY_PHONE_USER}"] and notes == []
    # mapping hank back to the phone while the phone stays mapped to hank would close a cycle: left out
    inverse, notes = undo(entry, only=[fix[0].id])
    assert inverse == [] and "would close a mapping cycle with the mappings this undo leaves in place" in notes[0]
    assert described(undo(entry, only=[c.id for c in fix])[0]) == described(undo(entry)[0])


def test_a_subset_says_what_else_it_takes_back(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    changes = [Change.map("user-aaaa", "global-1"), Change.map("user-aaaa", "global-2"),
               Change.identify("user-bbbb", "$set", {"plan": "pro"}), Change.identify("user-bbbb", "$add", {"plan": 1}),
               Change.identify("user-bbbb", "$add", {"logins": 2}), Change.map("user-cccc", "global-9")]
    write_entry(journal, "j1", changes, {"mappings": {"user-aaaa": "global-0", "user-cccc": None},
                                         "properties": {"user-bbbb": {"plan": "free", "logins": 1}}},
                acked=[1, 2, 3, 4, 5])
    entry = journal.require("j1")
    # the second map alone goes back to what the first one set
    inverse, notes = undo(entry, only=[changes[1].id])
    assert described(inverse) == ["map user-aaaa → global-1"] and notes == []
    # the first alone goes back to the pre-state, which takes the second back too, and says so
    inverse, notes = undo(entry, only=[changes[0].id])
    assert described(inverse) == ["map user-aaaa → global-0"]
    assert "also takes back map user-aaaa → global-2" in notes[0]
    # a $add alone is negated; a $set alone restores the pre-state value, taking back the $add of that key
    inverse, notes = undo(entry, only=[changes[4].id])
    assert described(inverse) == ["identify user-bbbb: $add logins=-2"] and notes == []
    inverse, notes = undo(entry, only=[changes[2].id])
    assert described(inverse) == ["identify user-bbbb: $set plan=\"free\""]
    assert "also takes back identify user-bbbb: $add plan=1" in notes[0]
    # a chosen change the server refused has nothing to undo
    inverse, notes = undo(entry, only=[changes[5].id])
    assert inverse == [] and "did not apply it (rejected)" in notes[0]
    assert "none of the chosen changes was acknowledged" in notes[-1]


@pytest.mark.parametrize("how", ["journal", "lookup"])
async def test_undo_of_part_of_the_story_fix_plans_clean_against_the_served_sandbox(sandbox_clean, tmp_path: Path,
                                                                                      how):
    ws = workspace_on(sandbox_clean, tmp_path)
    try:
        before = mappings_of(sandbox_clean)
        ws.staged.add(Change.unmap(STORY_USER))
        ws.staged.add(Change.map(STORY_PHONE_USER, STORY_USER))
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False,
                                  ticket="SUP-1", note="hank's phone")
        assert report.exit_code == 0, report.to_json()
        entry = ws.journal.require(report.journal_id)
        only = [c.id for c in select_changes(entry, "2")]  # the map of the phone into hank
        inverse, notes = undo(entry, only=only) if how == "journal" else await undo_with_lookup(ws, entry, only=only)
        assert described(inverse) == [f"unmap {STORY_PHONE_USER}"] and notes == []
        ws.staged.extend(inverse)
        plan = await build_plan(ws)
        assert [w for w in plan.warnings if w.severity == BLOCKING] == []
        report = await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0, report.to_json()
        after = mappings_of(sandbox_clean)
        assert STORY_PHONE_USER not in after and STORY_USER not in after  # the fix's unmap stays
        assert {u: g for u, g in after.items() if u not in (STORY_USER, STORY_PHONE_USER)} == \
               {u: g for u, g in before.items() if u not in (STORY_USER, STORY_PHONE_USER)}
        # now that the phone is unmapped, the first change alone can be undone too: the world is back
        now = {u: after.get(u) for u in (STORY_USER, STORY_PHONE_USER)}  # what a lookup reads: both unmapped
        inverse, notes = undo(entry, only=[entry.changes[0].id], current=now) if how == "journal" else \
            await undo_with_lookup(ws, entry, only=[entry.changes[0].id])
        assert described(inverse) == [f"map {STORY_USER} → {STORY_PHONE_USER}"] and notes == []
        ws.staged.extend(inverse)
        plan = await build_plan(ws)
        assert [w for w in plan.warnings if w.severity == BLOCKING] == []
        assert (await apply_plan(ws, plan, acknowledge_warnings=True, allow_irreversible=False)).exit_code == 0
        assert mappings_of(sandbox_clean) == before
    finally:
        await ws.aclose()


async def test_a_subset_of_property_changes_against_the_sandbox(tmp_path):
    ws = make_workspace(tmp_path)
    try:
        await seed(ws, users=[{"user_id": "user-bbbb", "user_properties": {"plan": "free", "logins": 4}}])
        ws.staged.add(Change.identify("user-bbbb", "$set", {"plan": "pro"}))
        ws.staged.add(Change.identify("user-bbbb", "$add", {"logins": 2}))
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        entry = ws.journal.require(report.journal_id)
        inverse, notes = undo(entry, only=[c.id for c in select_changes(entry, "2")])
        assert notes == []
        ws.staged.extend(inverse)
        report = await apply_plan(ws, await build_plan(ws), acknowledge_warnings=True, allow_irreversible=False)
        assert report.exit_code == 0
        assert props_of(await state(ws), "user-bbbb") == {"plan": "pro", "logins": 4}
    finally:
        await ws.aclose()

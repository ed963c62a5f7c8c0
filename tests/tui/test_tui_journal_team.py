"""Pilot tests of the journal for a team in the console: the confirm dialog's Ticket and Note reach the
journal with the operator, `/` filters the journal by user id (the engine's entries_touching), and space
marks changes of an entry so `u` undoes only those (the engine's select_changes and ordered undo).

Everything runs on `Workspace.demo()` (the in-process sandbox); nothing of idconsole is mocked.
"""

from __future__ import annotations

from typing import Any

from journal_support import write_entry
from test_tui_changes import mapped_to, open_confirm, table_text, text_of
from textual.widgets import Button, DataTable, Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole import changes
from idconsole.changes.model import Change
from idconsole.config import paths
from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER
from idconsole.tui.screens.apply_progress import ApplyProgressScreen
from idconsole.tui.screens.journal import JournalScreen
from idconsole.tui.widgets.journal_changes import JournalChanges

NOTE = "[bold]hank[/] phone $(rm -rf ~)"


def write_settings(text: str) -> None:
    path = paths.config_dir() / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def apply_story_fix(ws: Any) -> str:
    ws.staged.add(Change.unmap(STORY_USER))
    ws.staged.add(Change.map(STORY_PHONE_USER, STORY_USER))
    report = await changes.apply(ws, await changes.build_plan(ws), acknowledge_warnings=True,
                                 allow_irreversible=False, ticket="SUP-1", note="the story fix")
    assert report.exit_code == 0, report.to_json()
    return report.journal_id


async def open_journal(app: Any, pilot: Any) -> JournalScreen:
    app.push_screen(JournalScreen())
    await settle(pilot, app)
    assert isinstance(app.screen, JournalScreen)
    return app.screen


async def test_a_ticket_typed_as_soon_as_the_confirm_opens_is_kept(demo_workspace: Any) -> None:
    """Cancel has the focus, yet what a fast typist types first goes into the ticket box (it was lost):
    Enter there moves to the note, Enter in the note moves on, and only the Apply button sends."""
    ws = demo_workspace
    ws.staged.add(Change.map("fresh-user-0002@example.com", "brand-new-global@example.com"))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        confirm = await open_confirm(pilot, app)
        assert app.focused.id == "confirm-cancel"
        await pilot.press(*"SUP-42", "enter", *"wrong way round", "enter")
        await pilot.pause()
        assert app.screen is confirm and ws.journal.entries() == []  # Enter in the boxes never sends
        assert confirm.query_one("#confirm-ticket", Input).value == "SUP-42"
        assert confirm.query_one("#confirm-note", Input).value == "wrong way round"
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        (entry,) = ws.journal.entries()
        assert (entry.ticket, entry.note) == ("SUP-42", "wrong way round")


async def test_the_confirm_dialog_records_ticket_and_note_with_the_operator(demo_workspace: Any) -> None:
    write_settings('operator = "Ana (support)"\n')
    ws = demo_workspace
    ws.staged.add(Change.map("fresh-user-0001@example.com", "brand-new-global@example.com"))
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        confirm = await open_confirm(pilot, app)
        assert app.focused is not None and app.focused.id == "confirm-cancel"  # still the default
        assert "Recorded in the journal as Ana (support)" in text_of(confirm.query_one("#confirm-recorded"))
        ticket = confirm.query_one("#confirm-ticket", Input)
        apply_button = confirm.query_one("#confirm-apply", Button)
        # a ticket the journal would refuse: one sentence, Apply disabled, nothing sent
        ticket.value = "SUP\x1b[2J-9"
        await pilot.pause()
        problem = text_of(confirm.query_one("#confirm-problem"))
        assert "control character (\\x1b at character 4)" in problem and "\x1b" not in problem
        assert apply_button.disabled
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        assert app.screen is confirm and ws.journal.entries() == []
        # typed as a person would; Enter in the boxes moves on and never sends
        ticket.value = ""
        ticket.focus()
        await pilot.press(*"SUP-9", "enter")
        await pilot.pause()
        assert app.screen is confirm and app.focused is not None and app.focused.id == "confirm-note"
        confirm.query_one("#confirm-note", Input).value = NOTE
        await pilot.pause()
        assert not apply_button.disabled and not confirm.query_one("#confirm-problem").display
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is confirm
        await pilot.click("#confirm-apply")
        await settle(pilot, app)
        assert isinstance(app.screen, ApplyProgressScreen) and app.screen.report is not None
        (entry,) = ws.journal.entries()
        assert (entry.operator, entry.ticket, entry.note) == ("Ana (support)", "SUP-9", NOTE)

        # the journal shows them, literally
        await pilot.press("j")
        await settle(pilot, app)
        journal = app.screen
        assert isinstance(journal, JournalScreen)
        meta = text_of(journal.query_one("#journal-detail-meta"))
        assert meta == f"By Ana (support) · ticket SUP-9 · note {NOTE}"


async def test_slash_filters_the_journal_by_user_id(demo_workspace: Any) -> None:
    ws = demo_workspace
    write_entry(ws.journal, "20250101-000000-aaaa", [Change.map("hank", "phone")], {"mappings": {"hank": None}})
    write_entry(ws.journal, "20250102-000000-bbbb", [Change.map("sue", "global-1")], {"mappings": {"sue": "phone"}})
    write_entry(ws.journal, "20250103-000000-cccc", [Change.unmap("[bold]x[/]")], {"mappings": {"[bold]x[/]": None}})
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        journal = await open_journal(app, pilot)
        table = journal.query_one("#journal-table", DataTable)
        assert table.row_count == 3
        assert "By — · ticket — · note —" == text_of(journal.query_one("#journal-detail-meta"))  # old lines
        await pilot.press("slash")
        await pilot.pause()
        box = journal.query_one("#journal-filter", Input)
        assert box.display and app.focused is box
        await pilot.press(*"hank", "enter")
        await pilot.pause()
        assert table.row_count == 1 and "20250101-000000-aaaa" in table_text(table)
        assert app.focused is table
        assert "1 of 3 entries touch 'hank'" in text_of(journal.query_one("#journal-summary"))
        # the phone: as the global now or before
        journal.set_user_filter("phone")
        await pilot.pause()
        assert table.row_count == 2
        journal.set_user_filter("[bold]x[/]")  # markup-looking ids are matched and shown literally
        await pilot.pause()
        assert table.row_count == 1 and "'[bold]x[/]'" in text_of(journal.query_one("#journal-summary"))
        journal.set_user_filter("nobody")
        await pilot.pause()
        assert not table.display and "No entry of this journal touches 'nobody'" in \
            text_of(journal.query_one("#journal-summary"))
        # Esc clears the filter first, then closes the journal
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is journal and table.row_count == 3 and not box.display
        await pilot.press("r")  # a refresh keeps no stale filter
        await settle(pilot, app)
        assert table.row_count == 3
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, JournalScreen)


async def test_space_marks_changes_and_u_undoes_only_those(demo_workspace: Any) -> None:
    ws = demo_workspace
    journal_id = await apply_story_fix(ws)
    assert mapped_to(ws, STORY_PHONE_USER) == STORY_USER
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        journal = await open_journal(app, pilot)
        assert journal.selected_id() == journal_id
        assert "ticket SUP-1 · note the story fix" in text_of(journal.query_one("#journal-detail-meta"))
        rows = journal.query_one("#journal-changes", JournalChanges)
        assert table_text(rows).splitlines()[0].startswith(" | 1 | unmap")
        await pilot.press("enter")  # into the entry's changes
        await pilot.pause()
        assert app.focused is rows
        await pilot.press("down", "space")
        await pilot.pause()
        assert rows.marked == {2} and table_text(rows).splitlines()[1].startswith("✓ | 2 | map")
        assert "Marked: 2" in text_of(journal.query_one("#journal-detail-body"))
        await pilot.press("u")
        await settle(pilot, app)
        assert [c.description() for c in ws.staged] == [f"unmap {STORY_PHONE_USER}"]
        assert rows.marked == set()
        assert any("changes 2 of" in n.message for n in app.notifications)
        assert mapped_to(ws, STORY_PHONE_USER) == STORY_USER  # undo sends nothing by itself
        # space twice unmarks; nothing marked: u undoes the whole entry, in the safe order
        ws.staged.clear()
        await pilot.press("space", "space")
        await pilot.pause()
        assert rows.marked == set()
        await pilot.press("u")
        await settle(pilot, app)
        assert [c.description() for c in ws.staged] == [f"unmap {STORY_PHONE_USER}",
                                                        f"map {STORY_USER} → {STORY_PHONE_USER}"]

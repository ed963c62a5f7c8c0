"""The Connections screen: listing (where secrets live, never their values), add / edit / delete / test /
open against the in-process sandbox, the no-keyring sentence, and hostile text shown literally."""

from __future__ import annotations

import keyring
import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static
from tui_support import SANDBOX_SECRETS, TUI_SIZE, add_profile, make_app, sandbox_transport, settle

from idconsole.config import paths, secrets
from idconsole.config.profiles import load_profiles
from idconsole.sandbox import SandboxConfig
from idconsole.tui.screens.connections import ConnectionsScreen
from idconsole.tui.screens.profile_form import ProfileFormScreen

HOSTILE = "[@click=app.quit]x[/] [bold red]boom[/]"


def rows(app) -> list[list[str]]:
    table = app.screen.query_one("#profiles", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def details(app) -> str:
    return str(app.screen.query_one("#details", Static).render())


def screen_plain(app) -> str:
    """The whole visible screen as text (what a screenshot would show)."""
    return app.export_screenshot()


async def select_row(pilot, app, name: str) -> None:
    table = app.screen.query_one("#profiles", DataTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def fill(pilot, app, **values: str) -> None:
    for widget_id, value in values.items():
        app.screen.query_one(f"#{widget_id}", Input).value = value
    await pilot.pause()


# --- listing -------------------------------------------------------------------------------------------


async def test_empty_list_has_only_the_demo_and_a_welcome(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        assert [r[0] for r in rows(app)] == ["demo"]
        assert app.screen.query_one("#welcome").display
        assert not app.screen.query_one("#keyring-notice").display


async def test_list_says_where_each_secret_lives_and_never_shows_a_value(tui_env, monkeypatch):
    add_profile("acme")  # keyring
    add_profile("beta", vendors=("amplitude", "mixpanel"), secret_values={
        "amplitude_api_key": "beta-api-key-value", "amplitude_secret_key": "beta-secret-value",
    })
    monkeypatch.setenv("IDCONSOLE_MIXPANEL_TOKEN", "env-token-value")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        listed = {r[0]: r for r in rows(app)}
        assert set(listed) == {"acme", "beta", "env", "demo"}
        assert listed["acme"][4] == "keyring"
        assert listed["acme"][1] == "amplitude" and listed["acme"][2] == "US"
        # beta: amplitude keys in the keyring, the Mixpanel token from the environment, no optional secret
        assert listed["beta"][4] == "1 environment, 2 keyring"
        assert listed["env"][4] == "environment"
        assert not app.screen.query_one("#welcome").display
        await select_row(pilot, app, "beta")
        text = " ".join(details(app).split())
        assert "Amplitude API key keyring" in text
        assert "Mixpanel project token environment" in text
        assert "Mixpanel API secret not set" in text
        picture = screen_plain(app)
        for value in ("beta-api-key-value", "beta-secret-value", "env-token-value", *SANDBOX_SECRETS.values()):
            assert value not in picture


async def test_without_a_keyring_the_screen_says_so_and_secrets_are_session_only(no_keyring):
    add_profile("acme")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        notice = app.screen.query_one("#keyring-notice", Static)
        assert notice.display
        assert str(notice.render()) == secrets.NO_KEYRING_MESSAGE
        assert {r[0]: r[4] for r in rows(app)}["acme"] == "session only"


async def test_a_malformed_profiles_file_is_reported_not_fatal(tui_env):
    path = paths.profiles_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[profiles.acme\nregion = 'us'\n")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        problem = app.screen.query_one("#profiles-problem", Static)
        assert problem.display and "is not valid TOML" in str(problem.render())
        assert [r[0] for r in rows(app)] == ["demo"]


# --- add / edit / delete -------------------------------------------------------------------------------


async def test_add_a_profile_through_the_form(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ProfileFormScreen)
        assert form.focused.id == "name"
        await pilot.press(*"acme")
        for widget_id in ("amplitude-api-key", "amplitude-secret-key", "mixpanel-token"):
            assert form.query_one(f"#{widget_id}", Input).password
        form.query_one("#region", Select).value = "eu"
        await fill(pilot, app, **{"amplitude-api-key": "the-key", "amplitude-secret-key": "the secret "})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        saved = load_profiles()["acme"]
        assert saved.region == "eu" and saved.vendors == ("amplitude",)
        assert keyring.get_password("idconsole", "acme:amplitude_api_key") == "the-key"
        assert keyring.get_password("idconsole", "acme:amplitude_secret_key") == "the secret "  # as typed
        assert "the-key" not in paths.profiles_file().read_text()
        assert {r[0]: r[4] for r in rows(app)}["acme"] == "keyring"
        assert app.notifications[-1].message == "Saved profile 'acme'. Secrets kept in the keyring."


async def test_form_refuses_missing_secrets_and_bad_names_inline(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await fill(pilot, app, name="acme", **{"amplitude-api-key": "k"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProfileFormScreen)
        assert "Amplitude: Secret key required." in str(app.screen.query_one("#form-error", Static).render())
        # a hostile name is refused and shown literally; nothing is triggered
        await fill(pilot, app, name=HOSTILE, **{"amplitude-secret-key": "s"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error", Static).render())
        assert "Not a valid profile name" in error and HOSTILE in error
        assert app.is_running and isinstance(app.screen, ProfileFormScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        assert load_profiles() == {}


async def test_mixpanel_service_account_needs_its_secret_and_project(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#use-amplitude", Checkbox).value = False
        form.query_one("#use-mixpanel", Checkbox).value = True
        await pilot.pause()
        assert not form.query_one("#amplitude-fields").display and form.query_one("#mixpanel-fields").display
        await fill(pilot, app, name="mp", **{"mixpanel-token": "t", "mixpanel-sa-username": "svc"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Service account secret required" in str(form.query_one("#form-error", Static).render())
        await fill(pilot, app, **{"mixpanel-sa-secret": "sa"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "needs the project id" in str(form.query_one("#form-error", Static).render())
        await fill(pilot, app, **{"mixpanel-project-id": "42"})
        form.query_one("#mixpanel-merge-mode", Select).value = "simplified"
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = load_profiles()["mp"]
        assert (saved.vendors, saved.sa_username, saved.project_id, saved.merge_mode) == (
            ("mixpanel",), "svc", "42", "simplified")
        assert keyring.get_password("idconsole", "mp:mixpanel_sa_secret") == "sa"


async def test_adding_a_service_account_on_edit_asks_for_its_secret(tui_env):
    add_profile("mp", vendors=("mixpanel",))  # token and API secret, no service account
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "mp")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#mixpanel-sa-secret", Input).placeholder == "not stored"
        await fill(pilot, app, **{"mixpanel-sa-username": "svc", "mixpanel-project-id": "7"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Service account secret required" in str(form.query_one("#form-error", Static).render())


async def test_edit_keeps_stored_secrets_when_left_empty(tui_env):
    add_profile("acme")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ProfileFormScreen)
        assert form.query_one("#name", Input).disabled
        assert form.query_one("#amplitude-api-key", Input).value == ""  # never prefilled
        assert "stored (keyring)" in str(form.query_one("#amplitude-api-key", Input).placeholder)
        form.query_one("#region", Select).value = "in"
        await fill(pilot, app, **{"base-url": "https://proxy.example/"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = load_profiles()["acme"]
        assert saved.region == "in" and saved.base_url == "https://proxy.example"
        assert keyring.get_password("idconsole", "acme:amplitude_api_key") == SANDBOX_SECRETS["amplitude_api_key"]


async def test_a_new_profile_cannot_take_a_listed_name(tui_env):
    add_profile("acme")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await fill(pilot, app, name="acme", **{"amplitude-api-key": "k", "amplitude-secret-key": "s"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProfileFormScreen)  # the typed secrets are not lost
        assert "already exists" in str(app.screen.query_one("#form-error", Static).render())
    assert keyring.get_password("idconsole", "acme:amplitude_api_key") == SANDBOX_SECRETS["amplitude_api_key"]


async def test_taking_a_vendor_off_a_profile_forgets_its_secrets(tui_env):
    add_profile("acme", vendors=("amplitude", "mixpanel"))
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#use-mixpanel", Checkbox).value = False
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert load_profiles()["acme"].vendors == ("amplitude",)
    assert keyring.get_password("idconsole", "acme:mixpanel_token") is None
    assert keyring.get_password("idconsole", "acme:amplitude_api_key") == SANDBOX_SECRETS["amplitude_api_key"]


async def test_delete_asks_first_with_cancel_focused(tui_env):
    add_profile("acme")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("x")
        await pilot.pause()
        assert app.screen.focused.id == "ask-cancel"
        await pilot.press("enter")  # Enter on an unread dialog cancels
        await pilot.pause()
        assert "acme" in load_profiles()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert "acme" not in load_profiles()
        assert keyring.get_password("idconsole", "acme:amplitude_api_key") is None
        assert [r[0] for r in rows(app)] == ["demo"]


async def test_env_and_demo_rows_cannot_be_edited_or_deleted(tui_env, monkeypatch):
    monkeypatch.setenv("IDCONSOLE_AMPLITUDE_API_KEY", "k")
    monkeypatch.setenv("IDCONSOLE_AMPLITUDE_SECRET_KEY", "s")
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        for name in ("env", "demo"):
            await select_row(pilot, app, name)
            await pilot.press("e", "x")
            await pilot.pause()
            assert isinstance(app.screen, ConnectionsScreen)
        assert [n.message for n in app.notifications][-1].startswith("Cannot delete 'demo'")


# --- test and open against the in-process sandbox ------------------------------------------------------


async def test_test_reports_accepted_credentials(tui_env):
    add_profile("acme", vendors=("amplitude", "mixpanel"))
    app = make_app(transport=sandbox_transport())
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("t")
        await settle(pilot, app)
        assert "✓ Credentials accepted: Amplitude, Mixpanel" in details(app)
        # this profile's Mixpanel signs in with an API secret: accepted, and said to be retiring
        assert "2027-03-03" in " ".join(details(app).split())
        assert app.notifications[-1].title == "Test passed"


async def test_test_says_a_token_only_mixpanel_profile_cannot_be_checked(tui_env):
    add_profile("mp", vendors=("mixpanel",), secret_values={"mixpanel_token": SANDBOX_SECRETS["mixpanel_token"]})
    app = make_app(transport=sandbox_transport())
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "mp")
        await pilot.press("t")
        await settle(pilot, app)
        text = " ".join(details(app).split())
        assert ("✓ Credentials accepted: Mixpanel (token only: cannot be checked without a service account "
                "or API secret)") in text
        assert app.notifications[-1].title == "Test passed"


async def test_test_reports_rejected_credentials_clearly(tui_env):
    add_profile("acme", secret_values={"amplitude_api_key": "wrong", "amplitude_secret_key": "wrong"})
    app = make_app(transport=sandbox_transport())
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("t")
        await settle(pilot, app)
        text = details(app)
        assert "✗ Credentials rejected" in text
        note = app.notifications[-1]
        assert note.title == "Test acme: Credentials rejected" and note.markup is False
        assert "wrong" not in note.message  # the rejected value is never echoed
        assert "Traceback" not in text


async def test_test_reports_an_unreachable_service(tui_env):
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    add_profile("acme")
    app = make_app(transport=httpx.MockTransport(refuse))
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("t")
        await settle(pilot, app)
        assert "✗ Service unreachable" in details(app)
        assert app.is_running


async def test_test_the_demo_row(tui_env):
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot, app)
        assert "✓ Credentials accepted" in details(app)


async def test_open_switches_the_workspace_to_the_profile(tui_env):
    add_profile("acme", region="us")
    app = make_app(transport=sandbox_transport())
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.workspace is not None and app.workspace.connection.name == "acme"
        assert app.sub_title == "acme · US"
        assert not isinstance(app.screen, ConnectionsScreen)
        mappings = await app.workspace.client.amplitude.get_mappings(["nobody"])  # reaches the sandbox
        assert isinstance(mappings, dict)


async def test_open_with_missing_secrets_explains_and_opens_the_form(tui_env):
    add_profile("acme", secret_values={"amplitude_api_key": "k"})
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await select_row(pilot, app, "acme")
        await pilot.press("o")
        await pilot.pause()
        assert app.workspace is None
        assert isinstance(app.screen, ProfileFormScreen)
        note = app.notifications[-1]
        assert note.title == "Open acme: Configuration problem"
        assert "Amplitude secret key" in note.message


async def test_hostile_base_url_is_shown_literally(tui_env):
    add_profile("acme", base_url="http://x/" + HOSTILE)
    app = make_app()
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        assert {r[0]: r[3] for r in rows(app)}["acme"].startswith("http://x/[@click=app.quit]x[/]")
        await pilot.click("#profiles")
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize("readonly", [True])
async def test_readonly_still_manages_profiles_but_opens_them_read_only(tui_env, readonly):
    add_profile("acme")
    app = make_app(readonly=readonly, transport=sandbox_transport(SandboxConfig()))
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#profiles", DataTable).has_focus
        await select_row(pilot, app, "acme")
        await pilot.press("o")
        await settle(pilot, app)
        assert app.workspace.readonly and app.readonly
        assert "read-only" in app.sub_title
        assert app.screen.query_one("StatusBar") is not None
        assert not app.query(Button).filter("#save")


# --- resetting the demo world --------------------------------------------------------------------------


async def _change_the_demo_world(ws) -> None:
    """Apply a mapping through the demo sandbox (kept in its sandbox.json) and leave a journal line."""
    import json

    import httpx

    from idconsole.workspace import DEMO_BASE_URL

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app), base_url=DEMO_BASE_URL) as http:
        reply = await http.post("/usermap", data={"api_key": SANDBOX_SECRETS["amplitude_api_key"], "mapping":
                                json.dumps({"user_id": "chain-c@example.com", "global_user_id": "elsewhere"})})
        assert reply.status_code == 200
    ws.journal.path.write_text('{"type": "begin", "journal_id": "j-1"}\n', encoding="utf-8")


async def test_shift_r_resets_the_demo_world_after_a_confirm_with_cancel_focused(tui_env):
    from idconsole.changes.model import Change
    from idconsole.workspace import SANDBOX_FILE, Workspace

    ws = Workspace.demo()
    await _change_the_demo_world(ws)
    ws.staged.add(Change.unmap("hank@globex.net"))
    world = ws.state_dir / SANDBOX_FILE
    app = make_app(ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        await pilot.press("R")
        await pilot.pause()
        assert app.screen.focused.id == "ask-cancel"
        await pilot.press("enter")  # the default is Cancel: nothing changes
        await pilot.pause()
        assert world.exists() and ws.journal.path.exists() and len(ws.staged) == 1
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)
        assert not world.exists() and not ws.journal.path.exists() and len(ws.staged) == 0
        assert len(list(ws.state_dir.glob("journal-*.jsonl"))) == 1
        said = app.notifications[-1]
        assert said.title == "Demo reset" and "back to its story" in said.message and "journal-" in said.message
        # the open console's sandbox answers from the story again
        assert "chain-c@example.com" not in ws.sandbox_app.state.sandbox.state.amplitude.mappings


async def test_reset_demo_from_another_connection_resets_the_demo_files(tui_env):
    from idconsole.workspace import SANDBOX_FILE, Workspace

    demo_ws = Workspace.demo()
    await _change_the_demo_world(demo_ws)
    app = make_app()  # no demo open: the Connections screen
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert not (demo_ws.state_dir / SANDBOX_FILE).exists()
        assert app.workspace is None  # it resets files, it does not open the demo


async def test_reset_demo_is_refused_when_read_only(tui_env):
    from idconsole.workspace import SANDBOX_FILE, Workspace

    demo_ws = Workspace.demo()
    await _change_the_demo_world(demo_ws)
    app = make_app(readonly=True)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionsScreen)  # no dialog
        assert "read-only" in app.notifications[-1].message
        assert (demo_ws.state_dir / SANDBOX_FILE).exists()

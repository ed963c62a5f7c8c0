"""Connection profiles: list, add, edit, delete, test, open — and the one-key way into the demo.

Shows where each secret lives (keyring / environment / session only / missing), never a value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from idconsole.config import secrets
from idconsole.config.errors import ConfigError, MissingSecret
from idconsole.config.profiles import Profile, load_profiles, remove_profile, save_profile
from idconsole.config.resolve import (
    ENV_PROFILE,
    env_profile,
    env_profile_active,
    resolve_connection,
    secret_sources,
)
from idconsole.tui.errors import describe, route_worker_error
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.screens.profile_form import (
    ProfileDraft,
    ProfileFormScreen,
    profile_secret_fields,
    required_secret_fields,
)
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.status_bar import StatusBar

DEMO = "demo"
#: how the connection test names each vendor in its result
VENDOR_LABELS = {"amplitude": "Amplitude", "mixpanel": "Mixpanel"}
NOT_SET = "not set"
SOURCE_STYLES = {
    "keyring": "$success", "environment": "$accent", "session": "$warning", "missing": "bold $error", NOT_SET: "dim",
}
SOURCE_LABELS = {"session": "session only"}


@dataclass
class Entry:
    """One row: a saved profile, the implicit `env` profile, or the demo."""

    name: str
    kind: str  # "saved" | "env" | "demo"
    profile: Profile | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def vendors(self) -> tuple[str, ...]:
        return self.profile.vendors if self.profile else ("amplitude", "mixpanel")

    @property
    def region(self) -> str:
        return self.profile.region if self.profile else "us"

    @property
    def base_url(self) -> str:
        if self.kind == "demo":
            return "embedded sandbox"
        return (self.profile.base_url if self.profile else None) or "vendor default"


def where_secrets_live(profile: Profile) -> dict[str, str]:
    """secret field -> keyring / environment / session / missing; an optional secret that is absent
    (the Mixpanel API secret or service account secret) is "not set" rather than missing."""
    required = required_secret_fields(profile)
    return {
        name: (NOT_SET if source == secrets.MISSING and name not in required else source)
        for name, source in secret_sources(profile).items()
    }


def secrets_summary(entry: Entry) -> Text:
    if entry.kind == "demo":
        return Text("sandbox defaults", style="dim")
    counts = Counter(s for s in entry.sources.values() if s != NOT_SET)
    if len(counts) == 1:
        (source,) = counts
        return Text(SOURCE_LABELS.get(source, source))
    return Text(", ".join(f"{n} {SOURCE_LABELS.get(s, s)}" for s, n in sorted(counts.items())))


async def probe(connection: Any, *, transport: Any = None) -> str:
    """One cheap read per vendor that changes nothing (`idconsole.api.probe.check_vendor`, shared with
    `idconsole profiles test`). Returns what was checked; raises the first vendor's api error."""
    from idconsole.api.client import ApiClient
    from idconsole.api.probe import check_vendor
    from idconsole.api.transport import RetryPolicy

    checked = []
    # a test should answer quickly: one retry, not the five a real call gets
    async with ApiClient(connection, transport=transport, retry=RetryPolicy(attempts=2)) as client:
        for vendor in connection.vendors:
            result = await check_vendor(client, vendor)
            if result.error is not None:
                raise result.error
            label = VENDOR_LABELS[vendor]
            notes = [n for n in (result.note, result.deprecation) if n]  # an API secret: say it is retiring
            checked.append(f"{label} ({'; '.join(notes)})" if notes else label)
    return ", ".join(checked)


class ConnectionsScreen(ConsoleScreen[None]):
    TITLE = "Connections"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "app.open_demo", "Demo", id="connections.demo", tooltip="Open the embedded sandbox with demo data"),
        Binding("o", "open", "Open", id="connections.open", tooltip="Use the selected profile"),
        Binding("a", "add", "Add", id="connections.add", tooltip="Add a profile"),
        Binding("e", "edit", "Edit", id="connections.edit", tooltip="Edit the selected profile"),
        Binding("t", "test", "Test", id="connections.test", tooltip="Check the credentials with one read"),
        Binding("x,delete", "delete", "Delete", id="connections.delete", tooltip="Delete the selected profile"),
        Binding("r", "reload", "Reload", id="connections.reload", show=False, tooltip="Read the profiles again"),
        # not in the footer: it is rare, and it asks first (Cancel focused)
        Binding("R", "reset_demo", "Reset demo", id="connections.reset_demo", show=False,
                tooltip="Put the demo world back to its story and archive the demo journal"),
    ]
    HELP = """\
Your connection profiles. Pick one with the arrows and press **Enter** (or **o**) to open it.

- **d** opens the *demo*: an embedded sandbox with realistic users; nothing leaves this machine.
- **a** adds a profile, **e** edits it, **x** deletes it (after you confirm), **t** tests it with one
  read that changes nothing.
- The *Secrets* column says where the credentials live: the system keyring, the environment
  (`IDCONSOLE_*`), this session only (no keyring), or missing. Values are never shown.
- The `env` row appears when `IDCONSOLE_*` variables are set; edit those in your shell.
- **R** (shift+r) resets the demo world to its story (after you confirm).
"""

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, Entry] = {}
        self._results: dict[str, Content] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="keyring-notice")
        yield Static("", id="profiles-problem")
        yield Static(
            Content.assemble(
                ("Welcome to idconsole. ", "bold"),
                "No connection profile yet: press ", ("d", "bold $text-accent"),
                " to explore the demo (an embedded sandbox, nothing leaves this machine) or ",
                ("a", "bold $text-accent"), " to add a profile.",
            ),
            id="welcome",
        )
        table: DataTable = DataTable(id="profiles", cursor_type="row", zebra_stripes=True)
        table.add_columns("Name", "Vendors", "Region", "Base URL", "Secrets")
        yield table
        yield Static("", id="details")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        notice = secrets.keyring_notice()
        widget = self.query_one("#keyring-notice", Static)
        widget.update(Content(notice or ""))
        widget.display = bool(notice)
        self.reload()
        self.query_one("#profiles", DataTable).focus()

    # --- data -------------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Read the profiles again and redraw the table, keeping (or moving to) the selected row."""
        table = self.query_one("#profiles", DataTable)
        current = select or self.selected_name()
        problem = self.query_one("#profiles-problem", Static)
        entries: list[Entry] = []
        problem.display = False
        try:
            saved = load_profiles()
        except ConfigError as exc:
            saved = {}
            problem.update(literal(str(exc), style="bold $error"))
            problem.display = True
        for profile in saved.values():
            entries.append(Entry(profile.name, "saved", profile, where_secrets_live(profile)))
        if env_profile_active():
            try:
                profile = env_profile()
            except ConfigError as exc:
                problem.update(literal(f"IDCONSOLE_* environment: {exc}", style="bold $error"))
                problem.display = True
            else:
                entries.append(Entry(ENV_PROFILE, "env", profile, where_secrets_live(profile)))
        entries.append(Entry(DEMO, "demo"))
        self._entries = {e.name: e for e in entries}
        self.query_one("#welcome").display = not saved and self.app.workspace is None
        table.clear()
        for entry in entries:
            table.add_row(
                Text(visible(entry.name), style="bold"),
                Text(" + ".join(entry.vendors)),
                Text(entry.region.upper()),
                Text(visible(entry.base_url, limit=40)),
                secrets_summary(entry),
                key=entry.name,
            )
        if current in self._entries:
            table.move_cursor(row=table.get_row_index(current))
        self._show_details()

    def selected_name(self) -> str | None:
        table = self.query_one("#profiles", DataTable)
        if not table.row_count:
            return None
        try:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:  # no valid cursor (empty table)
            return None
        return str(row_key.value)

    def selected(self) -> Entry | None:
        name = self.selected_name()
        return self._entries.get(name) if name else None

    @on(DataTable.RowHighlighted)
    def _show_details(self) -> None:
        entry = self.selected()
        details = self.query_one("#details", Static)
        if entry is None:
            details.update("")
            return
        lines: list[Content] = [literal(entry.name, style="bold")]
        if entry.kind == "demo":
            lines.append(Content("The embedded sandbox with demo data. Credentials: the sandbox defaults."))
        else:
            labels = {name: secrets.FIELD_LABELS.get(name, name) for name in entry.sources}
            width = max((len(label) for label in labels.values()), default=0)
            for name, source in entry.sources.items():
                lines.append(Content.assemble(
                    f"  {labels[name].ljust(width)}  ",
                    (SOURCE_LABELS.get(source, source), SOURCE_STYLES.get(source, "")),
                ))
            if entry.kind == "env":
                lines.append(Content.styled("  From IDCONSOLE_* variables: change them in your shell.", "dim"))
        if entry.name in self._results:
            lines.append(self._results[entry.name])
        details.update(Content("\n").join(lines))

    def _refuse(self, entry: Entry, what: str) -> bool:
        """True (and says why) when `entry` is not a saved profile that can be edited or deleted."""
        if entry.kind == "saved":
            return False
        why = ("comes from the IDCONSOLE_* environment; change it in your shell" if entry.kind == "env"
               else "is built in")
        self.notify(f"Cannot {what} {entry.name!r}: it {why}.", severity="warning", markup=False)
        return True

    # --- actions ----------------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        app = self.app
        if entry.kind == "demo":
            app.action_open_demo()
            return
        try:
            connection = resolve_connection(None if entry.kind == "env" else entry.name)
        except MissingSecret as exc:
            app.show_error(exc, context=f"Open {entry.name}")
            if entry.kind == "saved":
                self._edit(entry)
            return
        except ConfigError as exc:
            app.show_error(exc, context=f"Open {entry.name}")
            return
        from idconsole.workspace import Workspace

        app.set_workspace(Workspace.open(connection, transport=app.transport, readonly=app.readonly))

    def action_add(self) -> None:
        self.app.push_screen(ProfileFormScreen(taken=frozenset(self._entries)), self._saved)

    def action_edit(self) -> None:
        entry = self.selected()
        if entry is not None and not self._refuse(entry, "edit"):
            self._edit(entry)

    def _edit(self, entry: Entry) -> None:
        self.app.push_screen(ProfileFormScreen(entry.profile, dict(entry.sources)), self._saved)

    def _saved(self, draft: ProfileDraft | None) -> None:
        if draft is None:
            return
        name = draft.profile.name
        try:
            save_profile(draft.profile)
        except ConfigError as exc:
            self.app.show_error(exc)
            return
        places = {secrets.store_secret(name, f, s) for f, s in draft.secrets.items()}
        # a vendor taken off the profile takes its secrets with it
        kept = profile_secret_fields(draft.profile)
        for field_name in secrets.SECRET_FIELDS:
            if field_name not in kept:
                secrets.delete_secret(name, field_name)
        where = ""
        if places:
            where = " Secrets kept in the keyring." if places == {"keyring"} else " Secrets kept for this session only."
        self.notify(f"Saved profile {name!r}.{where}", markup=False)
        self.reload(select=name)

    def action_delete(self) -> None:
        entry = self.selected()
        if entry is None or self._refuse(entry, "delete"):
            return
        workspace = self.app.workspace
        if workspace is not None and workspace.connection.name == entry.name and not workspace.is_demo:
            self.notify(f"{entry.name!r} is open; switch to another profile first.", severity="warning",
                        markup=False)
            return

        from idconsole.tui.screens.confirm import AskDialog

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                remove_profile(entry.name)
            except ConfigError as exc:
                self.app.show_error(exc)
                return
            secrets.delete_secrets(entry.name)
            self._results.pop(entry.name, None)
            self.notify(f"Deleted profile {entry.name!r} and its stored secrets.", markup=False)
            self.reload()

        self.app.push_screen(
            AskDialog(
                f"Delete profile {entry.name}?",
                f"This removes {entry.name!r} from profiles.toml and its secrets from the keyring. "
                "Nothing on the server changes.",
                "Delete",
            ),
            confirmed,
        )

    def action_reset_demo(self) -> None:
        from idconsole.tui.screens.demo_reset import ask_reset_demo

        ask_reset_demo(self)

    def action_test(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._test(entry)

    def action_reload(self) -> None:
        self.reload()

    @work(group="connection-test", exclusive=True, exit_on_error=False)
    async def _test(self, entry: Entry) -> None:
        app = self.app
        self._results[entry.name] = Content.styled(f"Testing {entry.name}…", "dim")
        self._show_details()
        transport = app.transport
        try:
            if entry.kind == "demo":
                from idconsole.workspace import fresh_demo_target

                connection, transport = fresh_demo_target()
            else:
                connection = resolve_connection(None if entry.kind == "env" else entry.name)
            checked = await probe(connection, transport=transport)
        except Exception as exc:  # every failure is a result to show here, not a crash
            report = describe(exc)
            result = Content.assemble(("✗ ", "bold $error"), (report.title, "bold $error"), ": ",
                                      literal(report.message))
            self.notify(report.message, title=f"Test {entry.name}: {report.title}", severity="error",
                        markup=False)
        else:
            result = Content.assemble(("✓ ", "bold $success"), "Credentials accepted: ", literal(checked))
            self.notify(f"{entry.name}: credentials accepted ({checked}).", title="Test passed", markup=False)
        self._results[entry.name] = result
        self._show_details()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event)

"""Add or edit a connection profile: name, region, base URL, and per vendor its credentials.

Secrets are typed into password inputs and returned as `Secret`s; the form never shows a stored secret.
Editing leaves a secret input empty to keep what is stored. The form validates and returns a
`ProfileDraft`; the Connections screen saves it (profiles.toml + keyring / session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from idconsole.config import secrets
from idconsole.config.connection import REGIONS
from idconsole.config.errors import ConfigError
from idconsole.config.profiles import MERGE_MODES, Profile
from idconsole.config.resolve import REQUIRED_FIELDS, VENDOR_FIELDS
from idconsole.config.secret import Secret
from idconsole.tui.text import literal

#: secret field -> (input id, label)
SECRET_INPUTS: dict[str, tuple[str, str]] = {
    "amplitude_api_key": ("amplitude-api-key", "API key"),
    "amplitude_secret_key": ("amplitude-secret-key", "Secret key"),
    "mixpanel_token": ("mixpanel-token", "Project token"),
    "mixpanel_api_secret": ("mixpanel-api-secret", "API secret"),
    "mixpanel_sa_secret": ("mixpanel-sa-secret", "Service account secret"),
}
#: where a secret can be kept (anything else, "missing" or "not set", means there is none)
STORED_IN = frozenset({secrets.KEYRING, secrets.ENVIRONMENT, secrets.SESSION})
REGION_LABELS = {"us": "US (amplitude.com)", "eu": "EU (eu.amplitude.com)", "in": "India (in.amplitude.com)"}


def profile_secret_fields(profile: Profile) -> list[str]:
    """The secret fields of the profile's vendors, in form order."""
    return [f for vendor in profile.vendors for f in VENDOR_FIELDS[vendor]]


def required_secret_fields(profile: Profile) -> set[str]:
    """The secrets a profile cannot work without (a service account needs its secret)."""
    required = {f for vendor in profile.vendors for f in REQUIRED_FIELDS[vendor]}
    if profile.has_mixpanel and profile.sa_username:
        required.add("mixpanel_sa_secret")
    return required


@dataclass
class ProfileDraft:
    """What the form produced: the profile (no secret) and the secrets typed in (field -> Secret)."""

    profile: Profile
    secrets: dict[str, Secret] = field(default_factory=dict)
    is_new: bool = True


class ProfileFormScreen(ModalScreen["ProfileDraft | None"]):
    """`ProfileFormScreen(existing=None, stored=None, taken=...)`: `stored` maps secret field -> where it
    lives now; `taken` are names a new profile cannot use."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="profile_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="profile_form.cancel"),
    ]
    HELP = """\
Fill in the profile, then **ctrl+s** (or the Save button). **Esc** cancels, **Tab** moves between fields.

- **Name**: letters, digits, `.`, `_`, `-`. It names the keyring items (`<name>:<field>`).
- **Region** decides which hosts are called (us, eu, in). **Base URL** replaces every host (a proxy,
  or `idconsole sandbox serve`).
- **Amplitude**: the project's API key and secret key.
- **Mixpanel**: the project token, and either the API secret or a service account (username, secret,
  project id). *Merge mode* is your project's ID merge setting.

Secrets go to the system keyring; without one they are kept for this session only. When editing, leave
a secret empty to keep the stored one.
"""

    def __init__(
        self,
        existing: Profile | None = None,
        stored: dict[str, str] | None = None,
        *,
        taken: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self._existing = existing
        self._stored = stored or {}
        #: names a new profile may not take (the ones already listed)
        self._taken = taken

    @property
    def is_new(self) -> bool:
        return self._existing is None

    def compose(self) -> ComposeResult:
        p = self._existing
        title = "Add a connection profile" if p is None else f"Edit profile {p.name}"
        with Vertical(id="profile-form", classes="dialog"):
            yield Static(literal(title), classes="dialog-title")
            with VerticalScroll(id="form-body"):
                yield from self._row("Name", Input(
                    p.name if p else "", placeholder="e.g. acme-prod", id="name", compact=True,
                    disabled=p is not None, max_length=64,
                ))
                yield from self._row("Region", Select(
                    [(REGION_LABELS[r], r) for r in REGIONS], value=p.region if p else "us",
                    allow_blank=False, id="region", compact=True,
                ))
                yield from self._row("Base URL", Input(
                    (p.base_url or "") if p else "", placeholder="optional: https://proxy.example",
                    id="base-url", compact=True,
                ))
                yield Checkbox("Amplitude", p is None or p.has_amplitude, id="use-amplitude", compact=True)
                with Vertical(id="amplitude-fields", classes="vendor-fields"):
                    yield from self._secret_row("amplitude_api_key")
                    yield from self._secret_row("amplitude_secret_key")
                yield Checkbox("Mixpanel", p is not None and p.has_mixpanel, id="use-mixpanel", compact=True)
                with Vertical(id="mixpanel-fields", classes="vendor-fields"):
                    yield from self._secret_row("mixpanel_token")
                    yield Static(Content.styled("Then either the API secret, or a service account:", "dim"),
                                 classes="form-note")
                    yield from self._secret_row("mixpanel_api_secret")
                    yield from self._row("SA username", Input(
                        (p.sa_username or "") if p else "", placeholder="service account username",
                        id="mixpanel-sa-username", compact=True,
                    ))
                    yield from self._secret_row("mixpanel_sa_secret")
                    yield from self._row("Project id", Input(
                        (p.project_id or "") if p else "", placeholder="numeric project id",
                        id="mixpanel-project-id", compact=True,
                    ))
                    yield from self._row("Merge mode", Select(
                        [(m, m) for m in MERGE_MODES], value=p.merge_mode if p else "original",
                        allow_blank=False, id="mixpanel-merge-mode", compact=True,
                    ))
            yield Static("", id="form-error")
            yield Static(Content.styled("ctrl+s saves · Esc cancels · Tab next field · F1 help", "dim"),
                         classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    @staticmethod
    def _row(label: str, widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget

    def _is_stored(self, field_name: str) -> bool:
        return self._stored.get(field_name) in STORED_IN

    def _secret_row(self, field_name: str) -> ComposeResult:
        input_id, label = SECRET_INPUTS[field_name]
        where = self._stored.get(field_name)
        placeholder = f"stored ({where}) – leave empty to keep" if self._is_stored(field_name) else "not stored"
        yield from self._row(label, Input(password=True, placeholder=placeholder, id=input_id, compact=True))

    def on_mount(self) -> None:
        self._sync_vendor_fields()
        self.query_one("#name" if self.is_new else "#region").focus()

    @on(Checkbox.Changed)
    def _sync_vendor_fields(self) -> None:
        for vendor in ("amplitude", "mixpanel"):
            enabled = self.query_one(f"#use-{vendor}", Checkbox).value
            self.query_one(f"#{vendor}-fields").display = enabled

    # --- result -----------------------------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def build_draft(self) -> ProfileDraft:
        """The draft from the fields, or ConfigError saying what to fix."""
        vendors = tuple(v for v in ("amplitude", "mixpanel") if self.query_one(f"#use-{v}", Checkbox).value)
        mixpanel = "mixpanel" in vendors
        profile = Profile(
            name=self._existing.name if self._existing else self._value("#name"),
            region=str(self.query_one("#region", Select).value),
            base_url=self._value("#base-url").rstrip("/") or None,
            vendors=vendors,
            sa_username=(self._value("#mixpanel-sa-username") or None) if mixpanel else None,
            project_id=(self._value("#mixpanel-project-id") or None) if mixpanel else None,
            merge_mode=str(self.query_one("#mixpanel-merge-mode", Select).value) if mixpanel else "original",
        )
        if self.is_new and profile.name in self._taken:
            raise ConfigError(f"A profile named {profile.name!r} already exists; edit it instead.")
        fields = profile_secret_fields(profile)
        typed: dict[str, Secret] = {}
        for field_name in fields:
            # secrets are taken exactly as typed (no strip: a space may be part of one)
            value = self.query_one(f"#{SECRET_INPUTS[field_name][0]}", Input).value
            if value:
                typed[field_name] = Secret(value)

        def have(field_name: str) -> bool:
            return field_name in typed or self._is_stored(field_name)

        required = required_secret_fields(profile)
        missing = [SECRET_INPUTS[f][1] for f in fields if f in required and not have(f)]
        if missing:
            vendor_names = " / ".join(v.capitalize() for v in vendors)
            raise ConfigError(f"{vendor_names}: {', '.join(missing)} required.")
        if mixpanel and profile.sa_username and not profile.project_id:
            raise ConfigError("Mixpanel: a service account needs the project id.")
        if mixpanel and "mixpanel_sa_secret" in typed and not profile.sa_username:
            raise ConfigError("Mixpanel: a service account secret needs the service account username.")
        return ProfileDraft(profile, typed, is_new=self.is_new)

    def action_save(self) -> None:
        try:
            draft = self.build_draft()
        except ConfigError as exc:
            self.query_one("#form-error", Static).update(literal(str(exc), style="bold $error"))
            return
        self.dismiss(draft)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

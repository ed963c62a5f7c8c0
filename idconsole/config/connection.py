"""A resolved connection: one profile with its secrets looked up. The api layer consumes only this."""

from __future__ import annotations

from dataclasses import dataclass, field

from idconsole.config.secret import Secret

REGIONS = ("us", "eu", "in")


@dataclass(frozen=True)
class AmplitudeCredentials:
    api_key: Secret
    secret_key: Secret


@dataclass(frozen=True)
class MixpanelCredentials:
    token: Secret
    api_secret: Secret | None = None
    sa_username: str | None = None
    sa_secret: Secret | None = None
    project_id: str | None = None
    #: "original" or "simplified": Simplified ID Merge projects ignore identity events
    merge_mode: str = "original"


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to the vendors for one profile. Locked to one region."""

    name: str
    region: str = "us"
    base_url: str | None = None
    amplitude: AmplitudeCredentials | None = None
    mixpanel: MixpanelCredentials | None = None
    #: where each secret came from ("keyring", "environment", "session"), for display only
    secret_sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def vendors(self) -> tuple[str, ...]:
        return tuple(v for v, c in (("amplitude", self.amplitude), ("mixpanel", self.mixpanel)) if c)

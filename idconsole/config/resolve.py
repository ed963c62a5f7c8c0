"""Turn a profile name (or the IDCONSOLE_* environment) into a `Connection` with its secrets.

- `resolve_connection(None)`: the implicit profile `env`, made of the IDCONSOLE_* variables.
- `resolve_connection("acme")`: the saved profile, its secrets from the keyring (or this session's
  memory), every IDCONSOLE_* variable that is set overriding the saved value.

`Connection.secret_sources` records per secret field where it came from ("environment", "keyring",
"session") — never the value. A missing required secret raises MissingSecret naming the field and how
to provide it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from idconsole.config import secrets
from idconsole.config.base_url import base_url_problem
from idconsole.config.connection import REGIONS, AmplitudeCredentials, Connection, MixpanelCredentials
from idconsole.config.errors import ConfigError, MissingSecret
from idconsole.config.profiles import MERGE_MODES, Profile, get_profile, load_profiles
from idconsole.config.secret import Secret

ENV_PROFILE = "env"

_AMPLITUDE_ENV = ("IDCONSOLE_AMPLITUDE_API_KEY", "IDCONSOLE_AMPLITUDE_SECRET_KEY")
_MIXPANEL_ENV = (
    "IDCONSOLE_MIXPANEL_TOKEN",
    "IDCONSOLE_MIXPANEL_API_SECRET",
    "IDCONSOLE_MIXPANEL_SA_USERNAME",
    "IDCONSOLE_MIXPANEL_SA_SECRET",
    "IDCONSOLE_MIXPANEL_PROJECT_ID",
)
#: the secrets a vendor cannot work without
REQUIRED_FIELDS = {
    "amplitude": ("amplitude_api_key", "amplitude_secret_key"),
    "mixpanel": ("mixpanel_token",),
}
VENDOR_FIELDS = {
    "amplitude": ("amplitude_api_key", "amplitude_secret_key"),
    "mixpanel": ("mixpanel_token", "mixpanel_api_secret", "mixpanel_sa_secret"),
}


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _get(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var, "")
    return value.strip() or None


def env_profile_active(env: Mapping[str, str] | None = None) -> bool:
    """True when any IDCONSOLE_* connection variable is set (they then form the profile `env`)."""
    env = _env(env)
    return any(_get(env, var) for var in secrets.ALL_ENV_VARS)


def env_vendors(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Vendors the environment gives credentials or settings for."""
    env = _env(env)
    vendors = []
    if any(_get(env, v) for v in _AMPLITUDE_ENV):
        vendors.append("amplitude")
    if any(_get(env, v) for v in _MIXPANEL_ENV):
        vendors.append("mixpanel")
    return tuple(vendors)


def _region(value: str | None, origin: str) -> str:
    region = (value or "us").strip().lower()
    if region not in REGIONS:
        raise ConfigError(f"{origin}: region must be one of {', '.join(REGIONS)}, not {value!r}.")
    return region


def _base_url(value: str | None, origin: str) -> str | None:
    if value is None:
        return None
    problem = base_url_problem(value)
    if problem:
        raise ConfigError(f"{origin} is not a usable base URL: {problem}.", hint=f"Fix {origin}, then run the command again.")
    return value.rstrip("/")


def env_profile(env: Mapping[str, str] | None = None) -> Profile:
    """The implicit profile `env` (settings only; secrets are read by resolve_connection)."""
    env = _env(env)
    vendors = env_vendors(env)
    if not vendors:
        raise ConfigError(
            "No credentials in the environment.",
            hint="Set IDCONSOLE_AMPLITUDE_API_KEY and IDCONSOLE_AMPLITUDE_SECRET_KEY (and/or "
            "IDCONSOLE_MIXPANEL_TOKEN), pass --profile NAME, or use --demo.",
        )
    return Profile(
        name=ENV_PROFILE,
        region=_region(_get(env, "IDCONSOLE_REGION"), "IDCONSOLE_REGION"),
        base_url=_base_url(_get(env, "IDCONSOLE_BASE_URL"), "IDCONSOLE_BASE_URL"),
        vendors=vendors,
        sa_username=_get(env, "IDCONSOLE_MIXPANEL_SA_USERNAME"),
        project_id=_get(env, "IDCONSOLE_MIXPANEL_PROJECT_ID"),
    )


def _with_env_overrides(profile: Profile, env: Mapping[str, str]) -> Profile:
    region = _get(env, "IDCONSOLE_REGION")
    base_url = _get(env, "IDCONSOLE_BASE_URL")
    return Profile(
        name=profile.name,
        region=_region(region, "IDCONSOLE_REGION") if region else profile.region,
        base_url=_base_url(base_url, "IDCONSOLE_BASE_URL") if base_url else profile.base_url,
        vendors=profile.vendors,
        sa_username=_get(env, "IDCONSOLE_MIXPANEL_SA_USERNAME") or profile.sa_username,
        project_id=_get(env, "IDCONSOLE_MIXPANEL_PROJECT_ID") or profile.project_id,
        merge_mode=profile.merge_mode,
    )


def secret_sources(profile: Profile, *, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where each secret of the profile's vendors lives: environment / keyring / session / missing.
    For listings: reads the keyring but returns no value."""
    env = _env(env)
    result: dict[str, str] = {}
    for vendor in profile.vendors:
        for field in VENDOR_FIELDS[vendor]:
            _, source = secrets.get_secret(profile.name, field, env=env)
            result[field] = source
    return result


def how_to_provide(field: str, profile_name: str) -> str:
    var = secrets.SECRET_ENV[field]
    if profile_name == ENV_PROFILE:
        return f"set {var}"
    return f"set {var} or store it with `idconsole profiles add {profile_name}`"


def resolve_profile(profile: Profile, *, env: Mapping[str, str] | None = None) -> Connection:
    """A Connection for a Profile (already carrying any env overrides): secrets looked up."""
    env = _env(env)
    found: dict[str, Secret] = {}
    sources: dict[str, str] = {}
    for vendor in profile.vendors:
        for field in VENDOR_FIELDS[vendor]:
            secret, source = secrets.get_secret(profile.name, field, env=env)
            if secret is not None:
                found[field] = secret
                sources[field] = source

    missing = [f for v in profile.vendors for f in REQUIRED_FIELDS[v] if f not in found]
    if profile.has_mixpanel and profile.sa_username and "mixpanel_sa_secret" not in found:
        missing.append("mixpanel_sa_secret")
    if missing:
        labels = ", ".join(secrets.FIELD_LABELS[f] for f in missing)
        ways = "; ".join(f"{secrets.FIELD_LABELS[f]}: {how_to_provide(f, profile.name)}" for f in missing)
        hint = f"Provide {'it' if len(missing) == 1 else 'them'}: {ways}."
        if profile.name != ENV_PROFILE and not secrets.keyring_available():
            hint += " " + secrets.NO_KEYRING_MESSAGE
        raise MissingSecret(
            f"Profile {profile.name!r} is missing: {labels}.", fields=tuple(missing), hint=hint
        )
    if profile.has_mixpanel and "mixpanel_sa_secret" in found and not profile.sa_username:
        raise ConfigError(
            f"Profile {profile.name!r} has a Mixpanel service account secret but no service account username.",
            hint="Set IDCONSOLE_MIXPANEL_SA_USERNAME or add the profile again with --sa-username.",
        )
    if profile.merge_mode not in MERGE_MODES:  # pragma: no cover - Profile validates it
        raise ConfigError(f"Profile {profile.name!r}: bad merge_mode.")

    amplitude = (
        AmplitudeCredentials(found["amplitude_api_key"], found["amplitude_secret_key"])
        if profile.has_amplitude
        else None
    )
    mixpanel = (
        MixpanelCredentials(
            token=found["mixpanel_token"],
            api_secret=found.get("mixpanel_api_secret"),
            sa_username=profile.sa_username,
            sa_secret=found.get("mixpanel_sa_secret"),
            project_id=profile.project_id,
            merge_mode=profile.merge_mode,
        )
        if profile.has_mixpanel
        else None
    )
    return Connection(
        name=profile.name,
        region=profile.region,
        base_url=profile.base_url,
        amplitude=amplitude,
        mixpanel=mixpanel,
        secret_sources=sources,
    )


def effective_profile(
    name: str | None, *, env: Mapping[str, str] | None = None, profiles_path: Path | None = None
) -> Profile:
    """The Profile a name stands for, env overrides applied (None: the `env` profile)."""
    env = _env(env)
    if name is None or name == ENV_PROFILE:
        if name is None and not env_profile_active(env):
            saved = list(load_profiles(profiles_path))
            hint = (
                f"Pass --profile NAME (saved: {', '.join(saved)}), set IDCONSOLE_* variables, or use --demo."
                if saved
                else "Add one with `idconsole profiles add NAME`, set IDCONSOLE_* variables, or use --demo."
            )
            raise ConfigError("No connection profile selected.", hint=hint)
        return env_profile(env)
    return _with_env_overrides(get_profile(name, profiles_path), env)


def resolve_connection(
    profile: str | None, *, env: Mapping[str, str] | None = None, profiles_path: Path | None = None
) -> Connection:
    """None → the `env` profile from IDCONSOLE_* variables; a name → the saved profile and its
    secrets, environment variables overriding. Raises ConfigError / MissingSecret (exit 2)."""
    env = _env(env)
    return resolve_profile(effective_profile(profile, env=env, profiles_path=profiles_path), env=env)

"""Secrets: the system keyring, the IDCONSOLE_* environment, or an in-memory session store.

Keyring items: service `idconsole`, username `<profile>:<field>`. Environment variables override the
keyring. Where no usable keyring backend exists (the `fail` backend, an empty chainer, the `null`
backend, a plaintext-file backend, or any KeyringError), secrets live in memory for this process only:
there is never a plaintext-file fallback. Nothing here logs, prints or puts a secret in an exception.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

import keyring
import keyring.errors

from idconsole.config.secret import Secret

SERVICE = "idconsole"

SECRET_FIELDS = (
    "amplitude_api_key",
    "amplitude_secret_key",
    "mixpanel_token",
    "mixpanel_api_secret",
    "mixpanel_sa_secret",
)
#: secret field -> the environment variable that overrides it
SECRET_ENV = {
    "amplitude_api_key": "IDCONSOLE_AMPLITUDE_API_KEY",
    "amplitude_secret_key": "IDCONSOLE_AMPLITUDE_SECRET_KEY",
    "mixpanel_token": "IDCONSOLE_MIXPANEL_TOKEN",
    "mixpanel_api_secret": "IDCONSOLE_MIXPANEL_API_SECRET",
    "mixpanel_sa_secret": "IDCONSOLE_MIXPANEL_SA_SECRET",
}
#: non-secret settings the environment can give (or override)
SETTING_ENV = {
    "region": "IDCONSOLE_REGION",
    "base_url": "IDCONSOLE_BASE_URL",
    "sa_username": "IDCONSOLE_MIXPANEL_SA_USERNAME",
    "project_id": "IDCONSOLE_MIXPANEL_PROJECT_ID",
}
ALL_ENV_VARS = tuple(SECRET_ENV.values()) + tuple(SETTING_ENV.values())
#: human names for messages ("the Amplitude secret key")
FIELD_LABELS = {
    "amplitude_api_key": "Amplitude API key",
    "amplitude_secret_key": "Amplitude secret key",
    "mixpanel_token": "Mixpanel project token",
    "mixpanel_api_secret": "Mixpanel API secret",
    "mixpanel_sa_secret": "Mixpanel service account secret",
}

NO_KEYRING_MESSAGE = (
    "No system keyring is available: secrets are kept in memory for this session only "
    "and will be asked again next time."
)

# where a secret came from (Connection.secret_sources values); "missing" only in listings
ENVIRONMENT, KEYRING, SESSION, MISSING = "environment", "keyring", "session", "missing"

_lock = threading.Lock()
_session: dict[tuple[str, str], Secret] = {}
#: set once a keyring operation failed in this process: from then on the session store is used
_keyring_failure: str | None = None


def _username(profile: str, field: str) -> str:
    if field not in SECRET_FIELDS:
        raise ValueError(f"unknown secret field {field!r}")
    return f"{profile}:{field}"


def _usable(backend: object) -> bool:
    from keyring.backends import chainer, fail, null

    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    cls = type(backend)
    if cls.__module__.startswith("keyrings.alt.file") and cls.__name__ == "PlaintextKeyring":
        return False  # a plaintext file is exactly what we promise never to use
    if isinstance(backend, chainer.ChainerBackend):
        return any(_usable(b) for b in backend.backends)
    return True


def keyring_available() -> bool:
    """True when a real keyring backend is configured and has not failed in this process."""
    if _keyring_failure is not None:
        return False
    try:
        return _usable(keyring.get_keyring())
    except Exception:  # a broken keyring configuration is the same as none
        return False


def keyring_notice() -> str | None:
    """The one sentence to show when secrets cannot be kept (None when the keyring works)."""
    return None if keyring_available() else NO_KEYRING_MESSAGE


def _mark_failed(exc: BaseException) -> None:
    global _keyring_failure
    # the exception text may name the backend; it never holds our secret (we never pass it in text)
    _keyring_failure = type(exc).__name__


def env_secret(field: str, env: Mapping[str, str] | None = None) -> Secret | None:
    env = os.environ if env is None else env
    value = env.get(SECRET_ENV[field], "")
    return Secret(value) if value else None


def get_secret(
    profile: str, field: str, *, env: Mapping[str, str] | None = None, use_env: bool = True
) -> tuple[Secret | None, str]:
    """(secret, source) with source "environment", "keyring", "session", or "missing" (secret None)."""
    username = _username(profile, field)
    if use_env:
        secret = env_secret(field, env)
        if secret is not None:
            return secret, ENVIRONMENT
    with _lock:
        session_value = _session.get((profile, field))
    if keyring_available():
        try:
            value = keyring.get_password(SERVICE, username)
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            _mark_failed(exc)
        else:
            if value:
                return Secret(value), KEYRING
    if session_value is not None:
        return session_value, SESSION
    return None, MISSING


def store_secret(profile: str, field: str, secret: Secret) -> str:
    """Keep a secret for this profile: in the keyring when there is one ("keyring"), else in
    memory for this process ("session"). Returns where it went."""
    username = _username(profile, field)
    if not isinstance(secret, Secret):
        raise TypeError("store_secret takes a Secret")
    if keyring_available():
        try:
            keyring.set_password(SERVICE, username, secret.reveal())
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            _mark_failed(exc)
        else:
            with _lock:
                _session.pop((profile, field), None)
            return KEYRING
    with _lock:
        _session[(profile, field)] = secret
    return SESSION


def delete_secret(profile: str, field: str) -> bool:
    """Forget one secret everywhere we keep it. True if something was removed."""
    username = _username(profile, field)
    with _lock:
        removed = _session.pop((profile, field), None) is not None
    if keyring_available():
        try:
            if keyring.get_password(SERVICE, username) is not None:
                keyring.delete_password(SERVICE, username)
                removed = True
        except keyring.errors.PasswordDeleteError:
            pass
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            _mark_failed(exc)
    return removed


def delete_secrets(profile: str) -> list[str]:
    """Forget every secret of a profile. Returns the fields that were removed."""
    return [field for field in SECRET_FIELDS if delete_secret(profile, field)]


def clear_session() -> None:
    """Forget the in-memory secrets and any remembered keyring failure (tests, profile switch)."""
    global _keyring_failure
    with _lock:
        _session.clear()
    _keyring_failure = None

"""Secrets: keyring (an in-memory backend), the no-keyring path (session only, never a file),
environment overrides, the implicit `env` profile, and resolution errors that name the field."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import keyring.errors
import pytest
from cli_helpers import MemoryKeyring
from keyring.backends import chainer, fail, null

from idconsole.config import paths, secrets
from idconsole.config.errors import ConfigError, MissingSecret, ProfileNotFound
from idconsole.config.profiles import Profile, save_profile
from idconsole.config.resolve import env_profile_active, resolve_connection, secret_sources
from idconsole.config.secret import Secret


class LockedKeyring(MemoryKeyring):
    """A backend that exists but refuses every operation (a locked keychain)."""

    def get_password(self, service, username, *args):
        raise keyring.errors.KeyringLocked("locked")

    set_password = delete_password = get_password


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    for var in list(os.environ):
        if var.startswith("IDCONSOLE_"):
            monkeypatch.delenv(var)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    old = keyring.get_keyring()
    secrets.clear_session()
    yield
    keyring.set_keyring(old)
    secrets.clear_session()


@pytest.fixture
def memory_keyring():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring():
    keyring.set_keyring(fail.Keyring())


AMP_ENV = {"IDCONSOLE_AMPLITUDE_API_KEY": "k-ENVKEY", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s-ENVSECRET"}


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# --- keyring --------------------------------------------------------------------------------------


def test_keyring_items_use_service_and_profile_field_username(memory_keyring):
    assert secrets.keyring_available()
    assert secrets.keyring_notice() is None
    assert secrets.store_secret("acme", "amplitude_api_key", Secret("k-1")) == "keyring"
    assert memory_keyring.items == {("idconsole", "acme:amplitude_api_key"): "k-1"}
    value, source = secrets.get_secret("acme", "amplitude_api_key", env={})
    assert (value, source) == (Secret("k-1"), "keyring")
    assert secrets.get_secret("other", "amplitude_api_key", env={}) == (None, "missing")


def test_delete_secrets_removes_every_field(memory_keyring):
    for field in secrets.SECRET_FIELDS:
        secrets.store_secret("acme", field, Secret(f"v-{field}"))
    secrets.store_secret("keep", "mixpanel_token", Secret("t"))
    assert sorted(secrets.delete_secrets("acme")) == sorted(secrets.SECRET_FIELDS)
    assert list(memory_keyring.items) == [("idconsole", "keep:mixpanel_token")]
    assert secrets.delete_secrets("acme") == []


def test_unknown_field_is_a_programming_error(memory_keyring):
    with pytest.raises(ValueError):
        secrets.store_secret("acme", "password", Secret("x"))


def test_environment_overrides_the_keyring(memory_keyring):
    secrets.store_secret("acme", "amplitude_api_key", Secret("k-keyring"))
    assert secrets.get_secret("acme", "amplitude_api_key", env=AMP_ENV) == (Secret("k-ENVKEY"), "environment")


def test_resolve_saved_profile_from_keyring(memory_keyring):
    save_profile(Profile(name="acme", region="eu", vendors=("amplitude", "mixpanel"), sa_username="svc", project_id="7"))
    for field, value in (
        ("amplitude_api_key", "k-V1"), ("amplitude_secret_key", "s-V2"), ("mixpanel_token", "t-V3"),
        ("mixpanel_sa_secret", "sa-V4"),
    ):
        secrets.store_secret("acme", field, Secret(value))
    conn = resolve_connection("acme", env={})
    assert conn.name == "acme" and conn.region == "eu" and conn.vendors == ("amplitude", "mixpanel")
    assert conn.amplitude.api_key.reveal() == "k-V1" and conn.amplitude.secret_key.reveal() == "s-V2"
    assert conn.mixpanel.token.reveal() == "t-V3" and conn.mixpanel.sa_secret.reveal() == "sa-V4"
    assert conn.mixpanel.api_secret is None
    assert (conn.mixpanel.sa_username, conn.mixpanel.project_id, conn.mixpanel.merge_mode) == ("svc", "7", "original")
    assert conn.secret_sources == {
        "amplitude_api_key": "keyring", "amplitude_secret_key": "keyring",
        "mixpanel_token": "keyring", "mixpanel_sa_secret": "keyring",
    }
    assert not any(f"-V{i}" in repr(conn) for i in range(1, 5))  # masked


def test_env_overrides_a_saved_profile(memory_keyring):
    save_profile(Profile(name="acme", region="us", base_url="https://saved.example", vendors=("amplitude",)))
    secrets.store_secret("acme", "amplitude_api_key", Secret("k-keyring"))
    secrets.store_secret("acme", "amplitude_secret_key", Secret("s-keyring"))
    env = {"IDCONSOLE_AMPLITUDE_SECRET_KEY": "s-env", "IDCONSOLE_BASE_URL": "http://127.0.0.1:9/", "IDCONSOLE_REGION": "EU"}
    conn = resolve_connection("acme", env=env)
    assert conn.amplitude.api_key.reveal() == "k-keyring"
    assert conn.amplitude.secret_key.reveal() == "s-env"
    assert conn.base_url == "http://127.0.0.1:9"
    assert conn.region == "eu"
    assert conn.secret_sources == {"amplitude_api_key": "keyring", "amplitude_secret_key": "environment"}


def test_secret_sources_for_listing(memory_keyring):
    profile = Profile(name="acme", vendors=("amplitude", "mixpanel"))
    secrets.store_secret("acme", "mixpanel_token", Secret("t"))
    sources = secret_sources(profile, env={"IDCONSOLE_AMPLITUDE_API_KEY": "k"})
    assert sources == {
        "amplitude_api_key": "environment", "amplitude_secret_key": "missing",
        "mixpanel_token": "keyring", "mixpanel_api_secret": "missing", "mixpanel_sa_secret": "missing",
    }


# --- the implicit env profile ---------------------------------------------------------------------


def test_env_profile_from_environment_variables(memory_keyring):
    env = {
        **AMP_ENV,
        "IDCONSOLE_MIXPANEL_TOKEN": "t-ENV",
        "IDCONSOLE_MIXPANEL_SA_USERNAME": "sa",
        "IDCONSOLE_MIXPANEL_SA_SECRET": "sa-ENV",
        "IDCONSOLE_MIXPANEL_PROJECT_ID": "9",
        "IDCONSOLE_REGION": "in",
        "IDCONSOLE_BASE_URL": "http://127.0.0.1:8765",
    }
    assert env_profile_active(env)
    conn = resolve_connection(None, env=env)
    assert conn.name == "env" and conn.region == "in" and conn.base_url == "http://127.0.0.1:8765"
    assert conn.vendors == ("amplitude", "mixpanel")
    assert conn.mixpanel.sa_username == "sa" and conn.mixpanel.project_id == "9"
    assert set(conn.secret_sources.values()) == {"environment"}
    assert resolve_connection("env", env=env) == conn


def test_env_profile_amplitude_only(no_keyring):
    conn = resolve_connection(None, env=AMP_ENV)
    assert conn.vendors == ("amplitude",) and conn.mixpanel is None and conn.region == "us"


def test_env_profile_reads_os_environ(monkeypatch, no_keyring):
    for k, v in AMP_ENV.items():
        monkeypatch.setenv(k, v)
    assert resolve_connection(None).amplitude.api_key.reveal() == "k-ENVKEY"


def test_env_profile_missing_field_names_the_variable_not_a_value(no_keyring):
    with pytest.raises(MissingSecret) as info:
        resolve_connection(None, env={"IDCONSOLE_AMPLITUDE_API_KEY": "k-ENVKEY"})
    message = str(info.value)
    assert "Amplitude secret key" in message and "IDCONSOLE_AMPLITUDE_SECRET_KEY" in message
    assert "k-ENVKEY" not in message
    assert info.value.fields == ("amplitude_secret_key",)
    assert info.value.exit_code == 2


def test_bad_region_in_environment(no_keyring):
    with pytest.raises(ConfigError, match="IDCONSOLE_REGION"):
        resolve_connection(None, env={**AMP_ENV, "IDCONSOLE_REGION": "mars"})


def test_nothing_selected_says_how_to_choose(no_keyring):
    with pytest.raises(ConfigError) as info:
        resolve_connection(None, env={})
    assert "profiles add" in str(info.value) and "--demo" in str(info.value)
    save_profile(Profile(name="acme"))
    with pytest.raises(ConfigError, match="acme"):
        resolve_connection(None, env={})


def test_unknown_profile(memory_keyring):
    with pytest.raises(ProfileNotFound):
        resolve_connection("nope", env={})


def test_missing_keyring_secret_names_field_and_both_ways(memory_keyring):
    save_profile(Profile(name="acme", vendors=("mixpanel",), sa_username="svc"))
    secrets.store_secret("acme", "mixpanel_token", Secret("t"))
    with pytest.raises(MissingSecret) as info:
        resolve_connection("acme", env={})
    message = str(info.value)
    assert "Mixpanel service account secret" in message
    assert "IDCONSOLE_MIXPANEL_SA_SECRET" in message and "idconsole profiles add acme" in message
    assert "No system keyring" not in message


# --- no keyring backend ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring])
def test_no_backend_means_session_store_with_one_clear_sentence(backend, tmp_path):
    keyring.set_keyring(backend())
    assert not secrets.keyring_available()
    assert secrets.keyring_notice() == secrets.NO_KEYRING_MESSAGE
    assert "keyring" in secrets.NO_KEYRING_MESSAGE and "session" in secrets.NO_KEYRING_MESSAGE
    assert secrets.store_secret("acme", "amplitude_api_key", Secret("k-SESSIONONLY")) == "session"
    assert secrets.get_secret("acme", "amplitude_api_key", env={}) == (Secret("k-SESSIONONLY"), "session")
    # never a plaintext file fallback: nothing under any XDG dir or the temp dir holds the value
    for path in _files_under(tmp_path):
        assert b"k-SESSIONONLY" not in path.read_bytes(), path
    secrets.clear_session()  # a new process: gone
    assert secrets.get_secret("acme", "amplitude_api_key", env={}) == (None, "missing")


def test_empty_chainer_is_no_backend(monkeypatch):
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chainer.ChainerBackend())
    assert not secrets.keyring_available()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    assert secrets.keyring_available()


def test_a_keyring_error_falls_back_to_the_session_for_the_process():
    keyring.set_keyring(LockedKeyring())
    assert secrets.keyring_available()
    assert secrets.store_secret("acme", "mixpanel_token", Secret("t-1")) == "session"
    assert not secrets.keyring_available()
    assert secrets.keyring_notice() == secrets.NO_KEYRING_MESSAGE
    assert secrets.get_secret("acme", "mixpanel_token", env={}) == (Secret("t-1"), "session")


def test_resolve_without_keyring_uses_session_then_says_so_when_missing(no_keyring):
    save_profile(Profile(name="acme"))
    secrets.store_secret("acme", "amplitude_api_key", Secret("k"))
    secrets.store_secret("acme", "amplitude_secret_key", Secret("s"))
    conn = resolve_connection("acme", env={})
    assert conn.secret_sources == {"amplitude_api_key": "session", "amplitude_secret_key": "session"}
    secrets.clear_session()
    with pytest.raises(MissingSecret) as info:
        resolve_connection("acme", env={})
    assert secrets.NO_KEYRING_MESSAGE in str(info.value)
    assert "IDCONSOLE_AMPLITUDE_API_KEY" in str(info.value)


def test_secrets_never_reach_profiles_toml(memory_keyring, tmp_path):
    save_profile(Profile(name="acme", vendors=("amplitude", "mixpanel"), sa_username="svc-user", project_id="3"))
    for field in secrets.SECRET_FIELDS:
        secrets.store_secret("acme", field, Secret(f"SECRET-{field}-VALUE"))
    resolve_connection("acme", env={})
    save_profile(Profile(name="acme", vendors=("amplitude", "mixpanel"), sa_username="svc-user", project_id="3"))
    data = paths.profiles_file().read_bytes()
    assert b"svc-user" in data
    for path in _files_under(tmp_path):
        assert b"SECRET-" not in path.read_bytes(), path


def test_secret_repr_is_masked():
    s = Secret("k-VISIBLE?")
    assert "k-VISIBLE" not in f"{s} {s!r} {s:>20}"

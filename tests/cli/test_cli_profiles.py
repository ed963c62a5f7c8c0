"""`idconsole profiles list|add|remove|test`: subprocesses with no keyring backend (as on CI) and
secrets from the environment, plus in-process runs on a real in-memory keyring backend."""

from __future__ import annotations

import keyring
import pytest
from cli_helpers import MemoryKeyring, amplitude_env, closed_port_url, run_cli, sandbox_env
from sandbox_helpers import MP_API_SECRET

from idconsole.cli import main
from idconsole.config import paths, secrets
from idconsole.config.profiles import load_profiles

NO_KEYRING = secrets.NO_KEYRING_MESSAGE


@pytest.fixture
def memory_keyring():
    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets.clear_session()
    yield backend
    keyring.set_keyring(old)
    secrets.clear_session()


def _secret_free(values) -> None:
    data = paths.profiles_file().read_bytes()
    for value in values:
        assert value.encode() not in data


def test_add_from_environment_without_keyring(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    result = run_cli("profiles", "add", "acme", "--vendor", "amplitude", "--vendor", "mixpanel",
                     "--base-url", sandbox_clean.base_url, "--merge-mode", "simplified", env=env)
    assert result.returncode == 0, result.stderr
    assert NO_KEYRING in result.stderr
    assert "amplitude_api_key     session (taken from IDCONSOLE_AMPLITUDE_API_KEY)" in result.stdout
    profile = load_profiles()["acme"]
    assert profile.vendors == ("amplitude", "mixpanel")
    assert profile.sa_username == "sandbox-sa" and profile.project_id == "1"  # non-secrets from the env
    assert profile.merge_mode == "simplified" and profile.base_url == sandbox_clean.base_url
    _secret_free(v for k, v in env.items() if k in secrets.SECRET_ENV.values())


def test_add_without_terminal_or_environment_fails_and_writes_nothing():
    result = run_cli("profiles", "add", "acme", "--vendor", "amplitude")
    assert result.returncode == 2
    assert "IDCONSOLE_AMPLITUDE_API_KEY" in result.stderr and "Nothing was saved" in result.stderr
    assert not paths.profiles_file().exists()


def test_add_needs_a_vendor():
    result = run_cli("profiles", "add", "acme")
    assert result.returncode == 2 and "--vendor" in result.stderr


@pytest.mark.parametrize("name, needle", [("env", "reserved"), ("demo", "reserved"), ("../etc", "valid profile name")])
def test_add_refuses_bad_names(name, needle):
    result = run_cli("profiles", "add", name, "--vendor", "amplitude", env={"IDCONSOLE_AMPLITUDE_API_KEY": "k"})
    assert result.returncode == 2 and needle in result.stderr


def test_list_shows_where_secrets_live_never_values(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    assert run_cli("profiles", "add", "acme", "--vendor", "amplitude", env=env).returncode == 0
    result = run_cli("profiles", "list")
    assert result.returncode == 0, result.stderr
    assert "acme" in result.stdout and "amplitude_api_key     missing" in result.stdout
    assert NO_KEYRING in result.stderr
    result = run_cli("profiles", "list", env=env)
    assert "amplitude_api_key     environment" in result.stdout
    assert "env  (implicit: the IDCONSOLE_* variables)" in result.stdout
    for value in env.values():
        if value != sandbox_clean.base_url:
            assert value not in result.stdout + result.stderr


def test_list_empty():
    result = run_cli("profiles", "list")
    assert result.returncode == 0 and "No saved profiles" in result.stdout


def test_test_ok_rejected_unreachable(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    assert run_cli("profiles", "add", "acme", "--vendor", "amplitude", "--vendor", "mixpanel", env=env).returncode == 0

    ok = run_cli("profiles", "test", "acme", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "amplitude ok" in " ".join(ok.stdout.split()) and "mixpanel ok" in " ".join(ok.stdout.split())

    bad = run_cli("profiles", "test", "acme", env={**env, "IDCONSOLE_MIXPANEL_SA_SECRET": "bad-SA-SECRET-77"})
    assert bad.returncode == 3, bad.stdout + bad.stderr
    assert "credentials rejected" in bad.stdout and "amplitude ok" in " ".join(bad.stdout.split())
    assert "bad-SA-SECRET-77" not in bad.stdout + bad.stderr

    down = run_cli("profiles", "test", "acme", env={**env, "IDCONSOLE_BASE_URL": closed_port_url()})
    assert down.returncode == 4, down.stdout + down.stderr
    assert "unreachable" in down.stdout


def test_test_a_token_only_mixpanel_profile_says_it_cannot_be_checked(sandbox_clean):
    env = sandbox_env(sandbox_clean, IDCONSOLE_MIXPANEL_SA_USERNAME=None, IDCONSOLE_MIXPANEL_SA_SECRET=None,
                      IDCONSOLE_MIXPANEL_PROJECT_ID=None)
    result = run_cli("profiles", "test", "env", env=env)
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amplitude ok" in out
    assert "mixpanel token only: cannot be checked without a service account or API secret" in out
    assert "mixpanel ok" not in out and "not usable" not in out


def test_test_the_env_profile(sandbox_clean):
    result = run_cli("profiles", "test", "env", env=amplitude_env(sandbox_clean))
    assert result.returncode == 0, result.stdout + result.stderr


def test_test_without_secrets_names_them():
    assert run_cli("profiles", "add", "acme", "--vendor", "amplitude",
                   env={"IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s"}).returncode == 0
    result = run_cli("profiles", "test", "acme")  # a new process: the session store is empty
    assert result.returncode == 2
    assert "IDCONSOLE_AMPLITUDE_API_KEY" in result.stderr and NO_KEYRING in result.stderr


def test_remove(sandbox_clean):
    assert run_cli("profiles", "add", "acme", "--vendor", "amplitude", env=amplitude_env(sandbox_clean)).returncode == 0
    assert run_cli("profiles", "add", "keep", "--vendor", "amplitude", env=amplitude_env(sandbox_clean)).returncode == 0
    result = run_cli("profiles", "remove", "acme")
    assert result.returncode == 0, result.stderr
    assert list(load_profiles()) == ["keep"]
    again = run_cli("profiles", "remove", "acme")
    assert again.returncode == 2 and "No profile named 'acme'" in again.stderr


def test_malformed_profiles_file_is_reported_and_kept():
    path = paths.profiles_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[profiles.a]\nregion = \n")
    for args in (("profiles", "list"), ("profiles", "add", "b", "--vendor", "amplitude"), ("lookup", "x", "--profile", "a")):
        result = run_cli(*args, env={"IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s"})
        assert result.returncode == 2, args
        assert str(path) in result.stderr and "line 2" in result.stderr
    assert path.read_text() == "[profiles.a]\nregion = \n"


def test_saved_profile_used_by_lookup_with_env_secrets(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    assert run_cli("profiles", "add", "acme", "--vendor", "amplitude", "--base-url", sandbox_clean.base_url,
                   env=env).returncode == 0
    secrets_only = {k: v for k, v in env.items() if k != "IDCONSOLE_BASE_URL"}
    result = run_cli("lookup", "chain-a@example.com", "--json", "--profile", "acme", env=secrets_only)
    assert result.returncode == 0, result.stderr
    missing = run_cli("lookup", "chain-a@example.com", "--profile", "nope", env=secrets_only)
    assert missing.returncode == 2 and "acme" in missing.stderr


# --- in-process with a real (in-memory) keyring backend --------------------------------------------


def test_add_prompts_hidden_and_stores_in_keyring(memory_keyring, monkeypatch, capsys):
    answers = iter(["k-PROMPTED", "s-PROMPTED"])
    prompts = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or next(answers))
    assert main(["profiles", "add", "acme", "--vendor", "amplitude", "--region", "eu"]) == 0
    out, err = capsys.readouterr()
    assert "amplitude_api_key     keyring" in out
    assert NO_KEYRING not in err
    assert prompts == ["Amplitude API key for acme: ", "Amplitude secret key for acme: "]
    assert memory_keyring.items == {
        ("idconsole", "acme:amplitude_api_key"): "k-PROMPTED",
        ("idconsole", "acme:amplitude_secret_key"): "s-PROMPTED",
    }
    _secret_free(["k-PROMPTED", "s-PROMPTED"])
    assert "PROMPTED" not in out + err

    assert main(["profiles", "list"]) == 0
    out, _ = capsys.readouterr()
    assert "amplitude_api_key     keyring" in out and "region:   eu" in out

    assert main(["profiles", "remove", "acme"]) == 0
    out, _ = capsys.readouterr()
    assert "2 secret(s) from the keyring" in out
    assert memory_keyring.items == {}


def test_add_empty_prompt_answer_saves_nothing(memory_keyring, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "")
    assert main(["profiles", "add", "acme", "--vendor", "amplitude"]) == 2
    assert "Nothing was saved" in capsys.readouterr().err
    assert not paths.profiles_file().exists() and memory_keyring.items == {}


def test_re_add_drops_secrets_of_a_vendor_no_longer_used(memory_keyring, monkeypatch, capsys):
    for k, v in {"IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s",
                 "IDCONSOLE_MIXPANEL_TOKEN": "t"}.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    assert main(["profiles", "add", "acme"]) == 0  # vendors from the environment
    assert load_profiles()["acme"].vendors == ("amplitude", "mixpanel")
    assert ("idconsole", "acme:mixpanel_token") in memory_keyring.items
    assert main(["profiles", "add", "acme", "--vendor", "amplitude"]) == 0
    assert "Updated profile acme" in capsys.readouterr().out
    assert sorted(u for _, u in memory_keyring.items) == ["acme:amplitude_api_key", "acme:amplitude_secret_key"]


def test_test_tells_a_missing_user_mapping_entitlement_from_bad_credentials(start_sandbox):
    server = start_sandbox("--no-usermap-entitlement")
    result = run_cli("profiles", "test", "env", env=amplitude_env(server))
    out = " ".join(result.stdout.split())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no user-mapping entitlement" in out and "credentials rejected" not in out
    bad = run_cli("profiles", "test", "env", env=amplitude_env(server, IDCONSOLE_AMPLITUDE_SECRET_KEY="nope-nope"))
    assert bad.returncode == 3 and "credentials rejected" in bad.stdout


def test_test_says_an_api_secret_is_deprecated(sandbox_clean):
    env = sandbox_env(sandbox_clean, IDCONSOLE_MIXPANEL_SA_USERNAME=None, IDCONSOLE_MIXPANEL_SA_SECRET=None,
                      IDCONSOLE_MIXPANEL_API_SECRET=MP_API_SECRET)
    result = run_cli("profiles", "test", "env", env=env)
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mixpanel ok" in out and "2027-03-03" in out and "service account" in out
    assert MP_API_SECRET not in result.stdout + result.stderr

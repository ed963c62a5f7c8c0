"""profiles.toml: round trip, atomic writes, malformed files, names, and never a secret in the file."""

from __future__ import annotations

import os

import pytest

from idconsole.config import paths
from idconsole.config.errors import ConfigError, ProfileNotFound
from idconsole.config.profiles import Profile, get_profile, load_profiles, remove_profile, save_profile


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Belt and braces next to conftest's isolated_dirs: nothing here may touch the real config."""
    for var in list(os.environ):
        if var.startswith("IDCONSOLE_"):
            monkeypatch.delenv(var)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))


def _acme(**kw) -> Profile:
    base = dict(
        name="acme",
        region="eu",
        base_url="https://proxy.example",
        vendors=("amplitude", "mixpanel"),
        sa_username="svc.acme",
        project_id="12345",
        merge_mode="simplified",
    )
    base.update(kw)
    return Profile(**base)


def test_round_trip(tmp_path):
    save_profile(_acme())
    save_profile(Profile(name="small", vendors=("amplitude",)))
    profiles = load_profiles()
    assert list(profiles) == ["acme", "small"]
    assert profiles["acme"] == _acme()
    assert profiles["small"] == Profile(name="small")
    assert get_profile("acme").merge_mode == "simplified"
    assert paths.profiles_file().is_file()
    assert str(paths.profiles_file()).startswith(str(tmp_path))


def test_file_shape_is_the_documented_one():
    save_profile(_acme())
    text = paths.profiles_file().read_text()
    assert "[profiles.acme]" in text
    assert "[profiles.acme.amplitude]" in text
    assert "[profiles.acme.mixpanel]" in text
    assert 'sa_username = "svc.acme"' in text
    assert 'merge_mode = "simplified"' in text


def test_replace_and_remove_keep_other_entries_and_unknown_tables():
    path = paths.profiles_file()
    path.parent.mkdir(parents=True)
    path.write_text('[ui]\ntheme = "dark"\n\n[profiles.a]\nregion = "us"\nvendors = ["amplitude"]\nfuture_key = 7\n')
    save_profile(Profile(name="a", region="in", vendors=("amplitude",)))
    save_profile(Profile(name="b"))
    text = path.read_text()
    assert 'theme = "dark"' in text and "future_key = 7" in text
    assert load_profiles()["a"].region == "in"
    assert remove_profile("a") is True
    assert remove_profile("a") is False
    assert list(load_profiles()) == ["b"]
    assert 'theme = "dark"' in path.read_text()


def test_missing_profile_names_the_saved_ones():
    save_profile(Profile(name="one"))
    with pytest.raises(ProfileNotFound) as info:
        get_profile("two")
    assert "'two'" in str(info.value) and "one" in str(info.value)
    assert info.value.exit_code == 2


def test_write_is_atomic_and_leaves_no_temp_files(monkeypatch):
    save_profile(Profile(name="keep"))
    path = paths.profiles_file()
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_profile(Profile(name="new"))
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["profiles.toml"]  # the temp file is gone


def test_written_file_is_private():
    save_profile(Profile(name="p"))
    assert (paths.profiles_file().stat().st_mode & 0o077) == 0


def test_malformed_toml_names_file_and_line_and_is_never_overwritten():
    path = paths.profiles_file()
    path.parent.mkdir(parents=True)
    bad = b'[profiles.a]\nregion = "us"\nvendors = [\n[profiles.b\n'
    path.write_bytes(bad)
    with pytest.raises(ConfigError) as info:
        load_profiles()
    message = str(info.value)
    assert str(path) in message
    assert "line" in message
    assert info.value.exit_code == 2
    with pytest.raises(ConfigError):
        save_profile(Profile(name="c"))
    with pytest.raises(ConfigError):
        remove_profile("a")
    assert path.read_bytes() == bad


@pytest.mark.parametrize(
    "body, needle",
    [
        ('[profiles.a]\nregion = "mars"\n', "region"),
        ('[profiles.a]\nvendors = ["segment"]\n', "vendor"),
        ('[profiles.a]\nvendors = "amplitude"\n', "vendors"),
        ('[profiles.a]\nbase_url = "ftp://x"\n[profiles.a.amplitude]\n', "base_url"),
        ('[profiles.a.mixpanel]\nmerge_mode = "weird"\n', "merge_mode"),
        ('profiles = 3\n', "profiles"),
        ('[profiles."bad name"]\nregion = "us"\n', "not a valid profile name"),
    ],
)
def test_malformed_entries_are_named(body, needle):
    path = paths.profiles_file()
    path.parent.mkdir(parents=True)
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_profiles()
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_a_secret_written_into_the_file_by_hand_is_refused_not_used():
    path = paths.profiles_file()
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.a]\nvendors = ["amplitude"]\n[profiles.a.amplitude]\napi_key = "k-HANDWRITTEN"\n')
    with pytest.raises(ConfigError) as info:
        load_profiles()
    assert "api_key" in str(info.value)
    assert "k-HANDWRITTEN" not in str(info.value)


def test_vendors_default_to_the_tables_present():
    path = paths.profiles_file()
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.a]\nregion = "in"\n[profiles.a.mixpanel]\nproject_id = 42\n')
    profile = load_profiles()["a"]
    assert profile.vendors == ("mixpanel",)
    assert profile.project_id == "42"


@pytest.mark.parametrize("name", ["", "../x", "a/b", "-lead", "x" * 65, "sp ace", "ü"])
def test_invalid_names_are_rejected(name):
    with pytest.raises(ConfigError):
        Profile(name=name)


@pytest.mark.parametrize("name", ["env", "demo"])
def test_reserved_names_cannot_be_saved(name):
    with pytest.raises(ConfigError) as info:
        save_profile(Profile(name=name))
    assert "reserved" in str(info.value)
    assert not paths.profiles_file().exists()


def test_profile_validation():
    with pytest.raises(ConfigError):
        Profile(name="a", vendors=())
    with pytest.raises(ConfigError):
        Profile(name="a", region="mars")

"""Where idconsole keeps things. XDG_* variables isolate all of it (tests and benchmarks use temp dirs)."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs

APP = "idconsole"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def config_dir() -> Path:
    return platformdirs.user_config_path(APP)


def profiles_file() -> Path:
    return config_dir() / "profiles.toml"


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP)


def state_root() -> Path:
    """The directory holding every profile's state directory."""
    return platformdirs.user_state_path(APP)


def state_dir(profile: str) -> Path:
    """Per-profile state (staged.json, journal.jsonl). The name is checked so it cannot escape the dir."""
    if not _SAFE_NAME.match(profile):
        raise ValueError(f"not a valid profile name: {profile!r}")
    return state_root() / profile


def is_valid_profile_name(name: str) -> bool:
    return bool(_SAFE_NAME.match(name))

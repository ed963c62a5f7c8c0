"""Named connection profiles in `profiles.toml` (paths.profiles_file()). No secret is ever written here.

```toml
[profiles.acme]
region = "us"                      # us | eu | in
base_url = "https://proxy.example" # optional: one base URL for every host
vendors = ["amplitude", "mixpanel"]

[profiles.acme.amplitude]          # presence only: the keys live in the keyring

[profiles.acme.mixpanel]
sa_username = "svc.acme"           # not secret
project_id = "12345"
merge_mode = "original"            # original | simplified
```

Writes are atomic (temp file in the same directory, fsync, rename). A file that is not valid TOML, or
whose profiles are malformed, raises ConfigError naming the file (and the line) and is never overwritten.
Tables and keys this version does not know are kept when a profile is saved or removed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from idconsole.config import paths
from idconsole.config.atomic import atomic_write
from idconsole.config.base_url import base_url_problem
from idconsole.config.connection import REGIONS
from idconsole.config.errors import ConfigError, ProfileNotFound

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VENDORS = ("amplitude", "mixpanel")
MERGE_MODES = ("original", "simplified")
#: names the console gives to profiles it makes up; a saved profile cannot take them
RESERVED_NAMES = frozenset({"env", "demo"})
#: keys that must never appear in the file (a hand-edited secret is refused, not used)
_SECRET_KEYS = frozenset({
    "api_key", "secret_key", "token", "api_secret", "sa_secret", "secret", "password",
    "amplitude_api_key", "amplitude_secret_key", "mixpanel_token", "mixpanel_api_secret", "mixpanel_sa_secret",
})


@dataclass(frozen=True)
class Profile:
    """The non-secret half of a connection profile."""

    name: str
    region: str = "us"
    base_url: str | None = None
    vendors: tuple[str, ...] = ("amplitude",)
    sa_username: str | None = None
    project_id: str | None = None
    merge_mode: str = "original"

    def __post_init__(self) -> None:
        validate_profile_name(self.name)
        if self.region not in REGIONS:
            raise ConfigError(f"Profile {self.name!r}: region must be one of {', '.join(REGIONS)}, not {self.region!r}.")
        if not self.vendors:
            raise ConfigError(f"Profile {self.name!r} has no vendor.", hint="Use --vendor amplitude and/or --vendor mixpanel.")
        for vendor in self.vendors:
            if vendor not in VENDORS:
                raise ConfigError(f"Profile {self.name!r}: unknown vendor {vendor!r} (known: {', '.join(VENDORS)}).")
        if self.merge_mode not in MERGE_MODES:
            raise ConfigError(
                f"Profile {self.name!r}: merge_mode must be one of {', '.join(MERGE_MODES)}, not {self.merge_mode!r}."
            )
        problem = None if self.base_url is None else base_url_problem(self.base_url)
        if problem:
            raise ConfigError(f"Profile {self.name!r}: base_url is not usable: {problem}.")

    @property
    def has_amplitude(self) -> bool:
        return "amplitude" in self.vendors

    @property
    def has_mixpanel(self) -> bool:
        return "mixpanel" in self.vendors

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"region": self.region}
        if self.base_url:
            table["base_url"] = self.base_url
        table["vendors"] = list(self.vendors)
        if self.has_amplitude:
            table["amplitude"] = {}
        if self.has_mixpanel:
            mp: dict[str, Any] = {"merge_mode": self.merge_mode}
            if self.sa_username:
                mp["sa_username"] = self.sa_username
            if self.project_id:
                mp["project_id"] = self.project_id
            table["mixpanel"] = mp
        return table

    @classmethod
    def from_toml(cls, name: str, table: Any, *, source: Path | None = None) -> Profile:
        where = f" in {source}" if source else ""
        if not isinstance(table, dict):
            raise ConfigError(f"Profile {name!r}{where} is not a table.", hint="Fix or remove it.")
        _refuse_secrets(name, table, where)
        vendors = table.get("vendors")
        if vendors is None:  # older/hand-written files: presence of the vendor tables
            vendors = [v for v in VENDORS if v in table]
        if not isinstance(vendors, list) or not all(isinstance(v, str) for v in vendors):
            raise ConfigError(f"Profile {name!r}{where}: vendors must be a list of names.")
        mp = table.get("mixpanel", {})
        if not isinstance(mp, dict):
            raise ConfigError(f"Profile {name!r}{where}: [profiles.{name}.mixpanel] must be a table.")
        try:
            return cls(
                name=name,
                region=_opt_str(table, "region", name, where) or "us",
                base_url=_opt_str(table, "base_url", name, where),
                vendors=tuple(dict.fromkeys(vendors)),
                sa_username=_opt_str(mp, "sa_username", name, where),
                project_id=_opt_str(mp, "project_id", name, where, allow_int=True),
                merge_mode=_opt_str(mp, "merge_mode", name, where) or "original",
            )
        except ConfigError as exc:
            if source is None or str(source) in exc.message:
                raise
            raise ConfigError(f"{exc.message.rstrip('.')} ({source}).", hint=exc.hint or "Fix or remove it.") from None


def validate_profile_name(name: str, *, allow_reserved: bool = True) -> None:
    if not isinstance(name, str) or not paths.is_valid_profile_name(name):
        raise ConfigError(
            f"Not a valid profile name: {name!r}.",
            hint="Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    if not allow_reserved and name in RESERVED_NAMES:
        raise ConfigError(
            f"The profile name {name!r} is reserved ({'the IDCONSOLE_* environment' if name == 'env' else '--demo'}).",
            hint="Pick another name.",
        )


def _opt_str(table: dict[str, Any], key: str, name: str, where: str, *, allow_int: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ConfigError(f"Profile {name!r}{where}: {key} must be a string.")
    return value


def _refuse_secrets(name: str, table: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        if key in _SECRET_KEYS:
            raise ConfigError(
                f"Profile {name!r}{where} holds a secret ({key!r}); idconsole never reads secrets from this file.",
                hint=f"Delete that line and store it with `idconsole profiles add {name}` (keyring) "
                "or an IDCONSOLE_* environment variable.",
            )
        if isinstance(value, dict):
            _refuse_secrets(name, value, where)


# --- the file ---------------------------------------------------------------------------------------


def _read_document(path: Path) -> dict[str, Any]:
    """The whole TOML document (unknown tables kept). A missing file is an empty document."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text.", hint="Fix or remove it; idconsole did not change it.") from None
    except tomllib.TOMLDecodeError as exc:
        # the message carries "(at line N, column M)"
        raise ConfigError(f"{path} is not valid TOML: {exc}.", hint="Fix or remove it; idconsole did not change it.") from None
    except RecursionError:  # tomllib recurses once per nesting level
        raise ConfigError(f"{path} is not usable: its values are nested too deeply.",
                          hint="Fix or remove it; idconsole did not change it.") from None
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: `profiles` must be a table ([profiles.NAME]).", hint="Fix or remove it.")
    return doc


def _write_document(path: Path, doc: dict[str, Any]) -> None:
    """Atomic replace, owner-only (0600): temp file in the same directory, fsync, rename, fsync the directory."""
    atomic_write(path, tomli_w.dumps(doc).encode("utf-8"), mode=0o600)


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Every saved profile by name, in file order. ConfigError if the file or an entry is malformed."""
    path = path or paths.profiles_file()
    doc = _read_document(path)
    result: dict[str, Profile] = {}
    for name, table in doc.get("profiles", {}).items():
        if not paths.is_valid_profile_name(name):
            raise ConfigError(f"{path}: {name!r} is not a valid profile name.", hint="Rename or remove it.")
        result[name] = Profile.from_toml(name, table, source=path)
    return result


def get_profile(name: str, path: Path | None = None) -> Profile:
    validate_profile_name(name)
    profiles = load_profiles(path)
    if name not in profiles:
        raise ProfileNotFound(name, list(profiles))
    return profiles[name]


def save_profile(profile: Profile, path: Path | None = None) -> None:
    """Add or replace one profile; the rest of the file is kept. Refuses reserved names."""
    validate_profile_name(profile.name, allow_reserved=False)
    path = path or paths.profiles_file()
    doc = _read_document(path)  # raises on a malformed file: it is then never overwritten
    profiles = dict(doc.get("profiles", {}))
    old = profiles.get(profile.name)
    new = profile.to_toml()
    if isinstance(old, dict):  # keep keys a newer version wrote
        for key, value in old.items():
            if key not in new and key not in ("base_url", "amplitude", "mixpanel", "vendors"):
                new[key] = value
    profiles[profile.name] = new
    doc["profiles"] = profiles
    _write_document(path, doc)


def remove_profile(name: str, path: Path | None = None) -> bool:
    """Remove the entry. False if there was none."""
    validate_profile_name(name)
    path = path or paths.profiles_file()
    doc = _read_document(path)
    profiles = dict(doc.get("profiles", {}))
    if name not in profiles:
        return False
    del profiles[name]
    doc["profiles"] = profiles
    _write_document(path, doc)
    return True

"""User settings in `config.toml`, beside profiles.toml (platformdirs; XDG_CONFIG_HOME isolates it).

```toml
theme = "nord"                 # a Textual theme; one chosen in the palette is written here
operator = "Ana (support)"     # the name the journal records (default: the OS user)
default_vendor = "mixpanel"    # lookups and profiles when --vendor is not given: amplitude | mixpanel
log_file = "~/idconsole-requests.log"   # the request log, as `--log-file` (absolute or ~)

[keymap]                       # binding id -> key(s), Textual's names, several joined by commas
"app.help" = "f5"              # or, the same: app.help = "f5"
"lookup.copy" = "y,ctrl+c"
```

A bad file never stops idconsole: each bad entry (unknown setting or binding id, a key that can never be
pressed, a wrong type) is a `SettingProblem` naming the file and line, and its default is used; a file
that is not TOML at all gives one problem and every default. The faces show `Settings.problem_text()`.
"""

from __future__ import annotations

import getpass
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idconsole.config import paths
from idconsole.config.atomic import atomic_write
from idconsole.config.errors import ConfigError
from idconsole.config.keymap import BINDING_IDS, DEFAULT_THEME, THEMES, key_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VENDORS = ("amplitude", "mixpanel")
#: the settings a file may hold, in the order `settings show` prints them
NAMES = ("theme", "operator", "default_vendor", "log_file", "keymap")
MAX_OPERATOR = 100


def settings_file() -> Path:
    return paths.config_dir() / "config.toml"


def os_user() -> str:
    """The OS user name, the operator when the settings name none."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError, ImportError):  # no passwd entry (containers), no USER variable
        return "unknown"


@dataclass(frozen=True)
class SettingProblem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path} line {self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Settings:
    """The settings in effect. `given` names those the file set (the others are defaults)."""

    path: Path
    theme: str = DEFAULT_THEME
    operator: str = field(default_factory=os_user)
    default_vendor: str = "amplitude"
    log_file: Path | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    given: frozenset[str] = frozenset()
    problems: tuple[SettingProblem, ...] = ()
    exists: bool = False
    #: True when the file could not be read as TOML at all (then every setting is a default)
    unusable: bool = False

    def problem_text(self) -> str:
        """One message for every problem, or "" when there is none."""
        if not self.problems:
            return ""
        said = "; ".join(str(p).rstrip(".") for p in self.problems)
        if self.unusable:
            return f"{said}. idconsole runs with the default settings."
        return f"{said}. The default is used for each of these; the other settings are in effect."


def load_settings(path: Path | None = None) -> Settings:
    """The settings of `path` (default: settings_file()). Never raises for what is in the file."""
    path = settings_file() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(path)
    except OSError as exc:
        return _unusable(path, None, f"could not be read ({(exc.strerror or type(exc).__name__).lower()})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _unusable(path, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = _toml_problem(path, text, exc)
        return _unusable(path, problem.line, problem.message)
    except RecursionError:
        return _unusable(path, None, "values nested too deeply")
    return _Reader(path, text).read(doc)


def _unusable(path: Path, line: int | None, message: str) -> Settings:
    return Settings(path, exists=True, unusable=True, problems=(SettingProblem(path, line, message),))


def _toml_problem(path: Path, text: str, exc: Exception) -> SettingProblem:
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column \d+\)\s*$", message)
    if found:
        return SettingProblem(path, int(found.group(1)), f"not valid TOML: {message[: found.start()]}")
    end = re.search(r"\s*\(at end of document\)\s*$", message)
    if end:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        return SettingProblem(path, max(line, 1), f"not valid TOML: {message[: end.start()]} (at the end)")
    return SettingProblem(path, None, f"not valid TOML: {message}")


class _Reader:
    """Checks one parsed document entry by entry, each problem with its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)
        self.problems: list[SettingProblem] = []

    def problem(self, key: tuple[str, ...], message: str) -> None:
        self.problems.append(SettingProblem(self.path, line_of(self.lines, key), message))

    def read(self, doc: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {}
        for name, value in doc.items():
            if name not in NAMES:
                self.problem((name,), f"unknown setting {name!r} (known: {', '.join(NAMES)})")
                continue
            checked = getattr(self, f"_{name}")(value)
            if checked is not None:
                values[name] = checked
        return Settings(self.path, exists=True, given=frozenset(values), problems=tuple(self.problems),
                        **values)

    def _text(self, name: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self.problem((name,), f"{name} must be a string in quotes, not {_toml_type(value)}")
            return None
        return value

    def _theme(self, value: Any) -> str | None:
        theme = self._text("theme", value)
        if theme is not None and theme not in THEMES:
            self.problem(("theme",), f"unknown theme {theme!r} (themes: {', '.join(THEMES)})")
            return None
        return theme

    def _operator(self, value: Any) -> str | None:
        name = self._text("operator", value)
        if name is None:
            return None
        if not name.strip() or len(name) > MAX_OPERATOR or any(not c.isprintable() for c in name):
            self.problem(("operator",), f"operator must be a name of 1 to {MAX_OPERATOR} printable "
                                        "characters")
            return None
        return name.strip()

    def _default_vendor(self, value: Any) -> str | None:
        vendor = self._text("default_vendor", value)
        if vendor is not None and vendor not in VENDORS:
            self.problem(("default_vendor",),
                         f"default_vendor must be one of {', '.join(VENDORS)}, not {vendor!r}")
            return None
        return vendor

    def _log_file(self, value: Any) -> Path | None:
        text = self._text("log_file", value)
        if text is None:
            return None
        path = Path(text).expanduser()
        if not text.strip() or "\x00" in text or not path.is_absolute():
            self.problem(("log_file",), f"log_file must be an absolute path (or start with ~), not {text!r}")
            return None
        return path

    def _keymap(self, value: Any) -> dict[str, str] | None:
        if not isinstance(value, dict):
            self.problem(("keymap",), f"keymap must be a table ([keymap]), not {_toml_type(value)}")
            return None
        keymap: dict[str, str] = {}
        for binding_id, keys in _flatten(value):
            where = ("keymap", *binding_id.split("."))
            if binding_id not in BINDING_IDS:
                close = [b for b in sorted(BINDING_IDS) if b.split(".")[0] == binding_id.split(".")[0]]
                known = f" ({binding_id.split('.')[0]} has: {', '.join(close)})" if close else \
                    " (`idconsole settings show --json` lists every id)"
                self.problem(where, f"unknown binding id {binding_id!r}{known}")
                continue
            if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
                keys = ",".join(keys)
            if not isinstance(keys, str):
                self.problem(where, f'the keys of {binding_id!r} must be a string like "f5" or "ctrl+s,f5"')
                continue
            problem = key_problem(keys)
            if problem:
                self.problem(where, f"{binding_id!r}: {problem}")
                continue
            keymap[binding_id] = ",".join(k.strip() for k in keys.split(","))
        return keymap


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """`{"app": {"help": "f5"}}` and `{"app.help": "f5"}` both give ("app.help", "f5")."""
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flatten(value, name + ".")
        else:
            out.append((name, value))
    return out


def _toml_type(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


# -- lines: tomllib gives values, not where they are; a small scan finds each key's line -------------

_BARE_OR_QUOTED = r'(?:"(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)'
_DOTTED = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_BARE_OR_QUOTED)


def _parts(dotted: str) -> tuple[str, ...]:
    out = []
    for part in _PART.findall(dotted):
        if part[:1] == '"':
            part = json.loads(part) if _json_safe(part) else part[1:-1]
        elif part[:1] == "'":
            part = part[1:-1]
        out.append(part)
    # a quoted key that holds dots ("app.help") lines up with the dotted form app.help
    return tuple(p for whole in out for p in whole.split("."))


def _json_safe(part: str) -> bool:
    try:
        json.loads(part)
    except ValueError:
        return False
    return True


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Each key's full dotted path -> the line (1-based) it is first written on."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_parts(key.group(1))), number)
    return lines


def line_of(lines: Mapping[tuple[str, ...], int], key: tuple[str, ...]) -> int | None:
    """The line of `key`, else of the nearest table holding it (an inline table, a header)."""
    for end in range(len(key), 0, -1):
        if key[:end] in lines:
            return lines[key[:end]]
    return None


# -- remembering a theme -------------------------------------------------------------------------

def remember_theme(theme: str, path: Path | None = None) -> None:
    """Write `theme = "..."` into the settings file, keeping everything else in it as written
    (comments included). A file that is not valid TOML is not touched: ConfigError says why."""
    path = settings_file() if path is None else path
    if theme not in THEMES:
        raise ConfigError(f"{theme!r} is not one of Textual's themes; it was not remembered.")
    try:
        text = path.read_text("utf-8")
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        text, mode = "", 0o644
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"The theme was not remembered: {path} could not be read ({reason}).") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The theme was not remembered: {_toml_problem(path, text, exc)}.",
                          hint="Fix the file; idconsole did not change it.") from None
    updated = set_top_level(text, "theme", json.dumps(theme))
    try:
        if tomllib.loads(updated).get("theme") != theme:
            raise ValueError("not where expected")
    except (tomllib.TOMLDecodeError, ValueError):
        raise ConfigError(f"The theme was not remembered: {path} has a layout idconsole cannot edit safely.",
                          hint=f'Write theme = "{theme}" at its top yourself.') from None
    atomic_write(path, updated.encode("utf-8"), mode=mode)


def set_top_level(text: str, key: str, value: str) -> str:
    """`text` with the top-level `key = value` replaced, or added after the last top-level line (above
    the first table and the comments that belong to it)."""
    lines = text.splitlines(keepends=True)
    first_table = next((i for i, line in enumerate(lines) if _HEADER.match(line)), len(lines))
    entry = f"{key} = {value}\n"
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(first_table):
        if pattern.match(lines[i]):
            lines[i] = entry
            return "".join(lines)
    if first_table == len(lines):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join([*lines, entry])
    at = first_table
    while at > 0 and lines[at - 1].lstrip().startswith("#"):   # the table's own comments stay with it
        at -= 1
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    if at == 0:
        lines.insert(0, entry + "\n")
    else:   # right after the last top-level line
        if not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines.insert(at, entry)
    return "".join(lines)

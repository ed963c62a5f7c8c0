"""`idconsole settings path | show [--file PATH] [--json]`: where the settings file is, and what is in effect.

`show` prints every setting with its value, marking defaults, and the keymap entries the file sets. A
file with problems is still shown (what is in effect is then the defaults for the bad entries); each
problem goes to stderr with its file and line, and the exit code is 2, so `settings show --file NEW`
checks a file before it is put in place. With `--json` that document also carries
`{"error": {"kind": "bad_input", "message"}}`, as every failing --json command does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idconsole.config.keymap import BINDING_IDS, THEMES
from idconsole.config.settings import NAMES, Settings, load_settings, os_user, settings_file
from idconsole.headless.output import note, print_json, visible, write

EXIT_OK, EXIT_USAGE = 0, 2

#: how each setting's default reads in `show`
_DEFAULT_WORDS = {
    "theme": "default",
    "operator": "default: the OS user",
    "default_vendor": "default",
    "log_file": "default: no request log",
    "keymap": "default: every binding keeps its key",
}


def run(ns: Any) -> int:
    if ns.settings_command == "path":
        write(str(settings_file()))
        return EXIT_OK
    path = Path(ns.file).expanduser() if getattr(ns, "file", None) else None
    settings = load_settings(path)
    code = EXIT_USAGE if settings.problems else EXIT_OK
    if getattr(ns, "json", False):
        document = settings_document(settings)
        if settings.problems:
            document = {"error": {"kind": "bad_input", "message": settings.problem_text()}, **document}
        print_json(document)
    else:
        for line in settings_lines(settings):
            write(line)
    for problem in settings.problems:
        note(f"idconsole: {visible(str(problem), limit=400)}")
    return code


def _value(settings: Settings, name: str) -> Any:
    value = getattr(settings, name)
    if isinstance(value, Path):
        return str(value)
    return dict(value) if name == "keymap" else value


def settings_document(settings: Settings) -> dict[str, Any]:
    return {
        "path": str(settings.path),
        "exists": settings.exists,
        "settings": {name: {"value": _value(settings, name), "default": name not in settings.given}
                     for name in NAMES},
        "problems": [{"line": p.line, "message": p.message} for p in settings.problems],
        "os_user": os_user(),
        "themes": list(THEMES),
        "binding_ids": sorted(BINDING_IDS),
    }


def settings_lines(settings: Settings) -> list[str]:
    state = "" if settings.exists else "  (not there yet: every setting is a default)"
    lines = [f"settings file: {visible(str(settings.path))}{state}"]
    for name in NAMES:
        if name == "keymap":
            continue
        value = getattr(settings, name)
        shown = "-" if value is None else visible(str(value), limit=200)
        mark = "" if name in settings.given else f"  ({_DEFAULT_WORDS[name]})"
        lines.append(f"  {name:<15} {shown}{mark}")
    if not settings.keymap:
        lines.append(f"  {'keymap':<15} -  ({_DEFAULT_WORDS['keymap']})")
        return lines
    for i, (binding_id, keys) in enumerate(sorted(settings.keymap.items())):
        lines.append(f"  {'keymap' if i == 0 else '':<15} {binding_id} = {visible(keys)}")
    rest = len(BINDING_IDS) - len(settings.keymap)
    lines.append(f"  {'':<15} (the other {rest} bindings keep their keys; --json lists every binding id)")
    return lines

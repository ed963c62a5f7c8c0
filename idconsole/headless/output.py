"""Output helpers for the headless commands: JSON on stdout, human text made safe to show.

Rules (DESIGN.md): `--json` prints exactly one JSON document on stdout and nothing else goes there;
notes, warnings and progress go to stderr. Ids and values from an API are untrusted: `visible()`
escapes control characters, escape sequences, zero-width and bidi characters so a hostile id can
neither drive the terminal nor hide what it is (one implementation, `idconsole.untrusted`, shared with
the TUI; re-exported here for the headless commands).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any

from idconsole.api.models import MappedUser, MixpanelProfile, UserMappings, UserProfile
from idconsole.untrusted import visible

STDOUT_NAME = "standard output"
_STREAM_NAMES = {"<stdout>": STDOUT_NAME, "<stderr>": "standard error"}


def write(text: str, file: IO[str] | None = None) -> None:
    """Write one line; characters the stream cannot encode become backslash escapes (never a crash).
    A failed write (stdout redirected to a full disk) raises an OSError that names the stream."""
    stream = sys.stdout if file is None else file
    line = text if text.endswith("\n") else text + "\n"
    try:
        try:
            stream.write(line)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(line.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()
    except OSError as exc:
        if exc.filename is not None:
            raise
        name = str(getattr(stream, "name", "output"))
        raise OSError(exc.errno, exc.strerror, _STREAM_NAMES.get(name, name)) from exc


class _NoteFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"idconsole: {visible(record.getMessage())}"


def configure_logging(level: int = logging.WARNING) -> None:
    """Send the library's log records (retries, throttling) to stderr as `idconsole: ...` notes.
    Idempotent; leaves alone a logging setup the caller already made."""
    logger = logging.getLogger("idconsole")
    if any(getattr(h, "_idconsole_cli", False) for h in logger.handlers) or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_NoteFormatter())
    handler._idconsole_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)


def note(text: str) -> None:
    """A human note, warning or progress line: always stderr (stdout stays pure for --json)."""
    write(text, sys.stderr)


_printed = {"json": False}


def print_json(document: Any, file: IO[str] | None = None) -> None:
    """The one JSON document of a --json command. ASCII-only (`\\uXXXX`), so no id can reach the
    terminal as a raw control or bidi character even when stdout is a terminal. Recorded before it is
    written, so an error reported afterwards never adds a second (or follows a torn) document."""
    text = json.dumps(document, ensure_ascii=True, indent=2, default=str)
    _printed["json"] = True
    write(text, file)


def json_printed() -> bool:
    """Whether this command has printed (or started printing) its JSON document."""
    return _printed["json"]


def reset_json_printed() -> None:
    _printed["json"] = False


def value_text(value: Any, *, limit: int | None = 500) -> str:
    """A property value for human output: strings in double quotes (escaped as `visible`), numbers,
    booleans and containers as compact JSON."""
    if isinstance(value, str):
        return '"' + visible(value, limit=None if limit is None else limit - 2) + '"'
    try:
        shown = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        shown = repr(value)
    return visible(shown, limit=limit)


def _user(m: MappedUser) -> str:
    amp = f"  (amplitude id {m.amplitude_id})" if m.amplitude_id is not None else ""
    return f"{visible(m.user_id)}{amp}"


def mappings_lines(user_id: str, mappings: UserMappings, *, indent: str = "") -> list[str]:
    """A small tree for one id: what it is mapped into and what is mapped into it."""
    lines = [f"{indent}{visible(user_id)}"]
    for label, users in (("mapped to", mappings.mapped_to), ("mapped from", mappings.mapped_from)):
        head = f"{indent}  {label}:".ljust(len(indent) + 15)
        if not users:
            lines.append(f"{head}(none)")
            continue
        for i, m in enumerate(users):
            lines.append(f"{head if i == 0 else ' ' * len(head)}{_user(m)}")
    if len(mappings.mapped_to) > 1:
        lines.append(f"{indent}  note: mapped into more than one user")
    return lines


def _properties(title: str, props: Mapping[str, Any]) -> list[str]:
    if not props:
        return [f"{title}: (none)"]
    lines = [f"{title}:"]
    width = min(max((len(visible(k)) for k in props), default=0), 40)
    for key in sorted(props, key=str):
        lines.append(f"  {visible(key).ljust(width)}  {value_text(props[key])}")
    return lines


def _list(title: str, items: Iterable[Any]) -> list[str]:
    items = list(items)
    if not items:
        return [f"{title}: (none)"]
    return [f"{title}: " + ", ".join(visible(i) if isinstance(i, str) else value_text(i) for i in items)]


def amplitude_profile_lines(profile: UserProfile) -> list[str]:
    ids = []
    for label, value in (("user id", profile.user_id), ("device id", profile.device_id),
                         ("amplitude id", profile.amplitude_id)):
        ids.append(f"{label}: {visible(value) if value is not None else '(none)'}")
    lines = ids
    lines += _properties("user properties", profile.user_properties)
    lines += _properties("computed properties", profile.computed_properties)
    lines += _list("cohorts", profile.cohort_ids)
    if profile.recommendations:
        lines.append("recommendations:")
        for rec in profile.recommendations:
            extra = [f"source {visible(rec.source)}"] if rec.source else []
            if rec.is_control:
                extra.append("control group")
            if rec.title:
                extra.append(f"title {value_text(rec.title)}")
            suffix = f"  ({'; '.join(extra)})" if extra else ""
            lines.append(f"  {visible(rec.rec_id)}: {value_text(list(rec.items))}{suffix}")
    else:
        lines.append("recommendations: (none requested or none returned)")
    if profile.propensities:
        lines += _list("propensities", profile.propensities)
    return lines


def mixpanel_profile_lines(profile: MixpanelProfile) -> list[str]:
    lines = [f"distinct id: {visible(profile.distinct_id)}"]
    if profile.requested_id is not None and profile.requested_id != profile.distinct_id:
        lines.append(f"  (asked for {visible(profile.requested_id)}; this is its cluster's canonical id)")
    lines += _properties("properties", profile.properties)
    return lines

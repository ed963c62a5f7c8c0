"""The request log, for support of the support tool: `--log-file PATH` or the `log_file` setting.

One line per attempt the transport makes (a retry is a line of its own):

    2025-06-01T10:00:00.123Z GET 127.0.0.1:8765 /api/2/usermap?user_ids=id:3f2a9c -> 200 0.012s retry=0 budget_wait=0.000s

Never a body, never a header. Every line goes through the client's `Redactor` (every form of every
secret). Ids are personal data, so every query value that may be one (anything but the few parameters
listed in `_NOT_IDS`) and every path segment that is not a plain word becomes `id:` and the first 6 hex
digits of its SHA-256: the same id gives the same tag, so one user's requests can be followed through
the log, but the log does not say who they are. `--log-ids` keeps them as sent.

The transport calls `record()` once per attempt; it does nothing unless a log was started.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlsplit

from idconsole.config.errors import local_io_error

if TYPE_CHECKING:
    from idconsole.api.redact import Redactor
    from idconsole.api.transport import Call

log = logging.getLogger("idconsole.api")

#: query parameters whose values are never personal (paging, dates, flags, project and model ids)
_NOT_IDS = frozenset({
    "strict", "offset", "limit", "direction", "from_date", "to_date", "project_id", "verbose", "ip", "format",
    "get_amp_props", "get_cohort_ids", "get_computations", "get_propensity", "get_recs", "comp_id", "rec_id",
    "rec_type", "prediction_id", "propensity_type",
})  # fmt: skip
_WORD_SEGMENT = frozenset("abcdefghijklmnopqrstuvwxyz_-")
_VERSION = re.compile(r"v?\d{1,2}(\.\d{1,2})?")


def id_tag(value: str) -> str:
    """The stable stand-in for an id: `id:` + 6 hex digits of its SHA-256."""
    return "id:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:6]


@dataclass
class RequestLog:
    path: Path
    keep_ids: bool
    stream: IO[str]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self.stream.close()


_active: RequestLog | None = None


def start(path: Path, *, keep_ids: bool = False, version: str = "") -> RequestLog:
    """Open (append to) the log at `path`, owner-only. LocalStorageError names the file if it cannot be."""
    global _active
    stop()
    path = Path(path).expanduser()
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file where the directory should be: open() below says so plainly
            pass
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        stream = os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise local_io_error(exc, where=str(path)) from None
    request_log = RequestLog(path, keep_ids, stream)
    ids = "ids kept as sent (--log-ids)" if keep_ids else "ids hashed (id:xxxxxx; --log-ids keeps them)"
    try:
        request_log.write(f"# idconsole {version} request log started {_now()}; {ids}; no bodies, no headers")
    except OSError as exc:
        request_log.close()
        raise local_io_error(exc, where=str(path)) from None
    _active = request_log
    return request_log


def stop() -> None:
    global _active
    request_log, _active = _active, None
    if request_log is not None:
        try:
            request_log.close()
        except OSError:
            pass  # the last lines were flushed when written; nothing more to save


def active() -> RequestLog | None:
    return _active


def record(call: Call, redact: Redactor, *, attempt: int, status: int | None, failure: str | None,
           seconds: float, budget_wait: float) -> None:
    """One attempt of `call`: its status (or why it failed), how long it took, which retry it was and how
    long it waited for its rate budget first. Never raises: a log that cannot be written is stopped."""
    request_log = _active
    if request_log is None:
        return
    outcome = str(status) if status is not None else f"failed ({failure or 'no answer'})"
    line = (f"{_now()} {call.method} {_host(call.url)} {_target(call, request_log.keep_ids)} -> {outcome} "
            f"{seconds:.3f}s retry={attempt - 1} budget_wait={budget_wait:.3f}s")
    try:
        request_log.write(redact(line))
    except (OSError, ValueError) as exc:  # a full disk must not fail the request it describes
        stop()
        reason = local_io_error(exc, where=str(request_log.path)) if isinstance(exc, OSError) else exc
        log.warning("the request log stopped: %s", reason)


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _target(call: Call, keep_ids: bool) -> str:
    """The path and query as sent, ids tagged unless `keep_ids`; quoted so a line stays one line."""
    parts = urlsplit(call.url)
    path = parts.path or call.path
    if not keep_ids:
        path = "/".join(_segment(s) for s in path.split("/"))
    query = parse_qsl(parts.query, keep_blank_values=True) + list(call.params or ())
    shown = [f"{quote(name, safe='_-.')}={_value(name, value, keep_ids)}" for name, value in query]
    target = quote(path, safe="/:@._-~")
    return f"{target}?{'&'.join(shown)}" if shown else target


def _segment(segment: str) -> str:
    """A path word (`usermap`, `v1`, `2.0`) stays; anything else may be an id."""
    plain = segment.lower() == segment and set(segment) <= _WORD_SEGMENT
    return segment if not segment or plain or _VERSION.fullmatch(segment) else id_tag(segment)


def _value(name: str, value: str, keep_ids: bool) -> str:
    if keep_ids or name in _NOT_IDS:
        return quote(value, safe="@:,_-.~")
    try:
        listed = json.loads(value)
    except ValueError:
        listed = None
    if isinstance(listed, list) and listed and all(isinstance(v, str) for v in listed):
        return "[" + ",".join(id_tag(v) for v in listed) + "]"
    return id_tag(value)

"""Amplitude event ingestion: `POST /2/httpapi` (HTTP V2, the SDK's default) and `POST /batch` (Batch
Event Upload, the SDK's `use_batch`), JSON `{"api_key", "events": [...], "options": {"min_id_length"}}`.

Answers, as Amplitude documents them (the SDK reads every field named here):
- 200 `{"code": 200, "events_ingested": N, "payload_size_bytes": B, "server_upload_time": MS}`.
- 400 `{"code": 400, "error", "missing_field"}` for a request-level field (`api_key`, `events`), or the
  per-event maps of `amplitude_events.py`; `{"code": 400, "error": "Invalid API key: ..."}` for a key of
  another project (the SDK recognises that prefix; the key itself is not echoed).
- 413 over 1 MB (`/2/httpapi`) or 20 MB (`/batch`) or 2000 events (?).
- 429 when a user or device sends more than 30 events/s (`/2/httpapi` (?)) or 1000 events/s (`/batch`),
  averaged over 30 s: `{"code": 429, "error", "eps_threshold", "throttled_devices", "throttled_users",
  "throttled_events"}` and Retry-After. A 400, 413 or 429 applies nothing (the SDK resends the others).
Checks run in that order: size, shape and key, events, then the rate, so a refused request costs nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.amplitude_events import DEFAULT_MIN_ID_LENGTH, apply_events, check_events
from idconsole.sandbox.limits import RollingWindow, retry_after_header
from idconsole.sandbox.web import MB, TooLarge, js, parse_json, read_body, sandbox, set_items

MAX_EVENTS = 2000
WINDOW_SECONDS = 30.0
#: path -> (body limit, events per second per user or device)
KINDS = {"/2/httpapi": (1 * MB, 30), "/batch": (20 * MB, 1000)}


def _answer(code: int, headers: dict[str, str] | None = None, **fields: Any) -> Response:
    return js({"code": code, **fields}, code, headers)


def _missing(name: str) -> Response:
    return _answer(400, error="Request missing required field", missing_field=name)


async def ingest(request: Request) -> Response:
    sb = sandbox(request)
    limit, eps = KINDS[request.url.path]
    try:
        body = await read_body(request, limit)
    except TooLarge:
        return _answer(413, error=f"Payload too large: at most {limit // MB} MB per request")
    if "json" not in request.headers.get("content-type", "").lower():
        return _answer(400, error="Invalid Content-Type: send application/json")
    try:
        data = parse_json(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _answer(400, error="Invalid JSON request body")
    if not isinstance(data, dict):
        return _answer(400, error="Invalid JSON request body: expected an object")
    if not isinstance(data.get("api_key"), str) or not data["api_key"]:
        return _missing("api_key")
    if data["api_key"] != sb.config.api_key:
        return _answer(400, error="Invalid API key: it is not the key of this project")
    events = data.get("events")
    if not isinstance(events, list) or not events:
        return _missing("events")
    set_items(request, len(events))
    if len(events) > MAX_EVENTS:
        return _answer(413, error=f"Payload too large: {len(events)} events (at most {MAX_EVENTS} per request)")
    options = data.get("options") or {}
    min_length = options.get("min_id_length", DEFAULT_MIN_ID_LENGTH) if isinstance(options, dict) else None
    if not isinstance(min_length, int) or isinstance(min_length, bool) or min_length < 1:
        return _answer(400, error="Invalid options: min_id_length must be a positive integer")
    plans, problems = check_events(events, min_length)
    if problems:
        return _answer(400, **problems.body())
    if refused := _throttled(sb, request.url.path, events, eps):
        return refused
    now_ms = int(time.time() * 1000)
    kept = apply_events(sb.state.amplitude, sb.state.events, events, plans, now_ms)
    sb.state.counters["events_ingested"] += len(events)
    sb.state.counters["events_kept"] += kept
    return _answer(200, events_ingested=len(events), payload_size_bytes=len(body), server_upload_time=now_ms)


def _admits(window: RollingWindow, n: int) -> bool:
    """RollingWindow.acquire's admission rule, asked without recording anything."""
    used = window.used()
    return used + n <= window.limit or used == 0


def _throttled(sb: Any, path: str, events: list[dict[str, Any]], eps: int) -> Response | None:
    """The 429 when any user or device of the batch would go over its rate, else record them all."""
    wanted: Counter[tuple[str, str]] = Counter()
    for event in events:
        for kind in ("user_id", "device_id"):
            if event.get(kind):
                wanted[(kind, event[kind])] += 1
    windows = {key: sb.limits.setdefault(f"{path}:{key[0]}:{key[1]}", RollingWindow(eps * 30, WINDOW_SECONDS))
               for key in wanted}  # fmt: skip
    over = {key for key, n in wanted.items() if not _admits(windows[key], n)}
    if not over:
        for key, n in wanted.items():
            windows[key].acquire(n)
        return None
    waits = [windows[key].acquire(wanted[key]) or 0.0 for key in over]  # refused: nothing is recorded
    rate = {key: round((windows[key].used() + wanted[key]) / WINDOW_SECONDS, 1) for key in over}
    return _answer(
        429, {"Retry-After": retry_after_header(max(waits))},
        error="Too many requests for some devices and users",
        eps_threshold=eps,
        throttled_devices={k[1]: rate[k] for k in over if k[0] == "device_id"},
        throttled_users={k[1]: rate[k] for k in over if k[0] == "user_id"},
        throttled_events=[i for i, e in enumerate(events)
                          if any((kind, e.get(kind)) in over for kind in ("user_id", "device_id"))],
    )  # fmt: skip


def routes() -> list[Route]:
    return [Route(path, ingest, methods=["POST"]) for path in KINDS]

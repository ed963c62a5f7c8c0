"""Mixpanel wire routes: `/track`, `/import`, `/api/query/engage`.

Documented choices where Mixpanel says little (API.md (?)):
- `/track` always answers HTTP 200 (except 413 for a body over 10 MB): `1`/`0`, or with `verbose=1`
  `{"status": 1|0, "error": null|"..."}`. Every event is validated first (shape, token); then events apply
  in order and the first identity failure stops the batch with status 0 — earlier events stay applied, as
  ingestion is not transactional. More than 2000 events is status 0.
- `/import` authenticates before anything else: a service account needs `project_id` (missing → 400,
  another project → 401); the API secret may omit it. Bodies: JSON array or object, NDJSON, gzip, or a form
  field `data` (JSON or base64). Every valid record is imported; with `strict=1` a batch with bad records
  answers 400 listing them (`failed_records[{index, $insert_id, field, message}]`, identity refusals such
  as the 500-id cap included) beside `num_records_imported`; without strict they are skipped silently.
  Ordinary events need `time` and `distinct_id`, and with strict `$insert_id` (?), as the real `/import`
  does; identity events need neither. `verbose=1` (form or query) answers `{"status", "error"}` instead.
- `/api/query/engage` answers `$distinct_id` = the canonical id of the asked id's cluster, for clusters
  that have a profile (properties); without `distinct_id(s)` it lists every profile (page size 1000).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.mixpanel_events import MAX_EVENTS, apply_event, check_event
from idconsole.sandbox.web import (
    MB,
    TooLarge,
    as_records,
    basic_auth,
    decode_json_or_base64,
    first,
    form_fields,
    is_true,
    js,
    mixpanel_records,
    parse_json,
    read_body,
    read_form,
    sandbox,
    set_items,
    text,
    throttle,
)

MAX_BODY = 10 * MB
PAGE_SIZE = 1000


def check_mixpanel_auth(request: Request, *, need_project: bool = True) -> Response | None:
    """Service account (Basic user:secret + project_id) or legacy API secret (Basic secret:)."""
    cfg = sandbox(request).config
    creds = basic_auth(request)
    project_id = request.query_params.get("project_id")
    denied = js({"error": "Invalid credentials", "status": 0}, 401)
    if creds == (cfg.sa_username, cfg.sa_secret):
        if project_id is None and need_project:
            return js(
                {"error": "project_id is required when authenticating with a service account", "status": 0},
                400,
            )
    elif creds != (cfg.mixpanel_api_secret, ""):
        return denied
    if project_id is not None and project_id != cfg.project_id:
        return js({"error": f"Invalid credentials: no access to project_id {project_id!r}", "status": 0}, 401)
    return None


async def track(request: Request) -> Response:
    sb = sandbox(request)
    try:
        fields = await read_form(request, MAX_BODY)
    except TooLarge:
        return text("Request entity too large: at most 10 MB per request", 413)
    verbose = is_true(first(fields, "verbose"))

    def answer(error: str | None) -> Response:
        if verbose:
            return js({"status": 0 if error else 1, "error": error})
        return text("0" if error else "1")

    raw = first(fields, "data")
    if not raw:
        return answer("data, missing or empty")
    try:
        events = as_records(decode_json_or_base64(raw))
    except ValueError:
        events = None
    if events is None:
        return answer("data is not a JSON object or array of events")
    set_items(request, len(events))
    if not events:
        return answer("data, missing or empty")
    if len(events) > MAX_EVENTS:
        return answer(f"too many events: {len(events)} (at most {MAX_EVENTS} per request)")
    for i, event in enumerate(events):
        if problem := check_event(event, sb.config.mixpanel_token, require_time=False):
            return answer(f"event {i}: {problem[0]}: {problem[1]}")
    for i, event in enumerate(events):
        if problem := apply_event(sb.state.mixpanel, event, sb.state.events):
            return answer(f"event {i}: {problem[1]}")
        sb.state.counters["events_tracked"] += 1
    return answer(None)


def _import_answer(verbose: bool, status: int, error: str | None, imported: int = 0,
                   failed: list[dict[str, Any]] | None = None) -> Response:
    """`verbose=1` (the official client's form post) answers `{"status": 1|0, "error"}` as /track does,
    keeping the counts beside them (?); otherwise the strict-mode body `{"code", "num_records_imported",
    "status"}` (+ `error`, `failed_records` on a 400)."""
    if verbose:
        body: dict[str, Any] = {"status": 0 if error else 1, "error": error}
        if failed is not None:
            body.update(num_records_imported=imported, failed_records=failed)
        return js(body, status)
    if error is None:
        return js({"code": 200, "num_records_imported": imported, "status": "OK"})
    return js({"code": 400, "error": error, "failed_records": failed or [], "num_records_imported": imported,
               "status": "Bad Request"}, 400)  # fmt: skip


async def import_events(request: Request) -> Response:
    sb = sandbox(request)
    try:
        body = await read_body(request, MAX_BODY)
    except TooLarge:
        return js({"code": 413, "error": "request body exceeds 10 MB", "status": "Payload Too Large"}, 413)
    if denied := check_mixpanel_auth(request):
        return denied
    events, verbose = mixpanel_records(request, body)
    if events is None:
        return _import_answer(verbose, 400, "request body must be a JSON array of events")
    set_items(request, len(events))
    if not events:
        return _import_answer(verbose, 400, "no events in the request body")
    if len(events) > MAX_EVENTS:
        return _import_answer(verbose, 400, f"too many events: {len(events)} (at most {MAX_EVENTS} per request)")
    strict = is_true(request.query_params.get("strict"))
    failed, imported = [], 0
    for i, event in enumerate(events):
        problem = check_event(event, sb.config.mixpanel_token, require_time=True, require_insert_id=strict)
        if problem is None:
            problem = apply_event(sb.state.mixpanel, event, sb.state.events)  # changes nothing when refused
        if problem is None:
            imported += 1
            continue
        props = event.get("properties") if isinstance(event, dict) else None
        insert_id = props.get("$insert_id") if isinstance(props, dict) else None
        failed.append({"index": i, "$insert_id": insert_id, "field": problem[0], "message": problem[1]})
    sb.state.counters["events_imported"] += imported
    if strict and failed:
        # strict mode lists the bad records; the valid ones of the same batch are imported all the same
        error = f"{len(failed)} of {len(events)} records failed validation"
        return _import_answer(verbose, 400, error, imported, failed)
    return _import_answer(verbose, 200, None, imported)


async def engage(request: Request) -> Response:
    sb = sandbox(request)
    try:
        body = await read_body(request, MB)
    except TooLarge:
        return js({"error": "request body too large", "status": 0}, 413)
    if denied := check_mixpanel_auth(request):
        return denied
    if headers := throttle(sb.limits.get("engage")):
        return js(
            {"error": "Query rate limit exceeded: at most 60 queries per hour", "status": 0}, 429, headers
        )
    fields = form_fields(request, body)
    ids: list[str] = []
    if first(fields, "distinct_id"):
        ids.append(first(fields, "distinct_id") or "")
    if first(fields, "distinct_ids"):
        try:
            listed = parse_json(first(fields, "distinct_ids") or "")
        except ValueError:
            return js({"error": "distinct_ids must be a JSON array of strings", "status": 0}, 400)
        if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
            return js({"error": "distinct_ids must be a JSON array of strings", "status": 0}, 400)
        ids.extend(listed)
    page = first(fields, "page") or "0"
    if not page.isdigit():
        return js({"error": "page must be a non-negative integer", "status": 0}, 400)
    set_items(request, len(ids))
    mp = sb.state.mixpanel
    if ids:
        asked = (mp.cluster_of(i) for i in ids)
        clusters = list({id(c): c for c in asked if c is not None and c.properties}.values())
    else:
        clusters = [c for c in mp.clusters.values() if c.properties]
    sb.state.counters["engage_queries"] += 1
    start = int(page) * PAGE_SIZE
    results = [
        {"$distinct_id": c.canonical, "$properties": c.properties}
        for c in clusters[start : start + PAGE_SIZE]
    ]
    session = f"sandbox-session-{sb.state.counters['engage_queries']}"
    return js(
        {"page": int(page), "page_size": PAGE_SIZE, "results": results, "session_id": session, "status": "ok",
         "total": len(clusters)}
    )  # fmt: skip


def routes() -> list[Route]:
    return [
        Route("/track", track, methods=["POST", "GET"]),
        Route("/import", import_events, methods=["POST"]),
        Route("/api/query/engage", engage, methods=["GET", "POST"]),
    ]

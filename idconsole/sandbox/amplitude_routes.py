"""Amplitude wire routes: map/unmap, get mappings, user search, user profile, identify.

Documented choices where Amplitude says nothing (API.md (?)):
- `/usermap` over its rolling window answers 429 for the whole request (nothing applied) with
  `Retry-After` = whole seconds until enough of the window drains for that batch. Size (413), credentials
  (401) and shape (400) are checked before the rate, so a rejected batch never uses the budget.
- A batch is validated whole before anything is applied: one bad object rejects it all, and the 400 text
  names the object's index.
- `/usermap` answers 200 `success`; `/identify` 200 `success`, 400 `missing_event` when `identification`
  is missing or not JSON, and `invalid identification[i]: ...` for a bad object (all or nothing).
- `/v1/userprofile` for an unknown user answers HTTP 400 `{"error": "User id and device id not seen
  before"}`; 429 bodies are JSON `{"error": ...}` with Retry-After. Computed properties come back inside
  `amp_props` as `computed-prop-<id>` (with `get_amp_props`, or alone with `get_computations`, filtered by
  `comp_id`). `rec_type=random` returns the same items in a per-user shuffled order with
  `recommendation_source: "random"`; an unknown `rec_id` is left out. Propensities answer
  `[{"prop", "pred_id", "prop_type"}]`, empty when the user has no score for that prediction.
- `/identify` takes its key as `api_key` or `api-key` (seed 003's spelling). A project without the
  user-mapping entitlement answers 403 on the mapping routes (entitlements.py).
- `/api/2/usersearch` also matches an exact `email` user property; user/device/email matches win over an
  amplitude id match. Identify has no sandbox rate limit (the 1800 updates/hour/user rule is not emulated).
"""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox import ops
from idconsole.sandbox.entitlements import usermap_refusal
from idconsole.sandbox.web import (
    MB,
    TooLarge,
    basic_auth,
    first,
    form_fields,
    is_true,
    js,
    parse_json,
    read_body,
    read_form,
    sandbox,
    set_items,
    text,
    throttle,
)

MAX_MAPPINGS = 2000
MAX_USERMAP_IDS = 100


class BadRequest(Exception):
    pass


def check_mappings(raw: Any, *, unmap_only: bool = False) -> list[tuple[str, str | None]]:
    """Validate a mapping batch; return [(user_id, global_user_id or None to unmap)] or raise BadRequest."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequest("mapping is empty")
    if len(items) > MAX_MAPPINGS:
        raise BadRequest(f"too many mappings: {len(items)} (at most {MAX_MAPPINGS} per request)")
    batch: list[tuple[str, str | None]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"mapping[{i}] is not an object")
        user_id = item.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise BadRequest(f"mapping[{i}]: user_id must be a non-empty string")
        unmap = item.get("unmap", False)
        if not isinstance(unmap, bool):
            raise BadRequest(f"mapping[{i}]: unmap must be true or false")
        target = item.get("global_user_id")
        if unmap_only:
            batch.append((user_id, None))
        elif unmap:
            if "global_user_id" in item:
                raise BadRequest(f"mapping[{i}]: global_user_id is not allowed with unmap")
            batch.append((user_id, None))
        else:
            if not isinstance(target, str) or not target:
                raise BadRequest(f"mapping[{i}]: global_user_id must be a non-empty string")
            batch.append((user_id, target))
    return batch


def apply_mappings(sb: Any, batch: list[tuple[str, str | None]]) -> None:
    amp = sb.state.amplitude
    for user_id, target in batch:
        if target is None:
            amp.unmap(user_id)
            sb.state.counters["unmaps"] += 1
        else:
            amp.map(user_id, target)
            sb.state.counters["mappings"] += 1


async def keyed_form(
    request: Request, *, invalid_key: str, key_fields: tuple[str, ...] = ("api_key",)
) -> dict[str, list[str]] | Response:
    """The form of a 1 MB `api_key` endpoint (`/usermap`, `/identify`): its fields, or the 413 / 401
    answer (`invalid_key` is the endpoint's own 401 text; the key is the first of `key_fields` sent)."""
    try:
        fields = await read_form(request, MB)
    except TooLarge:
        return text("Request entity too large: at most 1 MB per request", 413)
    sent = next((first(fields, name) for name in key_fields if name in fields), None)
    if sent != sandbox(request).config.api_key:
        return text(invalid_key, 401)
    return fields


async def usermap(request: Request) -> Response:
    sb = sandbox(request)
    fields = await keyed_form(request, invalid_key="Invalid API key")
    if isinstance(fields, Response):
        return fields
    if refused := usermap_refusal(request):
        return refused
    raw = first(fields, "mapping")
    if raw is None or not raw.strip():
        return text("missing mapping", 400)
    try:
        batch = check_mappings(parse_json(raw))
    except ValueError:
        return text("mapping is not valid JSON", 400)
    except BadRequest as exc:
        return text(str(exc), 400)
    set_items(request, len(batch))
    if headers := throttle(sb.limits["usermap"], len(batch)):
        return text("Too many requests: over 1500 mappings per 30 s, slow down", 429, headers)
    apply_mappings(sb, batch)
    return text("success")


def check_basic(request: Request) -> Response | None:
    sb = sandbox(request)
    creds = basic_auth(request)
    headers = {"WWW-Authenticate": 'Basic realm="Amplitude"'}
    if creds is None:
        return text("Missing credentials: use HTTP Basic api_key:secret_key", 401, headers)
    if creds != (sb.config.api_key, sb.config.secret_key):
        return text("Invalid credentials", 401, headers)
    return None


async def get_usermap(request: Request) -> Response:
    try:
        body = await read_body(request, MB)
    except TooLarge:
        return text("Request entity too large", 413)
    if denied := check_basic(request):
        return denied
    if refused := usermap_refusal(request):
        return refused
    ids = list(dict.fromkeys(form_fields(request, body).get("user_ids", [])))
    set_items(request, len(ids))
    if not ids:
        return text("user_ids is required (1 to 100 ids)", 400)
    if len(ids) > MAX_USERMAP_IDS:
        return text(f"too many user_ids: {len(ids)} (at most {MAX_USERMAP_IDS})", 400)
    amp = sandbox(request).state.amplitude
    return js({user_id: amp.mappings_for(user_id) for user_id in ids})


async def usersearch(request: Request) -> Response:
    if denied := check_basic(request):
        return denied
    query = request.query_params.get("user")
    set_items(request, 1)
    if not query:
        return js({"error": "missing required parameter: user"}, 400)
    if headers := throttle(sandbox(request).limits["usersearch"]):
        return js({"error": "Too many requests: at most 360 user searches per hour"}, 429, headers)
    kind, matches = sandbox(request).state.amplitude.search(query)
    return js({"matches": matches, "type": kind})


def check_api_key_header(request: Request) -> Response | None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme != "Api-Key" or not key.strip():
        return js({"error": "Missing Api-Key in Authorization header"}, 401)
    if key.strip() != sandbox(request).config.secret_key:
        return js({"error": "Invalid Api-Key"}, 401)
    return None


def comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


async def userprofile(request: Request) -> Response:
    if denied := check_api_key_header(request):
        return denied
    sb = sandbox(request)
    set_items(request, 1)
    if headers := throttle(sb.limits["profile"]):
        return js(
            {"error": "Number of requests per minute exceeds system limit. Please retry later."}, 429, headers
        )
    q = request.query_params
    user_id, device_id = q.get("user_id") or None, q.get("device_id") or None
    if user_id is None and device_id is None:
        return js({"error": "Please provide a user_id or a device_id"}, 400)
    try:
        options = profile_options(q)
    except BadRequest as exc:
        return js({"error": str(exc)}, 400)
    amp = sb.state.amplitude
    user = amp.get(user_id) if user_id is not None else amp.by_device(device_id)
    if user is None:
        return js({"error": "User id and device id not seen before"}, 400)
    return js({"userData": profile_data(user, user_id, device_id, options)})


def profile_options(q: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "amp_props": is_true(q.get("get_amp_props")),
        "cohorts": is_true(q.get("get_cohort_ids")),
        "computations": is_true(q.get("get_computations")),
        "comp_ids": comma_list(q.get("comp_id")),
        "recs": is_true(q.get("get_recs")),
        "propensity": is_true(q.get("get_propensity")),
    }
    if options["recs"]:
        options["rec_ids"] = comma_list(q.get("rec_id"))
        if not options["rec_ids"]:
            raise BadRequest("rec_id is required when get_recs is true")
        options["rec_type"] = q.get("rec_type", "model")
        if options["rec_type"] not in ("model", "random"):
            raise BadRequest("rec_type must be model or random")
        limit = q.get("limit")
        if limit is not None and not (limit.isascii() and limit.isdigit()):
            raise BadRequest("limit must be a positive integer")
        options["limit"] = int(limit) if limit else None
    if options["propensity"]:
        options["prediction_id"] = q.get("prediction_id")
        if not options["prediction_id"]:
            raise BadRequest("prediction_id is required when get_propensity is true")
        options["propensity_type"] = q.get("propensity_type")
        if options["propensity_type"] not in ("score", "pct"):
            raise BadRequest("propensity_type must be score or pct")
    return options


def profile_data(user: Any, user_id: str | None, device_id: str | None, o: dict[str, Any]) -> dict[str, Any]:
    amp_props = None
    if o["amp_props"] or o["computations"]:
        amp_props = dict(user.user_properties) if o["amp_props"] else {}
        for comp_id, value in user.computed_properties.items():
            if not o["comp_ids"] or comp_id in o["comp_ids"]:
                amp_props[f"computed-prop-{comp_id}"] = value
    recommendations = None
    if o["recs"]:
        recommendations = [
            recommendation(user, rec_id, o["rec_type"], o["limit"])
            for rec_id in o["rec_ids"]
            if rec_id in user.recommendations
        ]
    propensities = None
    if o["propensity"]:
        stored = user.propensities.get(o["prediction_id"])
        propensities = []
        if stored is not None and o["propensity_type"] in stored:
            propensities.append(
                {
                    "prop": stored[o["propensity_type"]],
                    "pred_id": o["prediction_id"],
                    "prop_type": o["propensity_type"],
                }
            )
    return {
        "user_id": user_id if user_id is not None else user.user_id,
        "device_id": device_id,
        "amplitude_id": user.amplitude_id,
        "amp_props": amp_props,
        "cohort_ids": list(user.cohort_ids) if o["cohorts"] else None,
        "recommendations": recommendations,
        "propensities": propensities,
    }


def recommendation(user: Any, rec_id: str, rec_type: str, limit: int | None) -> dict[str, Any]:
    stored = user.recommendations[rec_id]
    items = list(stored.get("items", []))
    source = stored.get("recommendation_source", "model")
    if rec_type == "random":
        random.Random(f"{user.amplitude_id}:{rec_id}").shuffle(items)
        source = "random"
    if limit is not None:
        items = items[:limit]
    rec = {
        "rec_id": rec_id,
        "child_rec_id": stored.get("child_rec_id", rec_id),
        "items": items,
        "is_control": bool(stored.get("is_control", False)),
        "recommendation_source": source,
        "last_updated": stored.get("last_updated", 0),
    }
    if "title" in stored:
        rec["title"] = stored["title"]
    return rec


async def identify(request: Request) -> Response:
    sb = sandbox(request)
    # seed 003 spells the field `api-key`: accepted as an alias of the documented `api_key`
    fields = await keyed_form(request, invalid_key="invalid_api_key", key_fields=("api_key", "api-key"))
    if isinstance(fields, Response):
        return fields
    raw = first(fields, "identification")
    try:
        parsed = parse_json(raw) if raw else None
    except ValueError:
        parsed = None
    objs = parsed if isinstance(parsed, list) else [parsed] if isinstance(parsed, dict) else []
    if not objs:
        return text("missing_event", 400)
    set_items(request, len(objs))
    try:
        plans = [check_identification(i, obj) for i, obj in enumerate(objs)]
    except BadRequest as exc:
        return text(str(exc), 400)
    for obj, plan in zip(objs, plans, strict=True):
        sb.state.amplitude.identify(obj, plan)
        sb.state.counters["identifications"] += 1
    return text("success")


def check_identification(i: int, obj: Any) -> list[tuple[str, Any]]:
    if not isinstance(obj, dict):
        raise BadRequest(f"invalid identification[{i}]: not an object")
    for key in ("user_id", "device_id"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            raise BadRequest(f"invalid identification[{i}]: {key} must be a string")
    if not obj.get("user_id") and not obj.get("device_id"):
        raise BadRequest(f"invalid identification[{i}]: a user_id or device_id is required")
    props = obj.get("user_properties")
    if ops.depth(props) > ops.MAX_DEPTH:
        raise BadRequest(f"invalid identification[{i}]: user_properties nested deeper than {ops.MAX_DEPTH}")
    try:
        return ops.normalize(props)
    except ops.OpError as exc:
        raise BadRequest(f"invalid identification[{i}]: {exc}") from exc


def routes() -> list[Route]:
    return [
        Route("/usermap", usermap, methods=["POST"]),
        Route("/api/2/usermap", get_usermap, methods=["GET"]),
        Route("/api/2/usersearch", usersearch, methods=["GET"]),
        Route("/v1/userprofile", userprofile, methods=["GET"]),
        Route("/identify", identify, methods=["POST"]),
    ]

"""Small request/response helpers shared by the route modules (bodies, forms, auth, limits)."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from idconsole.sandbox.limits import RollingWindow, retry_after_header
from idconsole.sandbox.ops import depth

MB = 1024 * 1024
ITEMS_KEY = "idconsole.sandbox.items"  # scope key the request log reads the batch size from


class TooLarge(Exception):
    pass


def sandbox(request: Request) -> Any:
    return request.app.state.sandbox


def set_items(request: Request, count: int) -> None:
    request.scope[ITEMS_KEY] = count


async def read_body(request: Request, limit: int) -> bytes:
    """The (decompressed) body, refusing more than `limit` bytes before reading it all when possible."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return b""
        if len(body) > limit:
            raise TooLarge
    return body


async def read_form(request: Request, limit: int) -> dict[str, list[str]]:
    """`form_fields` of the body read with `read_body` (raises TooLarge over `limit` bytes)."""
    return form_fields(request, await read_body(request, limit))


def form_fields(request: Request, body: bytes) -> dict[str, list[str]]:
    """Query parameters, then urlencoded body fields (a body field wins over a query one of the same name)."""
    fields: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        fields.setdefault(key, []).append(value)
    ctype = request.headers.get("content-type", "")
    if body and ("form-urlencoded" in ctype or not ctype):
        from_body: dict[str, list[str]] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            from_body.setdefault(key, []).append(value)
        fields.update(from_body)
    return fields


def first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def decode_json_or_base64(text: str) -> Any:
    """Mixpanel accepts `data` as JSON or as base64-encoded JSON. Raises ValueError."""
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        try:
            padded = stripped + "=" * (-len(stripped) % 4)
            stripped = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("data is neither JSON nor base64-encoded JSON") from exc
    return parse_json(stripped)


def as_records(parsed: Any) -> list[Any] | None:
    """A JSON array as is, one object as a one-item list, anything else None."""
    if isinstance(parsed, list):
        return parsed
    return [parsed] if isinstance(parsed, dict) else None


def mixpanel_records(request: Request, body: bytes) -> tuple[list[Any] | None, bool]:
    """(records, or None when unparseable; verbose) of a Mixpanel ingestion body: a form field `data`
    (JSON or base64 JSON, as the official clients send it), a JSON array or object, or NDJSON. `verbose`
    comes from the form or the query string."""
    ctype = request.headers.get("content-type", "").lower()
    if "form-urlencoded" in ctype or (not ctype and (not body or body[:5] == b"data=")):
        fields = form_fields(request, body)
        verbose = is_true(first(fields, "verbose"))
        try:
            return as_records(decode_json_or_base64(first(fields, "data") or "")), verbose
        except ValueError:
            return None, verbose
    verbose = is_true(request.query_params.get("verbose"))
    try:
        if "ndjson" in ctype:
            return [parse_json(line) for line in body.decode("utf-8").splitlines() if line.strip()], verbose
        return as_records(parse_json(body.decode("utf-8"))), verbose
    except (ValueError, UnicodeDecodeError):
        return None, verbose


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1", "yes")


def text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(body, status_code=status, headers=headers)


def js(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=headers)


def throttle(window: RollingWindow | None, count: int = 1) -> dict[str, str] | None:
    """None when admitted, else the headers of the 429 (Retry-After in whole seconds)."""
    if window is None:
        return None
    wait = window.acquire(count)
    return None if wait is None else {"Retry-After": retry_after_header(wait)}


#: the sandbox's own limit (the vendors document none beyond Identify's 40): a body nested thousands deep
#: parses into a RecursionError, and one just under the parser's limit would be stored and then break every
#: later export of the state, so anything deeper than this is refused as not JSON (a 400 or `status: 0`)
MAX_JSON_DEPTH = 100


def parse_json(raw: str | bytes) -> Any:
    """json.loads that raises ValueError, never anything else, for a body no route should take: not JSON,
    lone surrogates (they could not be stored and echoed back as UTF-8), nested deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("invalid unicode (lone surrogate) in JSON") from exc
    return value

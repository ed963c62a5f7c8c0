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


def parse_json(raw: str | bytes) -> Any:
    """json.loads that also refuses lone surrogates (they could not be stored and echoed back as UTF-8)."""
    value = json.loads(raw)
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("invalid unicode (lone surrogate) in JSON") from exc
    return value

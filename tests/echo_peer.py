"""A hostile but real peer for the leak tests (no tests here): it answers every request with an error that
echoes what it received — the Authorization header or the body — re-encoded in one chosen form, shaped the
way each vendor route shapes its errors. Served in-process (`echo_app`, for httpx.ASGITransport) or over
real HTTP on 127.0.0.1 (`EchoServer`, for a CLI subprocess).

The forms and the needles are computed here with the standard library only, independently of the
redactor under test.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus

#: every secret the leak tests use holds this marker, so any readable fragment of one is easy to spot
MARK = "LKq7"
#: the characters that used to slip through, and a non-ASCII one
NASTY = '+/="\\&% é✓'
NASTY_ASCII = NASTY[:-2]

FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "quote": lambda s: quote(s, safe=""),
    "quote_slash": quote,                       # "/" kept, as a path or proxy would
    "quote_plus": quote_plus,                   # form encoding, as httpx sends it
    "quote_lower": lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    "json_ascii": lambda s: json.dumps(s)[1:-1],
    "json_unicode": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "json_twice": lambda s: json.dumps(json.dumps(s))[1:-1],
    "json_in_form": lambda s: quote_plus(json.dumps(s)),   # a token inside the JSON of a form field
    "html": html.escape,
}


def echoed(form: str, headers: dict[str, str], body: str, what: str) -> str:
    """The text the peer sends back, in `form`: the Authorization header ("auth"), the body as received
    ("body"), or the credential the body carries ("field": the form's api_key or the events' token)."""
    if what == "auth":
        source = headers.get("authorization", "(no Authorization header)")
    elif what == "field":
        source = body_credential(body)
    else:
        source = body
    return FORMS[form](source)


def body_credential(body: str) -> str:
    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    if "api_key" in fields:
        return fields["api_key"]
    try:
        events = json.loads(fields["data"] if "data" in fields else body)
    except (KeyError, ValueError):
        return "(no credential in the body)"
    event = events[0] if isinstance(events, list) else events
    return str(event.get("properties", {}).get("token", "(no token)"))


def vendor_error(path: str, text: str) -> tuple[int, str]:
    """(status, body) in the shape the route's real errors take, carrying `text`."""
    if path.endswith("/import"):
        return 400, json.dumps({"code": 400, "failed_records": [{"index": 0, "field": "properties", "message": text}]})
    if path.endswith("/track"):
        return 200, json.dumps({"status": 0, "error": text})
    if path.endswith("/userprofile"):
        return 200, json.dumps({"error": text})
    if path.endswith("/engage"):
        return 400, json.dumps({"error": text})
    return 400, text   # usermap, usersearch, identify: plain text reasons


def echo_app(form: str, what: str, seen: list[dict[str, Any]] | None = None) -> Callable[..., Any]:
    """An ASGI app answering every request with its echo (`seen` collects what it received)."""

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = b"".join(chunks).decode("utf-8", "replace")
        if seen is not None:
            seen.append({"path": scope["path"], "headers": headers, "body": body})
        status, text = vendor_error(scope["path"], echoed(form, headers, body, what))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body", "body": text.encode("utf-8")})

    return app


class EchoServer:
    """`EchoServer(form, what)`: the same peer on a real port (a thread of the test process)."""

    def __init__(self, form: str, what: str) -> None:
        peer_form, peer_what = form, what

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path.split("?", 1)[0]
                status, text = vendor_error(path, echoed(peer_form, headers, body, peer_what))
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def needles(secrets: Iterable[str], pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Every form of every secret and Basic pair that must never be readable."""
    bases = {s for s in secrets if s}
    bases |= {basic(u, p) for u, p in pairs}
    return {form(b) for b in bases for form in FORMS.values()}


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def leaks(text: str, secrets: Iterable[str], pairs: Iterable[tuple[str, str]]) -> list[str]:
    """What in `text` gives a secret away: a needle, the marker, or base64 that decodes to a secret."""
    secrets = [s for s in secrets if s]
    found = sorted(n for n in needles(secrets, pairs) if n in text)
    if MARK in text:
        found.append(f"marker {MARK!r}")
    for run in _BASE64_RUN.findall(text):
        for shift in range(4):   # any alignment: a server may echo a slice
            chunk = run[shift:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk).decode("utf-8", "replace")
            except ValueError:
                continue
            if MARK in decoded or any(s in decoded for s in secrets):
                found.append(f"base64 {run!r}")
                break
    return found

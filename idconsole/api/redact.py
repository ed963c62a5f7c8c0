"""Masks credentials in server text, in every form the client puts them on the wire.

A server (or a proxy) may echo what it received: the Authorization header, the form body, the JSON body,
re-encoded in its own way. So the redactor knows, for each credential, every shape we send it in and the
usual ways a server re-encodes it: raw, the Basic base64 of each `user:secret` pair the client sends (with
and without padding), URL-encoded (quote, quote with "/" kept, quote_plus = httpx form encoding; upper and
lower hex), JSON-escaped (ensure_ascii on and off, "\\/", upper-case \\u hex) and HTML-escaped, and each of
those encodings applied twice (a token inside a JSON body inside a form field: `%22tok%2Ben%22`).

The forms are built once per client; a call only searches the text for each form (C-speed substring
search) and masks the union of every occurrence, so overlapping forms cannot leave half a secret behind.

Short values: a form under MIN_FORM characters is never masked (it cannot be told from ordinary text); a
form under FREE_FORM characters is masked only where it stands alone (no letter or digit touching either
end), so a 3-character secret is hidden in `api_key=abc&` or `"abc"` without eating every word holding
"abc". The quoted JSON form of a short value (`"abc"`, `%22abc%22`) is added so it is caught inside
encoded JSON too.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from idconsole.config.connection import Connection
from idconsole.config.secret import Secret

MASK = "***"
MIN_FORM = 3
FREE_FORM = 8

_PERCENT = re.compile(r"%[0-9A-F]{2}")
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-f]{4}")

Value = Secret | str | None


class Redactor:
    """`Redactor(secrets, pairs=...)`: masks every form of every secret in a piece of text.

    `pairs` are the (user, password) pairs sent as HTTP Basic; without them every pair of the given
    secrets (and each with an empty side) is assumed. `Redactor.for_connection(conn)` knows the pairs."""

    __slots__ = ("_bounded", "_count", "_free")

    def __init__(self, secrets: Iterable[Value] = (), *, pairs: Iterable[tuple[Value, Value]] | None = None) -> None:
        values = sorted({v for v in map(_text, secrets) if v})
        if pairs is None:
            pair_texts = [(a, b) for a in [*values, ""] for b in [*values, ""] if a or b]
        else:
            pair_texts = [(_text(a), _text(b)) for a, b in pairs]
        bases: set[str] = set(values)
        for value in values:
            if len(value) < FREE_FORM:
                bases.add(json.dumps(value, ensure_ascii=False))
                bases.add(json.dumps(value))
        for user, password in pair_texts:
            if user or password:
                encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
                bases.update((encoded, encoded.rstrip("=")))
        forms = _encodings(_encodings(bases))
        by_length = sorted((f for f in forms if len(f) >= MIN_FORM), key=lambda f: (-len(f), f))
        self._free = tuple(f for f in by_length if len(f) >= FREE_FORM)
        self._bounded = tuple(f for f in by_length if len(f) < FREE_FORM)
        self._count = len(values)

    @classmethod
    def for_connection(cls, connection: Connection) -> Redactor:
        """Every secret of the connection and the Basic pairs the vendor modules send: Amplitude
        `api_key:secret_key`, Mixpanel `sa_username:sa_secret` and `api_secret:` (empty password)."""
        secrets: list[Value] = []
        pairs: list[tuple[Value, Value]] = []
        amp = connection.amplitude
        if amp is not None:
            secrets += [amp.api_key, amp.secret_key]
            pairs.append((amp.api_key, amp.secret_key))
        mp = connection.mixpanel
        if mp is not None:
            secrets += [mp.token, mp.api_secret, mp.sa_secret]
            if mp.sa_username and mp.sa_secret:
                pairs.append((mp.sa_username, mp.sa_secret))
            if mp.api_secret:
                pairs.append((mp.api_secret, ""))
        return cls(secrets, pairs=pairs)

    @property
    def form_count(self) -> int:
        """How many distinct forms are searched for (for the cost note; never the forms themselves)."""
        return len(self._free) + len(self._bounded)

    def __repr__(self) -> str:
        return f"Redactor({self._count} secrets)"

    def __reduce__(self) -> tuple:  # the forms are revealed credentials: never pickled
        raise TypeError("a Redactor holds credentials and cannot be pickled")

    def __call__(self, text: str) -> str:
        spans: list[tuple[int, int]] = []
        for form in self._free:
            if form in text:
                _occurrences(text, form, spans, bounded=False)
        for form in self._bounded:
            if form in text:
                _occurrences(text, form, spans, bounded=True)
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        done = 0
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end:            # overlapping or touching: one mask
                end = max(end, e)
                continue
            out += [text[done:start], MASK]
            done, start, end = end, s, e
        out += [text[done:start], MASK, text[end:]]
        return "".join(out)


def _text(value: Value) -> str:
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)


def _occurrences(text: str, form: str, spans: list[tuple[int, int]], *, bounded: bool) -> None:
    """Append every (overlapping) occurrence of `form`; `bounded` ones only where they stand alone."""
    at = text.find(form)
    while at >= 0:
        end = at + len(form)
        if not bounded or not (_word(text, at - 1) or _word(text, end)):
            spans.append((at, end))
        at = text.find(form, at + 1)


def _word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalnum()


def _encodings(values: Iterable[str]) -> set[str]:
    """Each value and the ways a server may re-encode it (one level)."""
    out: set[str] = set()
    for v in values:
        out.add(v)
        for url in (quote(v, safe=""), quote(v), quote_plus(v)):
            out.update((url, _PERCENT.sub(lambda m: m.group(0).lower(), url)))
        for js in (json.dumps(v)[1:-1], json.dumps(v, ensure_ascii=False)[1:-1]):
            out.update((js, js.replace("/", "\\/")))
        ascii_js = json.dumps(v)[1:-1]
        out.add(_UNICODE_ESCAPE.sub(lambda m: "\\u" + m.group(0)[2:].upper(), ascii_js))
        out.update((html.escape(v), html.escape(v, quote=False)))
    return out

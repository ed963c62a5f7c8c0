"""No credential leaks through server text that echoes it back, whatever its shape (issue 8 point 7).

A real peer (tests/echo_peer.py, served through httpx.ASGITransport) answers every call of a real ApiClient
with an error echoing the Authorization header or the body, re-encoded raw, URL-encoded (several ways),
JSON-escaped (several ways) or HTML-escaped. Nothing readable of any secret may survive in the exception
(message, repr, attributes) or in the log. Service account usernames of every length 1-6 (the Basic base64
of `user:secret` only lines up with the base64 of `:secret` when the length is a multiple of 3), secrets
holding `+ / = " \\ & %`, a space and non-ASCII characters.
"""

from __future__ import annotations

import base64
import logging
import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from echo_peer import MARK, NASTY, NASTY_ASCII, echo_app, echoed, leaks

from idconsole.api.client import ApiClient
from idconsole.api.errors import IdConsoleError
from idconsole.api.models import Mapping
from idconsole.api.redact import FREE_FORM, MIN_FORM, Redactor
from idconsole.api.transport import RetryPolicy
from idconsole.config.connection import AmplitudeCredentials, Connection, MixpanelCredentials
from idconsole.config.secret import Secret

#: hundreds of calls to the echo peer: the hourly budgets (search 360, Mixpanel Query API 60) would
#: refuse most of them before they are sent, and then nothing would be echoed to check
ECHO_LIMITS = {"usersearch": (100_000, 1.0), "mpquery": (100_000, 1.0)}
USERS = ["u", "sa", "svc", "svc1", "svc-1", "svc-12"]   # lengths 1..6
FORMS = ["raw", "quote", "quote_slash", "quote_plus", "quote_lower", "json_ascii", "json_unicode",
         "json_twice", "json_in_form", "html"]

API_KEY = f"ak{MARK}{NASTY}1"
SECRET_KEY = f"sk{MARK}{NASTY_ASCII}2"   # it also travels as a header (Api-Key): ASCII
TOKEN = f"tk{MARK}{NASTY}3"
SA_SECRET = f"sa{MARK}{NASTY}4"
MP_API_SECRET = f"as{MARK}{NASTY}5"


def connection(sa_user: str | None = "svc-1", *, api_key: str = API_KEY, secret_key: str = SECRET_KEY) -> Connection:
    """Service account when `sa_user` is given, else the legacy API secret (Basic `secret:`)."""
    return Connection(
        name="echo",
        base_url="http://echo.test",
        amplitude=AmplitudeCredentials(api_key=Secret(api_key), secret_key=Secret(secret_key)),
        mixpanel=MixpanelCredentials(
            token=Secret(TOKEN),
            api_secret=None if sa_user else Secret(MP_API_SECRET),
            sa_username=sa_user,
            sa_secret=Secret(SA_SECRET) if sa_user else None,
            project_id="7",
        ),
    )


def secrets_and_pairs(conn: Connection) -> tuple[list[str], list[tuple[str, str]]]:
    """What the client sends, spelled out here (not taken from the redactor under test)."""
    amp, mp = conn.amplitude, conn.mixpanel
    assert amp is not None and mp is not None
    secrets = [amp.api_key.reveal(), amp.secret_key.reveal(), mp.token.reveal()]
    pairs = [(amp.api_key.reveal(), amp.secret_key.reveal())]
    if mp.sa_username and mp.sa_secret:
        secrets.append(mp.sa_secret.reveal())
        pairs.append((mp.sa_username, mp.sa_secret.reveal()))
    if mp.api_secret:
        secrets.append(mp.api_secret.reveal())
        pairs.append((mp.api_secret.reveal(), ""))
    return secrets, pairs


Call = Callable[[ApiClient], Awaitable[Any]]

AUTH_CALLS: dict[str, Call] = {
    "amplitude get mappings (Basic)": lambda c: c.amplitude.get_mappings(["u1"]),
    "amplitude search (Basic)": lambda c: c.amplitude.search("u1"),
    "amplitude profile (Api-Key)": lambda c: c.amplitude.profile(user_id="u1"),
    "mixpanel profile (Basic)": lambda c: c.mixpanel.profile("d1"),
    "mixpanel merge (Basic)": lambda c: c.mixpanel.merge("a1", "b1"),
}
BODY_CALLS: dict[str, Call] = {
    "amplitude usermap (form api_key)": lambda c: c.amplitude.map_batch([Mapping("u1", "g1")]),
    "amplitude identify (form api_key)": lambda c: c.amplitude.identify([{"user_id": "u1",
                                                                          "user_properties": {"p": 1}}]),
    "mixpanel $identify (token in form JSON)": lambda c: c.mixpanel.create_identity("u1", "anon-1"),
    "mixpanel merge (token in JSON body)": lambda c: c.mixpanel.merge("a1", "b1"),
}


async def call_echoed(conn: Connection, call: Call, form: str, what: str) -> tuple[IdConsoleError, str]:
    """Run one real call against the echoing peer; (the error it raised, the text the peer echoed)."""
    seen: list[dict[str, Any]] = []
    app = echo_app(form, what, seen)
    client = ApiClient(conn, transport=httpx.ASGITransport(app=app), retry=RetryPolicy.fast(1), limits=ECHO_LIMITS)
    try:
        with pytest.raises(IdConsoleError) as info:
            await call(client)
    finally:
        await client.aclose()
    assert seen, "the call should have reached the peer"
    last = seen[-1]
    return info.value, echoed(form, last["headers"], last["body"], what)


def assert_nothing_leaks(conn: Connection, error: IdConsoleError, echo: str, log_text: str) -> None:
    secrets, pairs = secrets_and_pairs(conn)
    # the peer really did echo a secret, early enough that no message limit can cut it off
    assert leaks(echo[:150], secrets, pairs), f"the peer's echo gives nothing away: {echo[:150]!r}"
    texts = {"message": str(error), "repr": repr(error), "hint": str(getattr(error, "hint", "")),
             "attributes": repr(vars(error)), "log": log_text}
    for where, text in texts.items():
        assert not leaks(text, secrets, pairs), f"leaked in the {where}: {text[:400]!r}"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("name", list(AUTH_CALLS))
async def test_echoed_authorization_header_never_leaks(name, user, form, caplog):
    caplog.set_level(logging.DEBUG, logger="idconsole")
    conn = connection(user)
    error, echo = await call_echoed(conn, AUTH_CALLS[name], form, "auth")
    assert_nothing_leaks(conn, error, echo, caplog.text)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["mixpanel profile (Basic)", "mixpanel merge (Basic)"])
async def test_echoed_api_secret_basic_never_leaks(name, form, caplog):
    caplog.set_level(logging.DEBUG, logger="idconsole")
    conn = connection(None)   # legacy API secret: Basic "secret:" with an empty password
    error, echo = await call_echoed(conn, AUTH_CALLS[name], form, "auth")
    assert_nothing_leaks(conn, error, echo, caplog.text)


#: the whole body is echoed where the key comes first; the token ends a long body, so it is echoed alone
BODY_ECHOES = [(name, "field") for name in BODY_CALLS] + [(name, "body") for name in BODY_CALLS if "api_key" in name]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("name", "what"), BODY_ECHOES)
async def test_echoed_body_credentials_never_leak(name, what, form, caplog):
    caplog.set_level(logging.DEBUG, logger="idconsole")
    conn = connection()
    error, echo = await call_echoed(conn, BODY_CALLS[name], form, what)
    assert_nothing_leaks(conn, error, echo, caplog.text)


async def test_a_short_secret_is_masked_without_eating_the_message():
    """A 3-character API key, "map", echoed in the usermap body: the key goes, "mapping" stays."""
    conn = connection(api_key="map")
    error, echo = await call_echoed(conn, BODY_CALLS["amplitude usermap (form api_key)"], "raw", "body")
    assert echo.startswith("api_key=map&mapping=")
    message = str(error)
    assert "api_key=***&mapping=%5B%7B%22user_id%22" in message, message   # the rest of the echo is readable
    assert "=map&" not in message


async def test_a_non_ascii_secret_key_is_refused_before_sending_with_one_sentence():
    """The Api-Key header cannot carry it: a clear BadInput (exit 2), nothing sent, nothing of it shown."""
    from idconsole.api.errors import BadInput

    conn = connection(secret_key=f"sk{MARK}é✓")
    seen: list[dict[str, Any]] = []
    client = ApiClient(conn, transport=httpx.ASGITransport(app=echo_app("raw", "auth", seen)),
                       retry=RetryPolicy.fast(1), limits=ECHO_LIMITS)
    try:
        with pytest.raises(BadInput) as info:
            await client.amplitude.profile(user_id="u1")
    finally:
        await client.aclose()
    assert seen == []
    assert "non-ASCII" in str(info.value) and MARK not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


# -- the redactor on its own: the short-value rule, overlaps, cost -----------------------------------

def test_short_forms_are_masked_only_where_they_stand_alone():
    r = Redactor([Secret("abc")])
    assert r("abcdef abc api_key=abc&x xabc") == "abcdef *** api_key=***&x xabc"
    assert r('{"api_key":"abc"}') == '{"api_key":***}'
    assert r("data=%7B%22token%22%3A%22abc%22%7D") == "data=%7B%22token%22%3A***%7D"
    assert r("ab a b") == "ab a b"                                  # shorter than any secret: untouched
    assert MIN_FORM == 3 and FREE_FORM == 8


def test_a_one_or_two_character_secret_is_never_masked_raw_but_its_basic_pair_is():
    r = Redactor([Secret("q")], pairs=[("q", "")])
    pair = base64.b64encode(b"q:").decode()
    assert r(f"quick q Basic {pair}") == "quick q Basic ***"


def test_long_secrets_are_masked_anywhere_and_overlaps_leave_nothing():
    a, b = "0123456789abcdef", "abcdefGHIJKLMNOP"          # share "abcdef"
    r = Redactor([Secret(a), Secret(b)], pairs=[])
    assert r(f"x{a}y") == "x***y"
    assert r("x0123456789abcdefGHIJKLMNOPy") == "x***y"     # one mask over the union, nothing left
    assert r(f"[{a}][{b}]") == "[***][***]"


def test_the_redactor_never_shows_or_pickles_its_forms():
    r = Redactor.for_connection(connection())
    assert MARK not in repr(r) and repr(r) == "Redactor(4 secrets)"
    with pytest.raises(TypeError):
        pickle.dumps(r)


async def test_for_connection_knows_every_basic_pair_the_client_sends():
    """Each Authorization header the client sends is masked whole by its client's redactor."""
    for conn in (connection("svc-1"), connection(None)):
        seen: list[dict[str, Any]] = []
        client = ApiClient(conn, transport=httpx.ASGITransport(app=echo_app("raw", "auth", seen)),
                           retry=RetryPolicy.fast(1), limits=ECHO_LIMITS)
        try:
            for call in AUTH_CALLS.values():
                with pytest.raises(IdConsoleError):
                    await call(client)
        finally:
            await client.aclose()
        assert len(seen) == len(AUTH_CALLS)
        for request in seen:
            header = request["headers"]["authorization"]
            scheme, value = header.split(" ", 1)
            assert client.transport.redact(header) == f"{scheme} ***", header
            if scheme == "Basic":
                assert MARK not in client.transport.redact(base64.b64decode(value).decode())

"""Secrets never leak: not in any URL that left the process (recorded by a real transport) or that the
sandbox saw, not in any log record at DEBUG, and not in str/repr of any error or anything chained to it —
on success and across every kind of failure, including a server that echoes the key back."""

from __future__ import annotations

import logging

import httpx
import pytest
from api_support import (  # noqa: F401
    SECRETS,
    api_log,
    assert_clean,
    assert_error_clean,
    connection,
    fresh_budgets,
    make_client,
    sa_only,
    secret_only,
    settle,
)
from sandbox_helpers import API_KEY, SECRET_KEY

from idconsole.api.errors import IdConsoleError
from idconsole.api.models import Mapping
from idconsole.api.transport import RetryPolicy

ECHO = f"bad key {API_KEY} / {SECRET_KEY} / sandbox-sa-secret / sandbox-token / sandbox-mp-api-secret"


async def every_call(client) -> list[IdConsoleError]:
    """Run one call of every kind; collect the errors they raise (some are expected)."""
    errors: list[IdConsoleError] = []
    calls = [
        lambda: client.amplitude.map_users([Mapping("sec-u", "sec-g")]),
        lambda: client.amplitude.get_mappings(["sec-u", "sec-g"]),
        lambda: client.amplitude.search("sec-u", use_cache=False),
        lambda: client.amplitude.profile("sec-u"),
        lambda: client.amplitude.identify([{"user_id": "sec-u", "user_properties": {"$add": {"n": 1}}}]),
        lambda: client.amplitude.identify([{"user_id": "sec-u", "user_properties": {"$set": {"a": 1}}}]),
        # $anon_id is a UUID v4 device id, as documented (the sandbox refuses anything else)
        lambda: client.mixpanel.create_identity("sec-id", "6f1c3a52-0d4e-4b8a-9c27-3e5f1a7b9d20"),
        lambda: client.mixpanel.create_alias("sec-alias", "sec-id"),
        lambda: client.mixpanel.merge("sec-m1", "sec-m2"),
        lambda: client.mixpanel.profile("hank@globex.net"),   # a cluster with a profile (the demo's story)
        lambda: client.amplitude_activity.page(100000001, limit=5),
        lambda: client.mixpanel_activity.events(["sec-id"], from_date="2024-01-01", to_date="2024-12-31"),
    ]
    for call in calls:
        try:
            await call()
        except IdConsoleError as exc:
            errors.append(exc)
    return errors


def check_everything(sb, client, caplog, errors) -> None:
    for request in client.transport._http._transport.sent:
        assert_clean(str(request.url))
    for entry in sb.requests():
        assert_clean(entry["path"], entry["query"])
    for record in caplog.records:
        assert_clean(record.getMessage(), str(record.args))
    for exc in errors:
        assert_error_clean(exc)
        chain = exc
        while chain is not None:
            assert not isinstance(chain, httpx.HTTPError), "an httpx exception (holding the request) is chained"
            chain = chain.__cause__ or chain.__context__


async def test_success_paths_keep_secrets_out(sandbox_clean, caplog):
    caplog.set_level(logging.DEBUG)
    async with make_client(sandbox_clean) as client:
        errors = await every_call(client)
        assert_clean(repr(client), repr(client.amplitude), repr(client.mixpanel), repr(client.budgets()))
    assert errors == []
    check_everything(sandbox_clean, client, caplog, errors)
    assert any(r.name == "idconsole.api" for r in caplog.records)


@pytest.mark.parametrize("fault", [
    {"status": 400, "body": ECHO},
    {"status": 401, "body": ECHO},
    {"status": 403, "body": ECHO},
    {"status": 413, "body": ECHO},
    {"status": 500, "body": ECHO, "times": 5},
    {"status": 429, "body": ECHO, "headers": {"Retry-After": "0"}, "times": 5},
    {"status": 200, "body": ECHO},
    {"status": 200, "body": '{"status": 0, "error": "' + ECHO + '"}', "content_type": "application/json"},
    {"status": 200, "body": '{"error": "' + ECHO + '"}', "content_type": "application/json"},
    {"reset": True, "times": 5},
    {"status": None, "delay_ms": 500, "times": 5},
], ids=["400", "401", "403", "413", "500", "429", "text", "status0", "error-json", "reset", "timeout"])
async def test_failures_keep_secrets_out(sandbox_clean, caplog, fault):
    caplog.set_level(logging.DEBUG)
    paths = ["/usermap", "/api/2/usermap", "/api/2/usersearch", "/v1/userprofile", "/identify", "/identify",
             "/track", "/track", "/import", "/api/query/engage"]
    for path in paths:
        sandbox_clean.fault(path=path, **fault)
    sandbox_clean.seed_users(users=[{"user_id": "sec-u"}])
    async with make_client(sandbox_clean, timeout=0.15, retry=RetryPolicy.fast(attempts=2)) as client:
        errors = await every_call(client)
        await settle(sandbox_clean, client)
    assert len(errors) >= 5, "the calls were scripted to fail (a 2xx on /usermap or /identify is success)"
    check_everything(sandbox_clean, client, caplog, errors)


@pytest.mark.parametrize("creds", [sa_only, secret_only])
async def test_mixpanel_auth_variants_keep_secrets_out(sandbox_clean, caplog, creds):
    caplog.set_level(logging.DEBUG)
    conn = connection(sandbox_clean.base_url, mixpanel=creds())
    sandbox_clean.fault(path="/import", status=401, body=ECHO)
    async with make_client(sandbox_clean, conn=conn) as client:
        errors = await every_call(client)
    check_everything(sandbox_clean, client, caplog, errors)
    sent = client.transport._http._transport.sent
    assert all("authorization" in r.headers for r in sent if r.url.path in ("/import", "/api/query/engage"))


def test_the_secret_list_is_the_sandbox_profile():
    conn = connection("http://127.0.0.1:9")
    assert conn.amplitude is not None and conn.mixpanel is not None
    revealed = {conn.amplitude.api_key.reveal(), conn.amplitude.secret_key.reveal(), conn.mixpanel.token.reveal()}
    assert revealed <= set(SECRETS)

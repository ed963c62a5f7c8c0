"""Retry behaviour and error shapes through real HTTP: 401/403 name the credential, 429 with and without
Retry-After, 5xx then success, resets, timeouts, unreachable hosts, 4xx never retried."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest
from api_support import api_log, connection, fresh_budgets, make_client, settle  # noqa: F401

from idconsole.api.client import ApiClient
from idconsole.api.errors import AuthError, NoSuchEndpoint, ServerRejected, Throttled, Unavailable
from idconsole.api.models import Mapping
from idconsole.api.transport import RetryPolicy
from idconsole.config.connection import AmplitudeCredentials
from idconsole.config.secret import Secret

SEARCH = "/api/2/usersearch"


@pytest.mark.parametrize(("status", "body"), [(401, "Invalid credentials"), (403, "Forbidden")])
async def test_auth_errors_name_the_credential_and_stop(sandbox_clean, status, body):
    sandbox_clean.fault(path=SEARCH, status=status, body=body)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(AuthError) as info:
            await client.amplitude.search("x")
    err = info.value
    assert "Amplitude rejected the API key / secret key pair" in str(err) and f"HTTP {status}" in str(err)
    assert err.exit_code == 3 and err.status == status and "secret key" in err.credential
    assert len(api_log(sandbox_clean, SEARCH)) == 1


async def test_real_401s_from_wrong_keys(sandbox_clean):
    wrong = AmplitudeCredentials(Secret("wrong-key"), Secret("wrong-secret"))
    conn = connection(sandbox_clean.base_url, amplitude=wrong)
    async with make_client(sandbox_clean, conn=conn) as client:
        with pytest.raises(AuthError, match="the API key \\(HTTP 401\\)"):
            await client.amplitude.map_batch([Mapping("u", "g")])
        with pytest.raises(AuthError, match="key / secret key pair"):
            await client.amplitude.get_mappings(["u"])
        with pytest.raises(AuthError, match="Invalid Api-Key.*secret key"):
            await client.amplitude.profile("u")
        with pytest.raises(AuthError, match="the API key"):
            await client.amplitude.identify([{"user_id": "u", "user_properties": {"a": 1}}])
    assert [e["status"] for e in api_log(sandbox_clean)] == [401, 401, 401, 401]


async def test_5xx_then_success(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=502, times=2)
    async with make_client(sandbox_clean, retry=RetryPolicy.fast(attempts=3)) as client:
        result = await client.amplitude.search("whoever")
    assert result.type == "nomatch"
    assert [e["status"] for e in api_log(sandbox_clean, SEARCH)] == [502, 502, 200]


async def test_5xx_until_attempts_run_out_is_unavailable(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=500, times=5, body="boom")
    async with make_client(sandbox_clean, retry=RetryPolicy.fast(attempts=3)) as client:
        with pytest.raises(Unavailable, match="HTTP 500.*3 attempts") as info:
            await client.amplitude.search("x")
    assert info.value.exit_code == 4
    assert len(api_log(sandbox_clean, SEARCH)) == 3


async def test_429_with_retry_after_seconds_is_honoured(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=429, headers={"Retry-After": "1"})
    async with make_client(sandbox_clean) as client:
        await client.amplitude.search("x")
        assert (client.transport.retries, client.transport.waited_s) == (1, 1.0)  # what it chose to wait
    assert [e["status"] for e in api_log(sandbox_clean, SEARCH)] == [429, 200]


async def test_429_with_retry_after_http_date(sandbox_clean):
    past = email.utils.formatdate(time.time() - 5, usegmt=True)
    sandbox_clean.fault(path=SEARCH, status=429, headers={"Retry-After": past})
    async with make_client(sandbox_clean) as client:
        await client.amplitude.search("x")
    assert [e["status"] for e in api_log(sandbox_clean, SEARCH)] == [429, 200]


async def test_429_without_retry_after_backs_off_then_succeeds(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=429, times=2)
    async with make_client(sandbox_clean) as client:
        await client.amplitude.search("x")
    assert [e["status"] for e in api_log(sandbox_clean, SEARCH)] == [429, 429, 200]


async def test_429_until_attempts_run_out_is_throttled(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=429, times=10, headers={"Retry-After": "0"})
    async with make_client(sandbox_clean, retry=RetryPolicy.fast(attempts=3)) as client:
        with pytest.raises(Throttled) as info:
            await client.amplitude.search("x")
    assert info.value.retry_after == 0 and info.value.exit_code == 4
    assert len(api_log(sandbox_clean, SEARCH)) == 3


async def test_a_long_retry_after_is_not_slept_through(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=429, headers={"Retry-After": "3600"})
    async with make_client(sandbox_clean) as client:
        with pytest.raises(Throttled, match="Retry after 3600 s") as info:
            await client.amplitude.search("x")
        # the budget now holds every caller of this family back
        assert {b.family: b.remaining for b in client.budgets()}["usersearch"] == 0
    assert info.value.retry_after == 3600
    assert len(api_log(sandbox_clean, SEARCH)) == 1


@pytest.mark.parametrize("status", [400, 413, 414])
async def test_client_errors_are_never_retried(sandbox_clean, status):
    sandbox_clean.fault(path=SEARCH, status=status, body="nope", times=3)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected) as info:
            await client.amplitude.search("x")
    assert info.value.status == status
    assert len(api_log(sandbox_clean, SEARCH)) == 1


async def test_a_404_that_is_no_answer_is_a_missing_endpoint_and_not_retried(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=404, body="nope", times=3)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(NoSuchEndpoint, match="no such endpoint: check the base URL"):
            await client.amplitude.search("x")
    assert len(api_log(sandbox_clean, SEARCH)) == 1


async def test_reset_before_answer_is_retried_for_reads(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, reset=True)
    async with make_client(sandbox_clean) as client:
        await client.amplitude.search("x")
    assert [e["status"] for e in api_log(sandbox_clean, SEARCH)] == [None, 200]


async def test_resets_until_attempts_run_out_is_unavailable(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, reset=True, times=3)
    async with make_client(sandbox_clean, retry=RetryPolicy.fast(attempts=3)) as client:
        with pytest.raises(Unavailable, match="connection closed by the server"):
            await client.amplitude.search("x")


async def test_timeout_then_success(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=None, delay_ms=1200)
    async with make_client(sandbox_clean, timeout=0.4) as client:
        result = await client.amplitude.search("x")
        await settle(sandbox_clean, client)
    assert result.type == "nomatch"
    assert sorted(e["fault"] or "" for e in api_log(sandbox_clean, SEARCH)) == ["", "scripted:None:before"]


async def test_timeouts_until_attempts_run_out_is_unavailable(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=None, delay_ms=1000, times=2)
    async with make_client(sandbox_clean, timeout=0.3, retry=RetryPolicy.fast(attempts=2)) as client:
        with pytest.raises(Unavailable, match="read timeout after 2 attempts"):
            await client.amplitude.search("x")
        await settle(sandbox_clean, client)
    assert len(api_log(sandbox_clean, SEARCH)) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_host_is_unavailable_even_for_non_idempotent_calls():
    conn = connection(f"http://127.0.0.1:{free_port()}")
    async with ApiClient(conn, retry=RetryPolicy.fast(attempts=3)) as client:
        with pytest.raises(Unavailable, match="connection failed after 3 attempts"):
            await client.amplitude.search("x")
        # nothing can have reached a server: an $add is retried like anything else, then Unavailable
        with pytest.raises(Unavailable):
            await client.amplitude.identify([{"user_id": "u", "user_properties": {"$add": {"n": 1}}}])
        with pytest.raises(Unavailable):
            await client.mixpanel.create_identity("u", "anon")


async def test_redirects_are_not_followed(sandbox_clean):
    sandbox_clean.fault(path=SEARCH, status=302, headers={"Location": "http://elsewhere.invalid/"})
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="unexpected response"):
            await client.amplitude.search("x")

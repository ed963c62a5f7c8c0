"""check_vendor: the one connection test both faces use (TUI Connections `t`, `idconsole profiles test`);
the end of the file runs it against the served sandbox (no entitlement, API-secret deprecation)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from api_support import api_log, connection, fresh_budgets, make_client, sa_only, secret_only  # noqa: F401
from sandbox_helpers import SECRET_KEY

from idconsole.api.errors import AuthError, BadInput, NoEntitlement, NotFound, Throttled, Unavailable
from idconsole.api.mixpanel import API_SECRET_DEPRECATION
from idconsole.api.probe import NO_ENTITLEMENT, NO_ENTITLEMENT_NOTE, PROBE_ID, TOKEN_ONLY_NOTE, check_vendor
from idconsole.config.connection import AmplitudeCredentials, MixpanelCredentials
from idconsole.config.secret import Secret


class FakeClient:
    """Records every call; `fail` is raised by the vendor's read."""

    def __init__(self, mixpanel: MixpanelCredentials | None = None, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.connection = SimpleNamespace(mixpanel=mixpanel)
        self.fail = fail
        self.amplitude = SimpleNamespace(get_mappings=self._call("get_mappings"))
        self.mixpanel = SimpleNamespace(profile=self._call("profile"))

    def _call(self, name: str):
        async def call(arg: object) -> None:
            self.calls.append((name, arg))
            if self.fail is not None:
                raise self.fail
        return call


FULL = MixpanelCredentials(token=Secret("t"), api_secret=Secret("s"))
TOKEN_ONLY = MixpanelCredentials(token=Secret("t"))


async def test_amplitude_ok_reads_one_id():
    client = FakeClient()
    result = await check_vendor(client, "amplitude")
    assert (result.outcome, result.ok, result.error, result.note) == ("ok", True, None, "")
    assert client.calls == [("get_mappings", [PROBE_ID])]


async def test_mixpanel_unknown_user_still_proves_the_credentials():
    client = FakeClient(FULL, fail=NotFound("no such user"))
    result = await check_vendor(client, "mixpanel")
    assert result.outcome == "ok" and result.error is None
    assert client.calls == [("profile", PROBE_ID)]


async def test_a_token_only_mixpanel_profile_is_not_checked_and_sends_nothing():
    client = FakeClient(TOKEN_ONLY)
    result = await check_vendor(client, "mixpanel")
    assert (result.outcome, result.ok, result.error) == ("unchecked", True, None)
    assert result.note == TOKEN_ONLY_NOTE == "token only: cannot be checked without a service account or API secret"
    assert client.calls == []


@pytest.mark.parametrize("error, outcome", [
    (AuthError("rejected", credential="the API secret"), "rejected"),
    (Unavailable("down"), "unreachable"),
    (Throttled("slow down"), "unreachable"),
    (BadInput("no project id"), "failed"),
])
async def test_failures_come_back_with_the_error(error, outcome):
    result = await check_vendor(FakeClient(FULL, fail=error), "mixpanel")
    assert (result.outcome, result.ok) == (outcome, False) and result.error is error


# -- against the served sandbox: entitlement, API-secret deprecation ------------------------------------

PORTFOLIO_403 = "Forbidden: this project does not have User Mapping; it needs the Portfolio add-on"


def wrong_secret(sb) -> object:
    return connection(sb.base_url, amplitude=AmplitudeCredentials(
        api_key=Secret("sandbox-api-key"), secret_key=Secret(SECRET_KEY + "-wrong")))


async def test_a_project_without_user_mapping_is_not_bad_credentials(start_sandbox):
    sb = start_sandbox("--no-usermap-entitlement")
    async with make_client(sb) as client:
        result = await check_vendor(client, "amplitude")
    assert (result.outcome, result.ok, result.note) == (NO_ENTITLEMENT, False, NO_ENTITLEMENT_NOTE)
    assert isinstance(result.error, NoEntitlement) and not isinstance(result.error, AuthError)
    assert "Portfolio add-on" in str(result.error) and result.error.exit_code == 2
    # the key pair was proven by one user search after the 403
    assert [(e["path"], e["status"]) for e in api_log(sb)] == [("/api/2/usermap", 403), ("/api/2/usersearch", 200)]


async def test_without_the_entitlement_bad_credentials_are_still_rejected(start_sandbox):
    sb = start_sandbox("--no-usermap-entitlement")
    async with make_client(sb, conn=wrong_secret(sb)) as client:
        result = await check_vendor(client, "amplitude")
    assert result.outcome == "rejected" and isinstance(result.error, AuthError)


async def test_a_403_naming_the_add_on_is_told_apart_from_a_plain_403(sandbox_clean):
    sandbox_clean.fault(path="/api/2/usermap", status=403, body=PORTFOLIO_403)
    async with make_client(sandbox_clean) as client:
        named = await check_vendor(client, "amplitude")
    sandbox_clean.fault(path="/api/2/usermap", status=403, body="Forbidden")
    async with make_client(sandbox_clean) as client:
        plain = await check_vendor(client, "amplitude")
    assert named.outcome == NO_ENTITLEMENT and named.error.kind == "no_entitlement"
    assert plain.outcome == "rejected" and isinstance(plain.error, AuthError) and plain.error.reason == "Forbidden"


async def test_an_api_secret_profile_carries_the_deprecation_notice(sandbox_clean):
    async with make_client(sandbox_clean, conn=connection(sandbox_clean.base_url, mixpanel=secret_only())) as client:
        assert client.mixpanel.deprecation == API_SECRET_DEPRECATION
        result = await check_vendor(client, "mixpanel")
    assert (result.outcome, result.deprecation) == ("ok", API_SECRET_DEPRECATION)
    assert "2027-03-03" in result.deprecation and "service account" in result.deprecation
    async with make_client(sandbox_clean, conn=connection(sandbox_clean.base_url, mixpanel=sa_only())) as client:
        assert client.mixpanel.deprecation is None
        assert (await check_vendor(client, "mixpanel")).deprecation == ""


async def test_the_deprecation_is_said_even_when_the_api_secret_is_rejected(sandbox_clean):
    bad = MixpanelCredentials(token=Secret("sandbox-token"), api_secret=Secret("not-the-secret"))
    async with make_client(sandbox_clean, conn=connection(sandbox_clean.base_url, mixpanel=bad)) as client:
        result = await check_vendor(client, "mixpanel")
    assert result.outcome == "rejected" and result.deprecation == API_SECRET_DEPRECATION

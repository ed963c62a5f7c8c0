"""check_vendor: the one connection test both faces use (TUI Connections `t`, `idconsole profiles test`)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from idconsole.api.errors import AuthError, BadInput, NotFound, Throttled, Unavailable
from idconsole.api.probe import PROBE_ID, TOKEN_ONLY_NOTE, check_vendor
from idconsole.config.connection import MixpanelCredentials
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

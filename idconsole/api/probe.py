"""The connection test: one cheap authenticated read per vendor that changes nothing.

Amplitude: get mappings of one id. Mixpanel: the engage lookup of one id (a "no such user" answer still
proves the credentials were accepted). A Mixpanel profile with only a project token is not checked: the
token cannot authenticate an engage call, and the only calls it can make send data.

Both faces use `check_vendor`: the TUI's Connections screen (`t`) and `idconsole profiles test`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idconsole.api.errors import AuthError, IdConsoleError, NotFound, Throttled, Unavailable

#: the id the test asks about: any answer (even "unknown user") proves the credentials
PROBE_ID = "idconsole-connection-test"

OK, UNCHECKED, REJECTED, UNREACHABLE, FAILED = "ok", "unchecked", "rejected", "unreachable", "failed"
TOKEN_ONLY_NOTE = "token only: cannot be checked without a service account or API secret"


@dataclass(frozen=True)
class ProbeResult:
    """`outcome`: ok, unchecked (with `note`), rejected (AuthError), unreachable (Unavailable or
    Throttled) or failed (any other api error). `error` is the api error, for the face to word it."""

    vendor: str
    outcome: str
    error: IdConsoleError | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (OK, UNCHECKED)


def token_only(connection: Any) -> bool:
    """A Mixpanel section with neither an API secret nor a service account secret."""
    mp = connection.mixpanel
    return mp is not None and not (mp.api_secret or mp.sa_secret)


async def check_vendor(client: Any, vendor: str) -> ProbeResult:
    """One authenticated read for `vendor` ("amplitude" or "mixpanel") on `client` (an ApiClient).
    Never raises an api error: it comes back in the result."""
    if vendor == "mixpanel" and token_only(client.connection):
        return ProbeResult(vendor, UNCHECKED, note=TOKEN_ONLY_NOTE)
    try:
        if vendor == "amplitude":
            await client.amplitude.get_mappings([PROBE_ID])
        else:
            try:
                await client.mixpanel.profile(PROBE_ID)
            except NotFound:
                pass  # the service answered about the user: the credentials were accepted
    except AuthError as exc:
        return ProbeResult(vendor, REJECTED, exc)
    except (Unavailable, Throttled) as exc:
        return ProbeResult(vendor, UNREACHABLE, exc)
    except IdConsoleError as exc:
        return ProbeResult(vendor, FAILED, exc)
    return ProbeResult(vendor, OK)

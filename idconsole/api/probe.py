"""The connection test: one cheap authenticated read per vendor that changes nothing.

Amplitude: get mappings of one id. Mixpanel: the engage lookup of one id (a "no such user" answer still
proves the credentials were accepted). A Mixpanel profile with only a project token is not checked: the
token cannot authenticate an engage call, and the only calls it can make send data.

- An Amplitude project without the user-mapping entitlement (the Portfolio add-on) answers get mappings
  403 naming the add-on: the test then checks the same key pair with one user search, so "no_entitlement"
  (credentials accepted, mapping refused) is told apart from "rejected" (bad credentials).
- A Mixpanel profile that authenticates with the legacy API secret gets `deprecation` (the notice to
  show: API secrets are being retired; service accounts are the supported way), whatever the outcome.

Both faces use `check_vendor`: the TUI's Connections screen (`t`) and `idconsole profiles test`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idconsole.api.errors import AuthError, IdConsoleError, NoEntitlement, NotFound, Throttled, Unavailable
from idconsole.api.mixpanel import api_secret_deprecation

#: the id the test asks about: any answer (even "unknown user") proves the credentials
PROBE_ID = "idconsole-connection-test"

OK, UNCHECKED, REJECTED, UNREACHABLE, FAILED = "ok", "unchecked", "rejected", "unreachable", "failed"
NO_ENTITLEMENT = "no_entitlement"
TOKEN_ONLY_NOTE = "token only: cannot be checked without a service account or API secret"
NO_ENTITLEMENT_NOTE = ("credentials accepted, but this project has no user-mapping entitlement (the Portfolio "
                       "add-on): get mappings, map and unmap are refused; user search works")


@dataclass(frozen=True)
class ProbeResult:
    """`outcome`: ok, unchecked (with `note`), no_entitlement (credentials fine, user mapping refused:
    `error` is the NoEntitlement, `note` says so), rejected (AuthError), unreachable (Unavailable or
    Throttled) or failed (any other api error, e.g. NoSuchEndpoint for a wrong base URL). `error` is the
    api error, for the face to word it. `deprecation` is a notice to show beside any outcome (Mixpanel
    API-secret authentication), "" when none."""

    vendor: str
    outcome: str
    error: IdConsoleError | None = None
    note: str = ""
    deprecation: str = ""

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
    notice = ""
    if vendor == "mixpanel":
        if token_only(client.connection):
            return ProbeResult(vendor, UNCHECKED, note=TOKEN_ONLY_NOTE)
        notice = api_secret_deprecation(client.connection.mixpanel) or ""
    try:
        if vendor == "amplitude":
            try:
                await client.amplitude.get_mappings([PROBE_ID])
            except NoEntitlement as missing:
                # the key pair may still be good: one user search says which (AuthError if not)
                await client.amplitude.search(PROBE_ID, use_cache=False)
                return ProbeResult(vendor, NO_ENTITLEMENT, missing, note=NO_ENTITLEMENT_NOTE)
        else:
            try:
                await client.mixpanel.profile(PROBE_ID)
            except NotFound:
                pass  # the service answered about the user: the credentials were accepted
    except AuthError as exc:
        return ProbeResult(vendor, REJECTED, exc, deprecation=notice)
    except (Unavailable, Throttled) as exc:
        return ProbeResult(vendor, UNREACHABLE, exc, deprecation=notice)
    except IdConsoleError as exc:
        return ProbeResult(vendor, FAILED, exc, deprecation=notice)
    return ProbeResult(vendor, OK, deprecation=notice)

"""Which host answers which call, per region (API.md "Regions and hosts"), and the one base-URL override.

Each entry is scheme+host only; callers append the full path (`/usermap`, `/api/2/usermap`, `/api/query/engage`),
so a base URL (the sandbox, a proxy) replaces every vendor host the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from idconsole.api.errors import BadInput


@dataclass(frozen=True)
class Hosts:
    usermap: str           # POST /usermap (map / unmap)
    analytics: str         # GET /api/2/usermap, /api/2/usersearch
    identify: str          # POST /identify
    profile: str | None    # GET /v1/userprofile; None where the API is not offered (EU)
    mp_ingest: str         # POST /track, /import
    mp_query: str          # GET /api/query/engage


_AMPLITUDE_US: dict[str, str | None] = {
    "usermap": "https://api.amplitude.com",
    "analytics": "https://amplitude.com",
    "identify": "https://api2.amplitude.com",
    "profile": "https://profile-api.amplitude.com",
}
_AMPLITUDE_EU: dict[str, str | None] = {
    "usermap": "https://api.eu.amplitude.com",
    "analytics": "https://analytics.eu.amplitude.com",
    "identify": "https://api.eu.amplitude.com",
    "profile": None,
}
# Amplitude has no Indian data centre: an `in` profile uses the US hosts for Amplitude.
_AMPLITUDE = {"us": _AMPLITUDE_US, "eu": _AMPLITUDE_EU, "in": _AMPLITUDE_US}
_MIXPANEL: dict[str, dict[str, str]] = {
    "us": {"mp_ingest": "https://api.mixpanel.com", "mp_query": "https://mixpanel.com"},
    "eu": {"mp_ingest": "https://api-eu.mixpanel.com", "mp_query": "https://eu.mixpanel.com"},
    "in": {"mp_ingest": "https://api-in.mixpanel.com", "mp_query": "https://in.mixpanel.com"},
}


def resolve_hosts(region: str, base_url: str | None = None) -> Hosts:
    if region not in _AMPLITUDE:
        raise BadInput(f"Unknown region {region!r}: use us, eu or in.")
    amp, mp = _AMPLITUDE[region], _MIXPANEL[region]
    if base_url:
        base = _clean_base(base_url)
        # the profile API stays unavailable in EU even behind a proxy: the vendor does not offer it
        return Hosts(base, base, base, None if amp["profile"] is None else base, base, base)
    return Hosts(
        usermap=str(amp["usermap"]),
        analytics=str(amp["analytics"]),
        identify=str(amp["identify"]),
        profile=amp["profile"],
        mp_ingest=mp["mp_ingest"],
        mp_query=mp["mp_query"],
    )


def _clean_base(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise BadInput("The base URL must start with http:// or https://.")
    if "@" in base.split("/", 3)[2]:
        # credentials in a URL end up in logs; they belong in the profile's secrets
        raise BadInput("The base URL must not contain a user name or password.")
    return base

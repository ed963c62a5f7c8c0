"""The one check of a base URL (IDCONSOLE_BASE_URL, a profile's `base_url`, `profiles add --base-url`).

Checked where it is configured, so a URL no request could ever use (a port out of range, no host, spaces,
credentials in it) is refused with a sentence before anything is sent, instead of surfacing as an
exception from deep inside the HTTP stack.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def base_url_problem(value: str) -> str | None:
    """Why `value` cannot be a base URL, or None when it can. The reason never repeats the URL (a URL
    with credentials in it must not be echoed)."""
    if not value.startswith(("http://", "https://")):
        return "it must start with http:// or https://"
    try:
        parts = urlsplit(value)
        parts.hostname  # noqa: B018 - ValueError for a malformed [IPv6] host
    except ValueError:
        return "it is not a valid URL"
    try:
        port = parts.port  # ValueError for a port out of range or not a number
    except ValueError:
        return "its port must be a number from 1 to 65535"
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in parts.netloc):
        return "its host contains spaces or control characters"
    if "@" in parts.netloc:
        # credentials in a URL end up in logs; they belong in the profile's secrets
        return "it must not contain a user name or password"
    if not parts.hostname:
        return "it has no host name"
    if port == 0:
        return "its port must be a number from 1 to 65535"
    if parts.query or parts.fragment:
        return "it must not have a query (?...) or fragment (#...)"
    return None

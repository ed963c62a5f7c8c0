"""What an id looks like, before anything is asked of a service.

`junk_reason` flags the ids broken clients send (`null`, `0`, empty, padded with spaces): one user id
collecting unrelated people. `query_kind` says what a lookup query looks like, which tells a device id
from an email when User search matched a user by something other than its own id.
"""

from __future__ import annotations

import re

JUNK_VALUES = frozenset({"null", "undefined", "none", "nil", "nan", "0", "-1", "(null)", "[object object]"})
MIN_ID_LENGTH = 5


def junk_reason(user_id: str | None) -> str | None:
    """Why `user_id` looks like an id a broken client sent (it then collects unrelated users), or None."""
    if user_id is None or user_id == "":
        return "empty id"
    if user_id.strip() == "":
        return "id is only whitespace"
    if user_id.strip().lower() in JUNK_VALUES:
        return f"placeholder value {user_id.strip()!r}"
    if user_id != user_id.strip():
        return "id has leading or trailing whitespace"
    if len(user_id) < MIN_ID_LENGTH:
        return f"very short id ({len(user_id)} characters)"
    return None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}R?$")


def query_kind(query: str) -> str:
    """What a lookup query looks like: "email", "number" (an Amplitude id?), "device" (a UUID) or "user"."""
    if _EMAIL.match(query):
        return "email"
    if query.isascii() and query.isdigit():
        return "number"
    if _UUID.match(query):
        return "device"
    return "user"

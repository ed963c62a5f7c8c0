"""The request log behind `GET /_sandbox/requests`: what reached the API routes, never a secret.

Query parameters that carry credentials are dropped, bodies are not stored (only their size), and headers
are not stored at all, so the log can be shown or attached to a bug report as is.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_ENTRIES = 10_000
SECRET_PARAMS = ("api_key", "secret", "token", "password", "key")


def clean_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if not any(s in k.lower() for s in SECRET_PARAMS)])


class RequestLog:
    def __init__(self) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)

    def add(self, method: str, path: str, query: bytes, status: int | None, body_bytes: int, items: int | None,
            fault: str | None) -> None:  # fmt: skip
        self.entries.append(
            {"method": method, "path": path, "query": clean_query(query), "status": status,
             "body_bytes": body_bytes, "items": items, "fault": fault}
        )  # fmt: skip

    def export(self) -> list[dict[str, Any]]:
        return list(self.entries)

    def clear(self) -> None:
        self.entries.clear()

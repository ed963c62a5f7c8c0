"""What a non-2xx answer that is not retried means, worded once for every vendor call.

- 404 is never "no such user" here: a caller that has a documented unknown-user answer checks for it
  first; any other 404 means the server has no such endpoint (a wrong base URL): NoSuchEndpoint.
- 413 / 414: too large / URL too long. Other 4xx: ServerRejected with the server's reason (the `error`,
  `message`, `reason` or `detail` field of a JSON body, else the body text), redacted and shortened.
- Anything else: an unexpected (malformed) answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from idconsole.api.errors import IdConsoleError, ServerRejected
from idconsole.api.transport import Reply

_T = TypeVar("_T")


def rejected(reply: Reply, what: str) -> IdConsoleError:
    if reply.status == 404:
        return reply.no_endpoint()
    if reply.status == 413:
        return ServerRejected(f"{reply.service}: {what} is too large for the server (HTTP 413).",
                              status=413, reason="too large")
    if reply.status == 414:
        return ServerRejected(f"{reply.service}: {what} made a URL that is too long (HTTP 414).",
                              status=414, reason="URL too long")
    why = reason(reply)
    if 400 <= reply.status < 500:
        return ServerRejected(f"{reply.service} rejected {what} (HTTP {reply.status}): {why}",
                              status=reply.status, reason=why)
    return reply.unexpected(f"status {reply.status}")


def reason(reply: Reply) -> str:
    try:
        data = json.loads(reply.text)
    except ValueError:
        return reply.snippet()
    if isinstance(data, dict):
        for key in ("error", "message", "reason", "detail"):
            if isinstance(data.get(key), str):
                return reply.redact(data[key])[:300]
    return reply.snippet()


def json_or_none(reply: Reply) -> object | None:
    """The body as JSON when it is JSON, else None (a 404 page, plain text)."""
    try:
        return json.loads(reply.text)
    except (ValueError, RecursionError):
        return None


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[_T]]]) -> list[_T]:
    """Run jobs with at most `limit` in flight; the first failure cancels the rest and is raised."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[_T]]) -> _T:
        async with gate:
            return await job()

    tasks = [asyncio.ensure_future(run(j)) for j in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()

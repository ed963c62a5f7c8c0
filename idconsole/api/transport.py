"""The one place that sends HTTP: retries with backoff and jitter, 429 handling, auth errors, redaction.

Rules (API.md "What every call must survive"):
- connection errors, timeouts, 5xx -> exponential backoff with full jitter, then Unavailable;
- 429 -> honour Retry-After (seconds or HTTP date), else back off; then Throttled;
- 401/403 -> AuthError naming the credential (a 403 naming a missing add-on on a call that needs one:
  NoEntitlement); every other status goes back to the caller, never retried;
- a call with a `gate` holds one slot of its family's in-flight cap around each attempt (inflight.py);
- a non-idempotent call is retried only when it cannot have reached the server (connect errors) or the
  server refused it (429); otherwise UnknownOutcome.
Errors are raised outside the `except` blocks so no httpx exception (which holds the request and its
headers) is chained to them, and every piece of server text is passed through the redactor first.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from idconsole.api import debug_log
from idconsole.api.errors import (
    AuthError,
    BadInput,
    IdConsoleError,
    MalformedAnswer,
    NoEntitlement,
    NoSuchEndpoint,
    ServerRejected,
    Throttled,
    Unavailable,
    UnknownOutcome,
    names_entitlement,
    shorten,
)
from idconsole.api.inflight import InFlightGate
from idconsole.api.ratelimit import RollingBudget, Sleep
from idconsole.api.redact import Redactor

log = logging.getLogger("idconsole.api")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=30.0)
DEFAULT_POOL = httpx.Limits(max_connections=20, max_keepalive_connections=10)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5            # total tries per call, the first included
    base_delay: float = 0.25     # backoff: uniform(0, min(max_delay, base_delay * 2**retry))
    max_delay: float = 8.0
    throttle_first: float = 1.0  # 429 without Retry-After on a call with no budget: first hold ...
    throttle_cap: float = 60.0   # ... doubling up to this
    max_retry_after: float = 120.0  # a longer Retry-After is not slept through: Throttled at once
    #: scales every 429 hold chosen without Retry-After (Mixpanel 2 s -> 60 s, identify 15 s); tests shrink it
    hold_scale: float = 1.0

    @classmethod
    def fast(cls, attempts: int = 3) -> RetryPolicy:
        """Tiny delays for tests and benchmarks against the sandbox."""
        return cls(attempts=attempts, base_delay=0.001, max_delay=0.01, max_retry_after=5.0, hold_scale=0.005)


@dataclass(repr=False)
class Call:
    """One logical request. `path` (no query) is all that reaches logs and messages.

    Its body and headers hold revealed credentials while it exists, so its repr shows neither."""

    method: str
    url: str
    path: str
    service: str                      # "Amplitude user search", for messages
    credential: str                   # "the API key / secret key pair": named in AuthError, never its value
    params: list[tuple[str, str]] | None = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    idempotent: bool = True
    why_not_idempotent: str = ""      # "it contains $add", for UnknownOutcome
    budget: RollingBudget | None = None   # waited for before sending, held while in flight
    cost: int = 1                         # units of the budget (mappings for usermap)
    max_wait: float | None = None         # refuse (Throttled) rather than wait longer for the budget
    throttle_first: float | None = None   # override of the 429 hold when there is no budget (identify: 15 s)
    auth_message: str = ""            # "Amplitude rejected the API key / secret key pair"
    auth_hint: str = ""
    gate: InFlightGate | None = None      # the family's in-flight cap, held around each attempt
    #: a paid feature the call needs ("user mapping (the Portfolio add-on)"): a 403 naming it is NoEntitlement
    entitlement: str = ""

    def __repr__(self) -> str:
        return f"Call({self.method} {self.path}, idempotent={self.idempotent})"


@dataclass(frozen=True)
class Reply:
    """A finished response, decoupled from httpx (it never carries the request or its headers)."""

    status: int
    text: str
    headers: dict[str, str]
    service: str
    path: str
    redact: Redactor

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def snippet(self, limit: int = 200) -> str:
        return shorten(self.redact(self.text), limit) or "(empty body)"

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            pass  # raised below, so the decode error (which holds the whole body) is not chained
        raise self.unexpected("not JSON")

    def unexpected(self, detail: str) -> ServerRejected:
        return MalformedAnswer(
            f"{self.service}: unexpected response, a malformed answer (HTTP {self.status}, {detail}): "
            f"{self.snippet()}",
            status=self.status,
            reason=detail,
        )

    def no_endpoint(self) -> NoSuchEndpoint:
        """A 404 that is not a documented unknown-user answer: the base URL is wrong, not the user."""
        return NoSuchEndpoint(
            f"{self.service}: this server has no such endpoint: check the base URL (HTTP 404 for {self.path}).",
            path=self.path,
            hint="The profile's base URL (or proxy) must serve the vendor's paths at its root.",
        )

    @contextmanager
    def parsing(self) -> Iterator[None]:
        """Any shape surprise while reading this reply becomes ServerRejected, never KeyError."""
        failure: str | None = None
        try:
            yield
        except IdConsoleError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            failure = shorten(self.redact(str(exc)) or type(exc).__name__, 120)
        if failure is not None:
            raise self.unexpected(failure)


class Transport:
    """Wraps the profile's single httpx.AsyncClient."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        policy: RetryPolicy | None = None,
        redact: Redactor | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self.policy = policy or RetryPolicy()
        self.redact = redact or Redactor()
        self._sleep = sleep
        self._rng = random.Random()
        #: retries made and seconds chosen to wait between attempts, over the client's life
        self.retries = 0
        self.waited_s = 0.0

    def __repr__(self) -> str:
        return f"Transport(attempts={self.policy.attempts})"

    async def send(self, call: Call) -> Reply:
        if call.budget is None:
            return await self._attempts(call)
        asked = time.monotonic()
        booking = await call.budget.wait_for(call.cost, max_wait=call.max_wait)
        try:
            return await self._attempts(call, budget_wait=time.monotonic() - asked)
        finally:
            call.budget.release(booking)

    async def _attempts(self, call: Call, budget_wait: float = 0.0) -> Reply:
        policy = self.policy
        attempt = 0
        throttle_strikes = 0
        while True:
            attempt += 1
            last = attempt >= policy.attempts
            failure: str | None = None
            delivered = False
            response: httpx.Response | None = None
            unbuildable = False
            started = time.monotonic()
            try:
                response = await self._request(call)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                failure = _describe(exc)          # never left this machine: safe to retry
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                failure, delivered = _describe(exc), True
            except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
                failure, unbuildable = type(exc).__name__, True
            except UnicodeEncodeError:         # a header value (the Api-Key secret) is not ASCII; its text stays out
                failure, unbuildable = "a header holds a non-ASCII character; check the profile's credentials", True
            except httpx.HTTPError as exc:     # decoding errors and the like: the request went out
                failure, delivered = _describe(exc), True
            debug_log.record(call, self.redact, attempt=attempt, failure=failure,   # the request log (--log-file)
                             status=None if response is None else response.status_code,
                             seconds=time.monotonic() - started, budget_wait=budget_wait if attempt == 1 else 0.0)
            if unbuildable:
                raise BadInput(f"{call.service}: could not build the request ({failure}).")

            if failure is not None:
                log.warning("%s %s failed: %s (attempt %d/%d)", call.method, call.path, failure,
                            attempt, policy.attempts)
                if delivered and not call.idempotent:
                    raise self._unknown(call, failure)
                if last:
                    raise Unavailable(
                        f"{call.service} is unreachable: {failure} after {attempt} attempts.",
                        hint="Check the network or the base URL, then try again.",
                    )
                await self._pause(self._backoff(attempt))
                continue

            assert response is not None
            reply = Reply(
                status=response.status_code,
                text=response.text,
                headers={k.lower(): v for k, v in response.headers.items()},
                service=call.service,
                path=call.path,
                redact=self.redact,
            )
            log.debug("%s %s -> %d (%.2f s)", call.method, call.path, reply.status, time.monotonic() - started)

            if reply.status in (401, 403):
                raise self._auth_error(call, reply)
            if reply.status == 429:
                retry_after = parse_retry_after(reply.headers.get("retry-after"))
                if retry_after is not None and retry_after > policy.max_retry_after:
                    self._hold(call, retry_after)
                    raise self._throttled(call, retry_after, attempt)
                wait = self._throttle_wait(call, retry_after, throttle_strikes)
                throttle_strikes += 1
                log.warning("%s %s throttled (HTTP 429), waiting %.2f s (attempt %d/%d)",
                            call.method, call.path, wait, attempt, policy.attempts)
                if last:
                    raise self._throttled(call, retry_after, attempt)
                await self._pause(wait)
                continue
            if reply.status >= 500:
                failure = f"HTTP {reply.status}"
                log.warning("%s %s -> %d (attempt %d/%d)", call.method, call.path, reply.status,
                            attempt, policy.attempts)
                if not call.idempotent:
                    raise self._unknown(call, f"the server answered HTTP {reply.status}")
                if last:
                    raise Unavailable(
                        f"{call.service} kept failing (HTTP {reply.status}) after {attempt} attempts: "
                        f"{reply.snippet(120)}",
                        hint="The service may be down; try again later.",
                    )
                await self._pause(self._backoff(attempt))
                continue
            if call.budget is not None and reply.ok:
                call.budget.succeeded()
            return reply

    # -- helpers ----------------------------------------------------------------------------------

    async def _request(self, call: Call) -> httpx.Response:
        if call.gate is None:
            return await self._send_http(call)
        async with call.gate.slot():
            return await self._send_http(call)

    async def _send_http(self, call: Call) -> httpx.Response:
        return await self._http.request(
            # no params: None, not (), which would make httpx drop a query already in call.url
            call.method, call.url, params=tuple(call.params) if call.params else None, data=call.data,
            content=call.content,
            headers=call.headers,
        )

    def _auth_error(self, call: Call, reply: Reply) -> IdConsoleError:
        reason = reply.snippet(200)
        if call.entitlement and reply.status == 403 and names_entitlement(reply.text):
            return NoEntitlement(
                f"{call.service}: the credentials were accepted, but this project has no {call.entitlement} "
                f"(HTTP 403): {reason}",
                feature=call.entitlement,
                hint="Ask the organisation's admin to enable it; lookups by user search still work.",
                reason=reason,
            )
        said = call.auth_message or f"{call.service} rejected {call.credential}"
        return AuthError(
            f"{said} (HTTP {reply.status}).",
            credential=call.credential,
            hint=call.auth_hint or "Check the credentials of this profile.",
            status=reply.status,
            reason=reason,
        )

    async def _pause(self, seconds: float) -> None:
        self.retries += 1
        self.waited_s += seconds
        await self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        p = self.policy
        return self._rng.uniform(0.0, min(p.max_delay, p.base_delay * (2 ** (attempt - 1))))

    def _throttle_wait(self, call: Call, retry_after: float | None, strikes: int) -> float:
        if call.budget is not None:
            # the shared budget holds every caller back, not just this one (adaptive, per family)
            if retry_after is not None:
                return call.budget.throttled(retry_after)
            return call.budget.throttled(None, scale=self.policy.hold_scale)
        if retry_after is not None:
            return retry_after
        p = self.policy
        first = call.throttle_first if call.throttle_first is not None else p.throttle_first
        base = min(p.throttle_cap, first * (2 ** strikes))
        return min(p.throttle_cap, base * self._rng.uniform(1.0, 1.25)) * p.hold_scale

    def _hold(self, call: Call, seconds: float) -> None:
        if call.budget is not None:
            call.budget.throttled(seconds)

    def _throttled(self, call: Call, retry_after: float | None, attempt: int) -> Throttled:
        when = f" Retry after {retry_after:.0f} s." if retry_after is not None else ""
        return Throttled(
            f"{call.service} is throttling requests (HTTP 429) after {attempt} attempts.{when}",
            retry_after=retry_after,
            hint="Wait and try again; nothing from this request was applied.",
        )

    def _unknown(self, call: Call, failure: str) -> UnknownOutcome:
        why = f" because {call.why_not_idempotent}" if call.why_not_idempotent else ""
        return UnknownOutcome(
            f"{call.method} {call.path} may or may not have been applied ({failure}); "
            f"it was not retried{why}.",
            hint="Check the current state before sending it again.",
        )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After is either seconds or an HTTP date. Garbage means "not given"."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


def _describe(exc: Exception) -> str:
    """A short cause without the request: httpx messages name the URL at most, never headers or bodies."""
    kinds = {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "too many requests in flight (pool timeout)",
        httpx.ConnectError: "connection failed",
        httpx.RemoteProtocolError: "connection closed by the server",
        httpx.ReadError: "connection reset",
        httpx.WriteError: "connection reset while sending",
    }
    for kind, text in kinds.items():
        if isinstance(exc, kind):
            return text
    return type(exc).__name__

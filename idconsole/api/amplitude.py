"""Amplitude: User Mapping, User search, User Profile, Identify (API.md).

Keys travel only in form bodies (`api_key`) and headers (Basic, `Api-Key`), never in a URL.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from idconsole.api.errors import BadInput, NotFound, NotOffered, ServerRejected
from idconsole.api.hosts import Hosts
from idconsole.api.models import Mapping, SearchResult, UserMappings, UserProfile
from idconsole.api.parse import parse_mappings, parse_profile, parse_search, profile_error
from idconsole.api.ratelimit import RollingBudget
from idconsole.api.transport import Call, Reply, Transport
from idconsole.config.connection import AmplitudeCredentials

USERMAP_MAX_MAPPINGS = 2000
USERMAP_MAX_BYTES = 1_000_000  # 1 MB as the vendor counts it, with our own safety margin below 1 MiB
GET_MAPPINGS_MAX_IDS = 100
GET_MAPPINGS_CONCURRENCY = 10
#: ids travel as repeated query values; servers and proxies commonly refuse request targets over ~8 KB
#: (RFC 9110 asks for at least 8000 octets), so long ids make smaller chunks instead of a 414
GET_MAPPINGS_MAX_QUERY_BYTES = 7_000
IDENTIFY_OPERATIONS = (
    "$set", "$setOnce", "$add", "$append", "$prepend", "$unset",
    "$preInsert", "$postInsert", "$remove", "$clearAll",
)
NON_IDEMPOTENT_OPERATIONS = frozenset({"$add", "$append", "$prepend", "$preInsert", "$postInsert", "$remove"})
IDENTIFY_FIELDS = frozenset({
    "user_id", "device_id", "user_properties", "groups",
    "app_version", "platform", "os_name", "os_version", "device_brand", "device_manufacturer",
    "device_model", "carrier", "country", "region", "city", "dma", "language", "paying", "start_version",
})
IDENTIFY_MAX_DEPTH = 40
IDENTIFY_MAX_GROUP_TYPES = 5
IDENTIFY_MAX_GROUPS = 10
#: the 429 hold for identify when the server gives no Retry-After (API.md: pause at least 15 s)
IDENTIFY_THROTTLE_S = 15.0
#: a search that would wait longer than this for its hourly budget fails fast with Throttled instead
SEARCH_MAX_WAIT_S = 30.0
#: bytes assumed for the api_key field when the caller does not pass the key (Amplitude keys are 32 chars)
KEY_RESERVE = 128
REC_TYPES = ("model", "random")
PROPENSITY_TYPES = ("score", "pct")
NOT_SEEN = "not seen before"

_T = TypeVar("_T")


# -- map / unmap batches ---------------------------------------------------------------------------

def _mapping_json(mapping: Mapping) -> str:
    return json.dumps(mapping.to_wire(), separators=(",", ":"), ensure_ascii=False)


def _check_mapping(mapping: Mapping) -> None:
    if not isinstance(mapping.user_id, str) or not mapping.user_id:
        raise BadInput("Every mapping needs a non-empty user_id.")
    if mapping.unmap:
        if mapping.global_user_id:
            raise BadInput(f"An unmap of {mapping.user_id[:80]!r} must not name a global_user_id.")
    elif not isinstance(mapping.global_user_id, str) or not mapping.global_user_id:
        raise BadInput(f"The mapping of {mapping.user_id[:80]!r} needs a global_user_id (or unmap).")


def id_chunks(ids: Sequence[str], *, max_ids: int = GET_MAPPINGS_MAX_IDS,
              max_query_bytes: int = GET_MAPPINGS_MAX_QUERY_BYTES) -> list[list[str]]:
    """Get-mappings requests: at most 100 ids each, and a query string short enough for any server
    (an id longer than that on its own still goes alone; the server's 414 then says why)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for user_id in ids:
        item = len("user_ids=") + len(quote(user_id, safe="")) + 1   # "&" between values
        if current and (len(current) >= max_ids or size + item > max_query_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(user_id)
        size += item
    if current:
        chunks.append(current)
    return chunks


def usermap_body(batch: Sequence[Mapping], api_key: str) -> dict[str, str]:
    """The form fields of one POST /usermap, in the order they are encoded."""
    return {"api_key": api_key, "mapping": "[" + ",".join(_mapping_json(m) for m in batch) + "]"}


def usermap_body_size(batch: Sequence[Mapping], api_key: str | None = None) -> int:
    """Exact bytes of the urlencoded body (httpx encodes forms with urlencode/quote_plus)."""
    key_bytes = len(quote_plus(api_key)) if api_key is not None else KEY_RESERVE
    items = [len(quote_plus(_mapping_json(m))) for m in batch]
    # "api_key=" KEY "&mapping=" "%5B" item ("%2C" item)* "%5D"
    return len("api_key=") + key_bytes + len("&mapping=") + 6 + sum(items) + 3 * max(0, len(items) - 1)


def split_usermap_batches(
    mappings: Sequence[Mapping],
    *,
    api_key: str | None = None,
    max_mappings: int = USERMAP_MAX_MAPPINGS,
    max_bytes: int = USERMAP_MAX_BYTES,
) -> list[list[Mapping]]:
    """Split into request bodies of at most 2000 mappings AND at most 1 MB encoded (form body incl. key).

    Without `api_key` the key field is budgeted at KEY_RESERVE bytes; pass the key for the exact split.
    Order is kept (a later mapping of the same user wins on the server)."""
    key_bytes = len(quote_plus(api_key)) if api_key is not None else KEY_RESERVE
    fixed = len("api_key=") + key_bytes + len("&mapping=") + 6   # brackets, encoded
    batches: list[list[Mapping]] = []
    current: list[Mapping] = []
    size = fixed
    for mapping in mappings:
        _check_mapping(mapping)
        item = len(quote_plus(_mapping_json(mapping)))
        if fixed + item > max_bytes:
            raise BadInput(
                f"The mapping of {mapping.user_id[:80]!r} is too large to send on its own "
                f"({fixed + item:,} bytes encoded; the limit is {max_bytes:,})."
            )
        extra = item + (3 if current else 0)   # "%2C" between items
        if current and (len(current) >= max_mappings or size + extra > max_bytes):
            batches.append(current)
            current, size, extra = [], fixed, item
        current.append(mapping)
        size += extra
    if current:
        batches.append(current)
    return batches


# -- identify validation --------------------------------------------------------------------------

def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def normalise_identification(identification: dict[str, Any]) -> dict[str, Any]:
    """A copy with `$unset` / `$clearAll` values set to "-" (the only value the API accepts)."""
    out = dict(identification)
    props = out.get("user_properties")
    if isinstance(props, dict):
        props = dict(props)
        if isinstance(props.get("$unset"), dict):
            props["$unset"] = {k: "-" for k in props["$unset"]}
        elif isinstance(props.get("$unset"), (list, tuple)):
            props["$unset"] = {str(k): "-" for k in props["$unset"]}
        if "$clearAll" in props:
            props["$clearAll"] = "-"
        out["user_properties"] = props
    return out


def is_idempotent_identification(identification: dict[str, Any]) -> bool:
    props = identification.get("user_properties")
    return not (isinstance(props, dict) and NON_IDEMPOTENT_OPERATIONS & props.keys())


def validate_identification(identification: dict[str, Any]) -> None:
    """Raise BadInput (with a precise reason) if an identify object would be rejected or silently dropped."""
    if not isinstance(identification, dict):
        raise BadInput("An identification must be an object.")
    unknown = sorted(str(k) for k in identification if k not in IDENTIFY_FIELDS)
    if unknown:
        raise BadInput(
            f"Unknown identify field(s): {', '.join(k[:40] for k in unknown[:5])}. "
            "Identify accepts user_id, device_id, user_properties, groups and the documented device fields."
        )
    ids = [identification.get("user_id"), identification.get("device_id")]
    for value, name in zip(ids, ("user_id", "device_id"), strict=True):
        if value is not None and not isinstance(value, str):
            raise BadInput(f"{name} must be a string.")
    if not any(ids):
        raise BadInput("An identification needs a user_id or a device_id.")
    who = str(identification.get("user_id") or identification.get("device_id"))[:80]
    props = identification.get("user_properties")
    if props is not None:
        _validate_properties(props, who)
    groups = identification.get("groups")
    if groups is not None:
        _validate_groups(groups, who)


def _validate_properties(props: Any, who: str) -> None:
    if not isinstance(props, dict):
        raise BadInput(f"user_properties of {who!r} must be an object.")
    ops = [k for k in props if str(k).startswith("$")]
    if ops and len(ops) != len(props):
        raise BadInput(
            f"user_properties of {who!r} mix plain keys with operations ({', '.join(ops[:3])}); "
            "put plain keys inside $set."
        )
    if not ops:
        depth = _depth(props)
    else:
        depth = 0
        for op in ops:
            if op not in IDENTIFY_OPERATIONS:
                raise BadInput(f"Unknown user property operation {op[:40]!r} for {who!r}.")
            value = props[op]
            if op == "$clearAll":
                if value != "-":
                    raise BadInput(f'$clearAll for {who!r} takes the value "-".')
                continue
            if not isinstance(value, dict) or not value:
                raise BadInput(f"{op} for {who!r} needs an object of properties.")
            if op == "$unset" and any(v != "-" for v in value.values()):
                raise BadInput(f'$unset values for {who!r} must be "-".')
            depth = max(depth, _depth(value))
    if depth > IDENTIFY_MAX_DEPTH:
        raise BadInput(f"user_properties of {who!r} nest {depth} levels deep; the limit is {IDENTIFY_MAX_DEPTH}.")


def _validate_groups(groups: Any, who: str) -> None:
    if not isinstance(groups, dict):
        raise BadInput(f"groups of {who!r} must be an object of group type -> name(s).")
    if len(groups) > IDENTIFY_MAX_GROUP_TYPES:
        raise BadInput(f"{who!r} has {len(groups)} group types; the limit is {IDENTIFY_MAX_GROUP_TYPES}.")
    total = 0
    for kind, names in groups.items():
        values = names if isinstance(names, list) else [names]
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
            raise BadInput(f"Group {str(kind)[:40]!r} of {who!r} must be a name or a list of names.")
        total += len(values)
    if total > IDENTIFY_MAX_GROUPS:
        raise BadInput(f"{who!r} is in {total} groups; the limit is {IDENTIFY_MAX_GROUPS}.")


# -- the client ------------------------------------------------------------------------------------

class AmplitudeApi:
    """Created by ApiClient; shares its Transport (one httpx.AsyncClient) and the process-wide budgets."""

    def __init__(
        self,
        credentials: AmplitudeCredentials | None,
        transport: Transport,
        hosts: Hosts,
        budgets: dict[str, RollingBudget],
        *,
        region: str = "us",
    ) -> None:
        self._creds = credentials
        self._transport = transport
        self._hosts = hosts
        self._budgets = budgets
        self._region = region
        self._search_cache: dict[str, SearchResult] = {}
        #: how many get-mappings requests may be in flight at once (benchmarks read it)
        self.get_mappings_concurrency = GET_MAPPINGS_CONCURRENCY

    def __repr__(self) -> str:
        return f"AmplitudeApi(region={self._region!r}, configured={self._creds is not None})"

    # credentials are revealed only here, while a request is being built

    def _key(self) -> str:
        if self._creds is None or not self._creds.api_key:
            raise BadInput("This profile has no Amplitude API key.", hint="Add it with `idconsole profiles add`.")
        return self._creds.api_key.reveal()

    def _basic(self) -> dict[str, str]:
        key = self._key()
        if self._creds is None or not self._creds.secret_key:
            raise BadInput("This profile has no Amplitude secret key.", hint="Add it with `idconsole profiles add`.")
        pair = base64.b64encode(f"{key}:{self._creds.secret_key.reveal()}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}

    # -- User Mapping -----------------------------------------------------------------------------

    async def map_batch(self, batch: Sequence[Mapping]) -> None:
        """POST one already-split batch to /usermap. Idempotent: retried on 5xx/resets/429."""
        if not batch:
            return
        for mapping in batch:
            _check_mapping(mapping)
        key = self._key()
        if len(batch) > USERMAP_MAX_MAPPINGS or usermap_body_size(batch, key) > USERMAP_MAX_BYTES:
            raise BadInput("This batch is over 2000 mappings or 1 MB; split it with split_usermap_batches().")
        await self._budgets["usermap"].acquire(len(batch))
        reply = await self._transport.send(Call(
            "POST", self._hosts.usermap + "/usermap", "/usermap",
            service="Amplitude user mapping",
            credential="the API key",
            auth_message="Amplitude rejected the API key",
            auth_hint="Check the profile's Amplitude API key (user mapping also needs the Portfolio add-on).",
            data=usermap_body(batch, key),
            budget=self._budgets["usermap"],
        ))
        if not reply.ok:
            raise _rejected(reply, "the mapping batch")

    async def map_users(self, mappings: Sequence[Mapping]) -> int:
        """Split and send every batch in order, paced by the usermap budget. Returns batches sent."""
        batches = split_usermap_batches(mappings, api_key=self._key())
        for batch in batches:
            await self.map_batch(batch)
        return len(batches)

    async def get_mappings(self, user_ids: Iterable[str]) -> dict[str, UserMappings]:
        """Mappings for any number of ids: requests of <= 100 ids fanned out with bounded concurrency.

        Ids are deduplicated; every asked id is in the answer (an unknown one with empty lists)."""
        ids = list(dict.fromkeys(u for u in user_ids if isinstance(u, str) and u))
        if not ids:
            return {}
        headers = self._basic()
        chunks = id_chunks(ids)

        async def one(chunk: list[str]) -> dict[str, UserMappings]:
            reply = await self._transport.send(Call(
                "GET", self._hosts.analytics + "/api/2/usermap", "/api/2/usermap",
                service="Amplitude get mappings",
                credential="the API key / secret key pair",
                auth_message="Amplitude rejected the API key / secret key pair",
                params=[("user_ids", u) for u in chunk],
                headers=headers,
            ))
            if not reply.ok:
                raise _rejected(reply, "the mappings lookup")
            with reply.parsing():
                return parse_mappings(reply.json(), chunk)

        merged: dict[str, UserMappings] = {}
        for part in await _bounded(self.get_mappings_concurrency, [partial(one, c) for c in chunks]):
            merged.update(part)
        return {u: merged.get(u, UserMappings(u)) for u in ids}

    # -- User search ------------------------------------------------------------------------------

    async def search(self, query: str, *, use_cache: bool = True) -> SearchResult:
        """User search by user id, device id, Amplitude id or email. Cached; spends the 360/hour budget."""
        if not isinstance(query, str) or not query.strip():
            raise BadInput("Search for a user id, device id or Amplitude id.")
        if use_cache and query in self._search_cache:
            return replace(self._search_cache[query], cached=True)
        headers = self._basic()
        budget = self._budgets["usersearch"]
        await budget.acquire(1, max_wait=SEARCH_MAX_WAIT_S)
        reply = await self._transport.send(Call(
            "GET", self._hosts.analytics + "/api/2/usersearch", "/api/2/usersearch",
            service="Amplitude user search",
            credential="the API key / secret key pair",
            auth_message="Amplitude rejected the API key / secret key pair",
            params=[("user", query)],
            headers=headers,
            budget=budget,
        ))
        if not reply.ok:
            raise _rejected(reply, "the search")
        with reply.parsing():
            result = parse_search(reply.json(), query)
        self._search_cache[query] = result
        return result

    def clear_search_cache(self) -> None:
        """Forget cached searches (after a change that moves ids around)."""
        self._search_cache.clear()

    # -- User Profile -----------------------------------------------------------------------------

    async def profile(
        self,
        user_id: str | None = None,
        *,
        device_id: str | None = None,
        amp_props: bool = True,
        cohort_ids: bool = True,
        computations: bool = False,
        comp_ids: Sequence[str] = (),
        rec_ids: Sequence[str] = (),
        rec_type: str | None = None,
        propensity: bool = False,
        prediction_id: str | None = None,
        propensity_type: str | None = None,
        limit: int | None = None,
    ) -> UserProfile:
        """User Profile API. EU profiles raise NotOffered without sending anything."""
        if self._region == "eu" or self._hosts.profile is None:
            raise NotOffered(
                "The User Profile API is not offered in Amplitude's EU region, so this profile cannot "
                "show user properties, cohorts or recommendations.",
                hint="Use lookup (user mappings) or user search instead.",
            )
        params = _profile_params(
            user_id, device_id, amp_props=amp_props, cohort_ids=cohort_ids, computations=computations,
            comp_ids=comp_ids, rec_ids=rec_ids, rec_type=rec_type, propensity=propensity,
            prediction_id=prediction_id, propensity_type=propensity_type, limit=limit,
        )
        if self._creds is None or not self._creds.secret_key:
            raise BadInput("This profile has no Amplitude secret key (the User Profile API needs it).")
        budget = self._budgets["profile"]
        await budget.acquire(1)
        reply = await self._transport.send(Call(
            "GET", self._hosts.profile + "/v1/userprofile", "/v1/userprofile",
            service="Amplitude user profile",
            credential="the secret key (sent as Api-Key)",
            auth_message="Invalid Api-Key: Amplitude rejected the secret key",
            auth_hint="The User Profile API takes the project's secret key as `Api-Key`; check it.",
            params=params,
            headers={"Authorization": f"Api-Key {self._creds.secret_key.reveal()}"},
            budget=budget,
        ))
        with reply.parsing():
            data = reply.json() if reply.text.strip().startswith(("{", "[")) else None
        error = profile_error(data)
        who = (user_id or device_id or "")[:80]
        if reply.status == 404 or (error is not None and NOT_SEEN in error.lower()):
            raise NotFound(f"Amplitude has not seen {who!r} (no events for this user id / device id).",
                           status=reply.status, reason=error or "not found")
        if not reply.ok:
            raise _rejected(reply, "the profile request")
        if error is not None:
            raise ServerRejected(f"Amplitude user profile: {reply.redact(error)[:200]}", status=reply.status,
                                 reason=error)
        if data is None:
            raise reply.unexpected("not JSON")
        with reply.parsing():
            return parse_profile(data)

    # -- Identify ---------------------------------------------------------------------------------

    async def identify(self, identifications: Sequence[dict[str, Any]]) -> None:
        """Validate then POST /identify. Non-idempotent operations are never retried once they may
        have reached the server: UnknownOutcome instead."""
        if isinstance(identifications, dict):
            identifications = [identifications]
        items = [normalise_identification(i) if isinstance(i, dict) else i for i in identifications]
        if not items:
            raise BadInput("Nothing to identify.")
        for item in items:
            validate_identification(item)
        risky = sorted({op for i in items for op in (i.get("user_properties") or {}) if op in NON_IDEMPOTENT_OPERATIONS})
        try:
            payload = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            raise BadInput("The identification contains values that are not JSON.") from None
        reply = await self._transport.send(Call(
            "POST", self._hosts.identify + "/identify", "/identify",
            service="Amplitude identify",
            credential="the API key",
            auth_message="Amplitude rejected the API key",
            data={"api_key": self._key(), "identification": payload},
            idempotent=not risky,
            why_not_idempotent=f"it contains {', '.join(risky)} (applying it twice would double it)" if risky else "",
            throttle_first=IDENTIFY_THROTTLE_S,
        ))
        if not reply.ok:
            raise _rejected(reply, "the identify request")


def _profile_params(
    user_id: str | None,
    device_id: str | None,
    *,
    amp_props: bool,
    cohort_ids: bool,
    computations: bool,
    comp_ids: Sequence[str],
    rec_ids: Sequence[str],
    rec_type: str | None,
    propensity: bool,
    prediction_id: str | None,
    propensity_type: str | None,
    limit: int | None,
) -> list[tuple[str, str]]:
    if not user_id and not device_id:
        raise BadInput("A profile lookup needs a user_id or a device_id.")
    params: list[tuple[str, str]] = []
    if user_id:
        params.append(("user_id", user_id))
    if device_id:
        params.append(("device_id", device_id))
    if amp_props:
        params.append(("get_amp_props", "true"))
    if cohort_ids:
        params.append(("get_cohort_ids", "true"))
    if computations or comp_ids:
        params.append(("get_computations", "true"))
        if comp_ids:
            params.append(("comp_id", ",".join(comp_ids)))
    if rec_type is not None and rec_type not in REC_TYPES:
        raise BadInput(f"rec_type must be one of {', '.join(REC_TYPES)}.")
    if rec_ids:
        params += [("get_recs", "true"), ("rec_id", ",".join(rec_ids))]
        if rec_type:
            params.append(("rec_type", rec_type))
    elif rec_type:
        raise BadInput("Recommendations need at least one rec_id.")
    if propensity_type is not None and propensity_type not in PROPENSITY_TYPES:
        raise BadInput(f"propensity_type must be one of {', '.join(PROPENSITY_TYPES)}.")
    if propensity or prediction_id:
        if not prediction_id:
            raise BadInput("A propensity lookup needs a prediction_id.")
        params += [("get_propensity", "true"), ("prediction_id", prediction_id)]
        if propensity_type:
            params.append(("propensity_type", propensity_type))
    if limit is not None:
        if not isinstance(limit, int) or limit <= 0:
            raise BadInput("limit must be a positive whole number.")
        params.append(("limit", str(limit)))
    return params


def _rejected(reply: Reply, what: str) -> ServerRejected:
    """A non-2xx that is not retried: 400 carries the reason as body text, 413/414 mean too large."""
    if reply.status == 413:
        return ServerRejected(f"{reply.service}: {what} is too large for the server (HTTP 413).",
                              status=413, reason="too large")
    if reply.status == 414:
        return ServerRejected(f"{reply.service}: {what} made a URL that is too long (HTTP 414).",
                              status=414, reason="URL too long")
    reason = _reason(reply)
    if 400 <= reply.status < 500:
        return ServerRejected(f"{reply.service} rejected {what} (HTTP {reply.status}): {reason}",
                              status=reply.status, reason=reason)
    return reply.unexpected(f"status {reply.status}")


def _reason(reply: Reply) -> str:
    try:
        data = json.loads(reply.text)
    except ValueError:
        return reply.snippet()
    if isinstance(data, dict):
        for key in ("error", "message", "reason", "detail"):
            if isinstance(data.get(key), str):
                return reply.redact(data[key])[:300]
    return reply.snippet()


async def _bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[_T]]]) -> list[_T]:
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

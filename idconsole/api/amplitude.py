"""Amplitude: User Mapping, User search, User Profile, Identify (API.md).

Keys travel only in form bodies (`api_key`) and headers (Basic, `Api-Key`), never in a URL. Request sizing
lives in `usermap_batches`, identify rules in `identify_rules`; their public names are re-exported here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from idconsole.api.errors import BadInput, NotFound, NotOffered, ServerRejected
from idconsole.api.hosts import Hosts
from idconsole.api.identify_rules import (
    IDENTIFY_FIELDS,
    IDENTIFY_MAX_DEPTH,
    IDENTIFY_MAX_GROUP_TYPES,
    IDENTIFY_MAX_GROUPS,
    IDENTIFY_OPERATIONS,
    NON_IDEMPOTENT_OPERATIONS,
    identify_body,
    is_idempotent_identification,
    normalise_identification,
    validate_identification,
)
from idconsole.api.inflight import AMPLITUDE_REST, DEFAULT_CONCURRENCY, InFlightGate
from idconsole.api.models import Mapping, SearchResult, UserMappings, UserProfile
from idconsole.api.parse import parse_mappings, parse_profile, parse_search, profile_error
from idconsole.api.ratelimit import RollingBudget
from idconsole.api.replies import bounded, json_or_none, rejected
from idconsole.api.transport import Call, Transport
from idconsole.api.usermap_batches import (
    GET_MAPPINGS_MAX_IDS,
    GET_MAPPINGS_MAX_QUERY_BYTES,
    KEY_RESERVE,
    USERMAP_MAX_BYTES,
    USERMAP_MAX_MAPPINGS,
    check_mapping,
    id_chunks,
    id_queries,
    split_usermap_batches,
    usermap_batch_size,
    usermap_body,
    usermap_body_size,
)
from idconsole.config.connection import AmplitudeCredentials

__all__ = [
    "GET_MAPPINGS_CONCURRENCY", "GET_MAPPINGS_MAX_IDS", "GET_MAPPINGS_MAX_QUERY_BYTES", "IDENTIFY_FIELDS",
    "IDENTIFY_MAX_DEPTH", "IDENTIFY_MAX_GROUPS", "IDENTIFY_MAX_GROUP_TYPES", "IDENTIFY_OPERATIONS", "KEY_RESERVE",
    "NON_IDEMPOTENT_OPERATIONS", "USERMAP_MAX_BYTES", "USERMAP_MAX_MAPPINGS", "AmplitudeApi", "id_chunks",
    "id_queries", "is_idempotent_identification", "normalise_identification", "split_usermap_batches",
    "usermap_batch_size", "usermap_body", "usermap_body_size", "validate_identification",
]

#: get-mappings requests started at once; the project's Dashboard REST gate (5 in flight across every
#: `amplitude.com/api/2/*` family, inflight.py) is what really caps them
GET_MAPPINGS_CONCURRENCY = DEFAULT_CONCURRENCY[AMPLITUDE_REST]
#: what user mapping needs on the real service: a 403 naming it is NoEntitlement, not bad credentials
USERMAP_ENTITLEMENT = "user-mapping entitlement (the Portfolio add-on)"
#: the 429 hold for identify when the server gives no Retry-After (API.md: pause at least 15 s)
IDENTIFY_THROTTLE_S = 15.0
#: a search that would wait longer than this for its hourly budget fails fast with Throttled instead
SEARCH_MAX_WAIT_S = 30.0
REC_TYPES = ("model", "random")
PROPENSITY_TYPES = ("score", "pct")
NOT_SEEN = "not seen before"


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
        gates: dict[str, InFlightGate] | None = None,
    ) -> None:
        self._creds = credentials
        self._transport = transport
        self._hosts = hosts
        self._budgets = budgets
        self._region = region
        #: the project's Dashboard REST cap (every /api/2/* call), shared with the activity client
        self.rest_gate = (gates or {}).get(AMPLITUDE_REST)
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

    def basic_headers(self) -> dict[str, str]:
        """Basic `api_key:secret_key` for the other Dashboard REST clients (activity.py)."""
        return self._basic()

    # -- User Mapping -----------------------------------------------------------------------------

    async def map_batch(self, batch: Sequence[Mapping]) -> None:
        """POST one already-split batch to /usermap. Idempotent: retried on 5xx/resets/429."""
        if not batch:
            return
        for mapping in batch:
            check_mapping(mapping)
        key = self._key()
        if len(batch) > USERMAP_MAX_MAPPINGS or usermap_body_size(batch, key) > USERMAP_MAX_BYTES:
            raise BadInput("This batch is over 2000 mappings or 1 MB; split it with split_usermap_batches().")
        reply = await self._transport.send(Call(
            "POST", self._hosts.usermap + "/usermap", "/usermap",
            service="Amplitude user mapping",
            credential="the API key",
            auth_message="Amplitude rejected the API key",
            auth_hint="Check the profile's Amplitude API key (user mapping also needs the Portfolio add-on).",
            data=usermap_body(batch, key),
            budget=self._budgets["usermap"],
            cost=len(batch),
            entitlement=USERMAP_ENTITLEMENT,
        ))
        if not reply.ok:
            raise rejected(reply, "the mapping batch")

    def usermap_batch_size(self) -> int:
        """Mappings per /usermap request, sized to this client's usermap budget (`usermap_batch_size`).
        map_users splits with it, and so does the changes engine's plan, so a plan shows what is sent."""
        budget = self._budgets.get("usermap")
        return usermap_batch_size(budget.limit if budget is not None else None)

    async def map_users(self, mappings: Sequence[Mapping]) -> int:
        """Split and send every batch in order, paced by the usermap budget. Returns batches sent."""
        batches = split_usermap_batches(mappings, api_key=self._key(), max_mappings=self.usermap_batch_size())
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
        url = self._hosts.analytics + "/api/2/usermap?"

        async def one(chunk: list[str], query: str) -> dict[str, UserMappings]:
            reply = await self._transport.send(Call(
                "GET", url + query, "/api/2/usermap",   # the query is encoded once, by id_queries
                service="Amplitude get mappings",
                credential="the API key / secret key pair",
                auth_message="Amplitude rejected the API key / secret key pair",
                headers=headers,
                gate=self.rest_gate,
                entitlement=USERMAP_ENTITLEMENT,
            ))
            if reply.status == 404 and not _mapping_lists(json_or_none(reply)):
                raise reply.no_endpoint()   # only a body of mapping lists is an answer about the users
            if not reply.ok and reply.status != 404:
                raise rejected(reply, "the mappings lookup")
            with reply.parsing():
                return parse_mappings(reply.json(), chunk)

        merged: dict[str, UserMappings] = {}
        jobs = [partial(one, chunk, query) for chunk, query in id_queries(ids)]
        for part in await bounded(self.get_mappings_concurrency, jobs):
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
        reply = await self._transport.send(Call(
            "GET", self._hosts.analytics + "/api/2/usersearch", "/api/2/usersearch",
            service="Amplitude user search",
            credential="the API key / secret key pair",
            auth_message="Amplitude rejected the API key / secret key pair",
            params=[("user", query)],
            headers=headers,
            budget=budget,
            max_wait=SEARCH_MAX_WAIT_S,
            gate=self.rest_gate,
        ))
        if reply.status == 404 and not _nomatch(json_or_none(reply)):
            raise reply.no_endpoint()
        if not reply.ok and reply.status != 404:
            raise rejected(reply, "the search")
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
        if error is not None and NOT_SEEN in error.lower():   # the one documented unknown-user answer
            raise NotFound(f"Amplitude has not seen {who!r} (no events for this user id / device id).",
                           status=reply.status, reason=reply.redact(error))
        if not reply.ok:
            raise rejected(reply, "the profile request")
        if error is not None:
            raise ServerRejected(f"Amplitude user profile: {reply.redact(error)[:200]}", status=reply.status,
                                 reason=reply.redact(error))
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
        body = identify_body(items, self._key())
        reply = await self._transport.send(Call(
            "POST", self._hosts.identify + "/identify", "/identify",
            service="Amplitude identify",
            credential="the API key",
            auth_message="Amplitude rejected the API key",
            data=body,
            idempotent=not risky,
            why_not_idempotent=f"it contains {', '.join(risky)} (applying it twice would double it)" if risky else "",
            throttle_first=IDENTIFY_THROTTLE_S,
        ))
        if not reply.ok:
            raise rejected(reply, "the identify request")


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


def _mapping_lists(data: Any) -> bool:
    """A get-mappings body: every entry holds `mapped_to` / `mapped_from` lists (maybe empty, maybe
    wrapped in `mappings`), which is how Amplitude says "unknown user"."""
    if not isinstance(data, dict) or not data:
        return False
    entries = [e.get("mappings", e) if isinstance(e, dict) else e for e in data.values()]
    return all(isinstance(e, dict) and {"mapped_to", "mapped_from"} & e.keys() for e in entries)


def _nomatch(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") == "nomatch"

"""Mixpanel identity events (`/track`, `/import`) and profiles (`/api/query/engage`), per API.md.

The project token travels inside each event body; the API secret / service account only in a Basic
header. API-secret authentication still works but is being retired (announced for 2027-03-03): a client
that uses it says so in `MixpanelApi.deprecation` (None with a service account) and logs it once.
Engage reads belong to the Query API: their own budget (`mpquery`, 60/hour) and in-flight cap (5), sent as
`POST` with a form body as documented. Identity events are not idempotent (a repeated `$identify` or `$create_alias` may fail or merge
twice), and a merge is irreversible, so none of them is re-sent once it may have reached the server.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from idconsole.api.errors import BadInput, IdConsoleError, NotFound, ServerRejected
from idconsole.api.hosts import Hosts
from idconsole.api.inflight import MIXPANEL_QUERY, InFlightGate
from idconsole.api.models import MixpanelProfile, MixpanelResult
from idconsole.api.parse import as_int, failed_records, parse_engage
from idconsole.api.ratelimit import RollingBudget
from idconsole.api.replies import rejected
from idconsole.api.transport import Call, Reply, Transport
from idconsole.config.connection import MixpanelCredentials

log = logging.getLogger("idconsole.api")

_NOT_IDEMPOTENT = "it is an identity event (sending it twice is not the same as once)"
#: said wherever a profile authenticates with the legacy API secret (`profiles test`, Connections screen)
API_SECRET_DEPRECATION = (
    "Mixpanel API-secret authentication is deprecated (retirement announced for 2027-03-03): "
    "add a service account (username, secret, project id) to this profile; service accounts are the supported way."
)
#: a Query API call that would wait longer than this for the hourly budget fails fast with Throttled
QUERY_MAX_WAIT_S = 30.0


class MixpanelApi:
    """Created by ApiClient; shares its Transport and the process-wide `mixpanel` budget."""

    def __init__(
        self,
        credentials: MixpanelCredentials | None,
        transport: Transport,
        hosts: Hosts,
        budget: RollingBudget | None,
        *,
        region: str = "us",
        query_budget: RollingBudget | None = None,
        gates: dict[str, InFlightGate] | None = None,
    ) -> None:
        self._creds = credentials
        self._transport = transport
        self._hosts = hosts
        self._budget = budget              # ingestion: /track, /import
        #: the Query API's own budget and in-flight cap (engage reads, stream query), shared with activity.py
        self.query_budget = query_budget
        self.query_gate = (gates or {}).get(MIXPANEL_QUERY)
        self._region = region
        self._warned = False

    def __repr__(self) -> str:
        return f"MixpanelApi(region={self._region!r}, configured={self._creds is not None})"

    # -- credentials (revealed only while a request is built) ----------------------------------------

    def _creds_or_fail(self) -> MixpanelCredentials:
        if self._creds is None:
            raise BadInput("This profile has no Mixpanel section (project token, service account or API secret).",
                           hint="Add Mixpanel to the profile with `idconsole profiles add`.")
        return self._creds

    def _token(self) -> str:
        creds = self._creds_or_fail()
        if not creds.token:
            raise BadInput("This profile has no Mixpanel project token.")
        return creds.token.reveal()

    @property
    def deprecation(self) -> str | None:
        """The deprecation notice when this profile authenticates with the API secret, else None."""
        return api_secret_deprecation(self._creds)

    def query_auth(self) -> tuple[dict[str, str], list[tuple[str, str]], str]:
        """(Basic header, project_id param, credential name) for Query API clients (activity.py)."""
        return self._auth()

    def _auth(self) -> tuple[dict[str, str], list[tuple[str, str]], str]:
        """(Basic header, project_id param, credential name): the service account wins over the API secret."""
        creds = self._creds_or_fail()
        if creds.sa_username and creds.sa_secret:
            if not creds.project_id:
                raise BadInput("The Mixpanel service account needs the project id; the profile has none.")
            pair = f"{creds.sa_username}:{creds.sa_secret.reveal()}"
            return _basic(pair), [("project_id", str(creds.project_id))], "the service account (username / secret)"
        if creds.api_secret:
            if not self._warned:   # said on every use by the faces; logged once per client here
                self._warned = True
                log.warning("%s", API_SECRET_DEPRECATION)
            params = [("project_id", str(creds.project_id))] if creds.project_id else []
            return _basic(f"{creds.api_secret.reveal()}:"), params, "the API secret"
        missing = "service account secret" if creds.sa_username else "service account or API secret"
        raise BadInput(f"This Mixpanel profile has no {missing}; /import and profiles need one.")

    # -- identity events ---------------------------------------------------------------------------

    async def create_identity(self, identified_id: str, anon_id: str) -> MixpanelResult:
        """$identify via /track (verbose=1). status 0 raises ServerRejected. Not retried once sent."""
        _need(identified_id=identified_id, anon_id=anon_id)
        return await self._track(identify_event(identified_id, anon_id, self._token()))

    async def create_alias(self, alias: str, distinct_id: str) -> MixpanelResult:
        """$create_alias via /track (verbose=1): `alias` will resolve to `distinct_id`."""
        _need(alias=alias, distinct_id=distinct_id)
        return await self._track(alias_event(alias, distinct_id, self._token()))

    async def _track(self, body: dict[str, Any]) -> MixpanelResult:
        event = body["event"]
        reply = await self._transport.send(Call(
            "POST", self._hosts.mp_ingest + "/track", "/track",
            service="Mixpanel /track",
            credential="the project token",
            auth_message="Mixpanel rejected the project token",
            data=track_form(body),
            idempotent=False,
            why_not_idempotent=_NOT_IDEMPOTENT,
            budget=self._budget,
        ))
        if not reply.ok:
            raise _rejected(reply, f"the {event} event")
        text = reply.text.strip()
        if text in ("1", "0"):     # the non-verbose answer
            if text == "1":
                return MixpanelResult(ok=True, raw=1)
            raise ServerRejected(f"Mixpanel refused the {event} event (answer 0, no reason given).",
                                 status=reply.status, reason="0")
        with reply.parsing():
            data = reply.json()
            if not isinstance(data, dict) or "status" not in data:
                raise reply.unexpected("no `status`")
        if as_int(data.get("status")) == 1:
            return MixpanelResult(ok=True, raw=data)
        reason = reply.redact(str(data.get("error") or "no reason given"))[:300]
        raise ServerRejected(f"Mixpanel refused the {event} event: {reason}", status=reply.status, reason=reason)

    async def merge(self, distinct_id_a: str, distinct_id_b: str) -> MixpanelResult:
        """$merge via /import?strict=1 (service account or API secret). Irreversible."""
        _need(distinct_id_a=distinct_id_a, distinct_id_b=distinct_id_b)
        if distinct_id_a == distinct_id_b:
            raise BadInput("A merge needs two different distinct ids.")
        headers, params, credential = self._auth()
        events = merge_events(distinct_id_a, distinct_id_b, self._token())
        reply = await self._transport.send(Call(
            "POST", self._hosts.mp_ingest + "/import", "/import",
            service="Mixpanel /import",
            credential=credential,
            auth_message=f"Mixpanel rejected {credential}",
            params=[("strict", "1"), *params],
            content=import_body(events),
            headers={**headers, "Content-Type": "application/json"},
            idempotent=False,
            why_not_idempotent="a merge is irreversible and is never sent twice blindly",
            budget=self._budget,
        ))
        if reply.status == 400:
            with reply.parsing():
                data = reply.json() if reply.text.strip().startswith("{") else None
            lines = failed_records(data)
            if lines:
                raise ServerRejected("Mixpanel rejected the merge: " + "; ".join(reply.redact(x)[:200] for x in lines[:5]),
                                     status=400, reason=reply.redact("; ".join(lines)))
        if not reply.ok:
            raise _rejected(reply, "the merge")
        with reply.parsing():
            data = reply.json()
            if not isinstance(data, dict):
                raise reply.unexpected("not an object")
            imported = as_int(data.get("num_records_imported"))
            status = str(data.get("status", "")).upper()
            if status != "OK" and as_int(data.get("code")) != 200:
                raise reply.unexpected("no OK status")
        if imported is not None and imported < 1:
            raise ServerRejected("Mixpanel accepted the request but imported no record (the merge was not applied).",
                                 status=reply.status, reason="0 records imported")
        return MixpanelResult(ok=True, num_records_imported=imported, raw=data)

    # -- profiles ----------------------------------------------------------------------------------

    async def profile(self, distinct_id: str) -> MixpanelProfile:
        """Engage lookup; the result's distinct_id is the cluster's canonical id. NotFound if none."""
        _need(distinct_id=distinct_id)
        headers, params, credential = self._auth()
        reply = await self._transport.send(Call(
            # a read, documented as POST with a form body: safe to retry
            "POST", self._hosts.mp_query + "/api/query/engage", "/api/query/engage",
            service="Mixpanel profiles",
            credential=credential,
            auth_message=f"Mixpanel rejected {credential}",
            params=params,
            data={"distinct_id": distinct_id},
            headers=headers,
            budget=self.query_budget,
            max_wait=QUERY_MAX_WAIT_S,
            gate=self.query_gate,
        ))
        if not reply.ok:
            raise _rejected(reply, "the profile query")
        with reply.parsing():
            found = parse_engage(reply.json(), distinct_id)
        if found is None:
            raise NotFound(f"Mixpanel has no profile for {distinct_id[:80]!r}.", status=reply.status, reason="no results")
        return found


def api_secret_deprecation(creds: MixpanelCredentials | None) -> str | None:
    """API_SECRET_DEPRECATION when `creds` authenticate with the API secret (no complete service
    account, which wins), else None."""
    if creds is None or (creds.sa_username and creds.sa_secret) or not creds.api_secret:
        return None
    return API_SECRET_DEPRECATION


# --- the bodies on the wire (also what a plan sizes: one place knows them) ----------------------------


def identify_event(identified_id: str, anon_id: str, token: str) -> dict[str, Any]:
    """The `$identify` event: `anon_id` joins the cluster of `identified_id`."""
    return {"event": "$identify", "properties": {"$identified_id": identified_id, "$anon_id": anon_id,
                                                  "token": token}}


def alias_event(alias: str, distinct_id: str, token: str) -> dict[str, Any]:
    """The `$create_alias` event: `alias` will resolve to `distinct_id`."""
    return {"event": "$create_alias", "properties": {"distinct_id": distinct_id, "alias": alias, "token": token}}


def merge_events(distinct_id_a: str, distinct_id_b: str, token: str) -> list[dict[str, Any]]:
    """The `/import` batch holding one `$merge` of the two ids' clusters."""
    return [{"event": "$merge", "properties": {"$distinct_ids": [distinct_id_a, distinct_id_b], "token": token}}]


def track_form(event: dict[str, Any]) -> dict[str, str]:
    """The form fields of a POST /track (verbose=1 so a refusal comes with its reason)."""
    return {"data": json.dumps(event, separators=(",", ":"), ensure_ascii=False), "verbose": "1"}


def import_body(events: list[dict[str, Any]]) -> bytes:
    """The JSON body of a POST /import."""
    return json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _basic(pair: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}


def _need(**ids: str) -> None:
    for name, value in ids.items():
        if not isinstance(value, str) or not value:
            raise BadInput(f"{name} must be a non-empty id.")


def _rejected(reply: Reply, what: str) -> IdConsoleError:
    return rejected(reply, what)

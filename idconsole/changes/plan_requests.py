"""The exact requests apply will send for a plan, in order: usermap batches (split by the client's own
`split_usermap_batches` at `AmplitudeApi.usermap_batch_size()`), identify batches, one request per
Mixpanel identity event — each with its URL and encoded size. The bodies and hosts come from `api/`
(the only place that knows the wire); secrets are replaced by placeholders of the same length."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from idconsole.api import mixpanel as mp_wire
from idconsole.api.hosts import Hosts, resolve_hosts
from idconsole.api.identify_rules import identify_body, normalise_identification
from idconsole.api.usermap_batches import split_usermap_batches, usermap_batch_size, usermap_body_size
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.plan_context import PlanContext
from idconsole.changes.plan_types import PlannedRequest

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

#: identify objects per request: idempotent ones are batched widely; non-idempotent ones in small
#: requests so that one lost answer leaves as few changes in doubt as possible
IDENTIFY_BATCH = 100
IDENTIFY_BATCH_NON_IDEMPOTENT = 10


def plan_requests(ws: Workspace, ctx: PlanContext) -> list[PlannedRequest]:
    conn = ws.connection
    hosts = _hosts(ws)
    sendable = ctx.valid_sendable
    out: list[PlannedRequest] = []
    key = "k" * (len(conn.amplitude.api_key.reveal()) if conn.amplitude is not None else 0)
    token = "x" * (len(conn.mixpanel.token.reveal()) if conn.mixpanel is not None else 0)

    mapping_changes = [c for c in sendable if c.op in (model.MAP, model.UNMAP)]
    if mapping_changes:
        wire = [c.to_mapping() for c in mapping_changes]
        batches = split_usermap_batches(wire, max_mappings=_usermap_batch_size(ws))
        pos = 0
        for batch in batches:
            ids = tuple(c.id for c in mapping_changes[pos:pos + len(batch)])
            if wire[pos:pos + len(batch)] != list(batch):
                raise RuntimeError("split_usermap_batches reordered the mappings")
            pos += len(batch)
            out.append(PlannedRequest(len(out) + 1, model.AMPLITUDE, "usermap", "POST", hosts.usermap + "/usermap",
                                      ids, len(batch), usermap_body_size(batch, key), True))
    # identify batches keep the staged order (`$add` then `$set` of one key differs from the reverse):
    # a new request starts when the batch is full or the idempotency changes, so a lost answer never
    # puts an idempotent change in doubt next to a non-idempotent one
    chunk: list[Change] = []

    def flush() -> None:
        if chunk:
            items = [normalise_identification(c.to_identification()) for c in chunk]
            out.append(PlannedRequest(len(out) + 1, model.AMPLITUDE, "identify", "POST",
                                      hosts.identify + "/identify", tuple(c.id for c in chunk), len(chunk),
                                      _form_bytes(identify_body(items, key)), chunk[0].idempotent))
            chunk.clear()

    for change in (c for c in sendable if c.op == model.IDENTIFY):
        size = IDENTIFY_BATCH if change.idempotent else IDENTIFY_BATCH_NON_IDEMPOTENT
        if chunk and (chunk[0].idempotent != change.idempotent or len(chunk) >= size):
            flush()
        chunk.append(change)
    flush()
    for change in sendable:
        if change.vendor == model.MIXPANEL:
            endpoint, size = _mixpanel_request(change, hosts, token)
            out.append(PlannedRequest(len(out) + 1, model.MIXPANEL, change.op, "POST", endpoint, (change.id,), 1,
                                      size, False))
    return out


def _mixpanel_request(change: Change, hosts: Hosts, token: str) -> tuple[str, int]:
    """(URL, body bytes) of the request that carries one Mixpanel change."""
    target = change.target_id or ""
    if change.op == model.MP_MERGE:
        return hosts.mp_ingest + "/import?strict=1", len(mp_wire.import_body(
            mp_wire.merge_events(change.user_id, target, token)))
    if change.op == model.MP_IDENTIFY:
        event = mp_wire.identify_event(target, change.user_id, token)
    else:
        event = mp_wire.alias_event(change.user_id, target, token)
    return hosts.mp_ingest + "/track", _form_bytes(mp_wire.track_form(event))


def _form_bytes(fields: dict[str, str]) -> int:
    """Bytes of a form body as httpx encodes it (urlencode, quote_plus, UTF-8)."""
    return len(urllib.parse.urlencode(fields).encode("utf-8"))


def _hosts(ws: Workspace) -> Hosts:
    """The client's own hosts (region and base URL aware); a client without them gets the profile's."""
    hosts: Any = getattr(ws.client, "hosts", None)
    if isinstance(hosts, Hosts):
        return hosts
    conn = ws.connection
    region = conn.region if conn.region in ("us", "eu", "in") else "us"
    return resolve_hosts(region, conn.base_url)


def _usermap_batch_size(ws: Workspace) -> int:
    """Mappings per usermap request: the client's own size (what map_users and apply send)."""
    amplitude = getattr(ws.client, "amplitude", None)
    if amplitude is None:  # a client without Amplitude sends no usermap request; size as documented
        return usermap_batch_size(None)
    return int(amplitude.usermap_batch_size())

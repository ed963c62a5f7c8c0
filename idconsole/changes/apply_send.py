"""One planned request on the wire: call the client for its kind, and classify what an error means
for its changes (rejected, outcome unknown, not applied) and whether the whole apply must stop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idconsole.api.errors import AuthError, BadInput, ServerRejected, Throttled, Unavailable, UnknownOutcome
from idconsole.changes import model
from idconsole.changes.journal import NOT_APPLIED, REJECTED, UNKNOWN
from idconsole.changes.model import Change
from idconsole.changes.plan_types import PlannedRequest

if TYPE_CHECKING:
    from idconsole.workspace import Workspace


async def send_request(ws: Workspace, request: PlannedRequest, changes: list[Change]) -> None:
    """Send one request through the shared client; its errors propagate (see `classify`)."""
    client = ws.client
    if request.kind == "usermap":
        await client.amplitude.map_batch([c.to_mapping() for c in changes])
    elif request.kind == "identify":
        await client.amplitude.identify([c.to_identification() for c in changes])
    elif request.kind == model.MP_IDENTIFY:
        (c,) = changes
        await client.mixpanel.create_identity(c.target_id or "", c.user_id)
    elif request.kind == model.MP_ALIAS:
        (c,) = changes
        await client.mixpanel.create_alias(c.user_id, c.target_id or "")
    elif request.kind == model.MP_MERGE:
        (c,) = changes
        await client.mixpanel.merge(c.user_id, c.target_id or "")
    else:  # pragma: no cover - plans only make the kinds above
        raise BadInput(f"unknown request kind {request.kind!r}")


def classify(error: BaseException, idempotent: bool) -> tuple[str, str | None]:
    """(outcome, stop) for an exception raised while sending one request.
    outcome: rejected | unknown | not_applied; stop: None or why the whole apply stops."""
    if isinstance(error, AuthError):
        return REJECTED, "auth"
    if isinstance(error, UnknownOutcome):
        return UNKNOWN, None
    if isinstance(error, Throttled):
        return NOT_APPLIED, "throttled"
    if isinstance(error, Unavailable):
        # the transport raises Unavailable for a non-idempotent call only when it never left this machine
        return NOT_APPLIED, "unavailable"
    if isinstance(error, ServerRejected):
        status = error.status or 0
        if 200 <= status < 300:  # the server said OK in a shape we could not read
            return (NOT_APPLIED if idempotent else UNKNOWN), None
        return REJECTED, None
    if isinstance(error, BadInput):
        return REJECTED, None
    return (NOT_APPLIED if idempotent else UNKNOWN), "error"

"""The plan's shared-device check: a map (or a Mixpanel merge / identify) of two users whose only devices
in common are shared ones — a kiosk, a family tablet — warns (`shared_device`, a warning: apply needs
`--yes`). A shared device is one seen under more than a few user ids (`shared_devices`, the one rule).

Where the facts come from (changes/ must not import identity/, so the plan takes them from the api):
- First what the client has seen already (`DeviceSightings`: every stream the investigation read — the
  console's timeline, `idconsole activity`, the compare view). Costs nothing.
- For an Amplitude map whose users the client has not seen: their Amplitude ids (get mappings, else a
  user search) and one page of each user's activity (`userData.device_ids` and that page's events). When
  they do have a device in common not known to be shared: one page of the stream of each user they are
  mapped into now (it holds the whole family's events: where a kiosk shows its dozen users), then a user
  search by that device id (the users it matches used it).
  All within MAX_REQUESTS_PER_PLAN units of the 360/hour user search + activity budget, none while less
  than a quarter of it is left (the person at the keyboard needs it more). A map left unchecked is said
  once (`devices_not_checked`, info), never guessed.
- Mixpanel merges and identifies: what the client has seen only (the Query API's 60/hour is too scarce
  for a plan to spend).
The check never fails a plan: errors and the timeout leave maps unchecked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import IdConsoleError
from idconsole.changes import model
from idconsole.changes.known_ids import UNKNOWN as UNKNOWN_ID_STATE
from idconsole.changes.model import Change
from idconsole.changes.plan_context import PlanContext
from idconsole.changes.plan_types import INFO, WARNING
from idconsole.changes.shared_devices import MIXPANEL, DeviceSightings, only_shared_in_common, sightings_for

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

SHARED_DEVICE = "shared_device"
NOT_CHECKED = "devices_not_checked"
MAX_REQUESTS_PER_PLAN = 10
RESERVE_SHARE = 0.25
CHECK_TIMEOUT_S = 15.0
#: events read with a stream's page (the same one unit of budget as one event)
STREAM_EVENTS = 1000
#: ids per mapping read (get mappings takes at most 100 a request)
GET_MAPPINGS_BATCH = 100


async def check_shared_devices(workspace: Workspace, ctx: PlanContext, known: Mapping[str, str] | None = None) -> None:
    """Add a `shared_device` warning per map/merge whose users only share shared devices (see above).
    `known` is the plan's known-ids answer: a map from or into an id Amplitude has not seen is skipped
    (such an id has no device, so nothing in common; nothing is spent on it)."""
    unknown = {i for i, state in (known or {}).items() if state == UNKNOWN_ID_STATE}
    changes = [c for c in ctx.valid_sendable if (c.op == model.MAP and c.target_id
               and c.user_id not in unknown and c.target_id not in unknown)
               or c.op in (model.MP_MERGE, model.MP_IDENTIFY)]
    if not changes:
        return
    client = workspace.client
    unchecked: list[Change] = []
    facts = _Facts(client)
    # ids in the order they will be asked about: a mapping read takes the next ones along (one request of
    # up to 100 ids, not one per change: 20,000 maps once cost 10,000 requests here)
    facts.upcoming = [i for c in changes if c.vendor != model.MIXPANEL for i in (c.user_id, c.target_id or "")]
    for change in changes:
        a, b = change.user_id, change.target_id or ""
        if change.vendor == model.MIXPANEL:
            _judge(ctx, change, facts.mixpanel, a, b)
            continue
        try:   # tops up only what the sightings lack (nothing, after an investigation of both)
            checked = await asyncio.wait_for(facts.learn(a, b), CHECK_TIMEOUT_S)
        except (asyncio.TimeoutError, IdConsoleError):
            checked = False
        if checked:
            _judge(ctx, change, facts.amplitude, a, b)
        else:
            unchecked.append(change)
    if unchecked:
        numbers = ", ".join(str(ctx.n(c)) for c in unchecked[:10]) + (" …" if len(unchecked) > 10 else "")
        ctx.warn(NOT_CHECKED, INFO, f"change(s) {numbers}: not checked for shared devices ({facts.why or 'no facts'})",
                 unchecked)


def _judge(ctx: PlanContext, change: Change, sightings: DeviceSightings, a: str, b: str) -> None:
    common = only_shared_in_common(sightings.devices_of(a), sightings.devices_of(b),
                                   lambda d: len(sightings.users_of(d)))
    if not common:
        return
    devices = ", ".join(f"{d} (seen under {len(sightings.users_of(d))} user ids)" for d in common)
    verb = "maps" if change.op == model.MAP else "merges" if change.op == model.MP_MERGE else "identifies"
    ctx.warn(SHARED_DEVICE, WARNING,
             f"change {ctx.n(change)} {verb} {a} and {b}, whose only device in common is shared: {devices} — a "
             "device many people use is no evidence they are one person; check another way first", [change])


class _Facts:
    """Device facts for the check: the client's sightings, topped up within the plan's share of budget."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.amplitude = sightings_for(client)
        self.mixpanel = sightings_for(client, MIXPANEL)
        self.spent = 0
        self.why = ""
        #: the plan's share of the budget is gone: later pairs are judged on what is known, nothing is read
        self.exhausted = False
        self.upcoming: list[str] = []
        self.mapped_into: dict[str, str | None] = {}
        self.amplitude_ids: dict[str, int | None] = {}
        self.budget: Any = client.find_budget("usersearch")

    def room(self, cost: int) -> bool:
        if self.budget is None:
            self.why = "this profile has no user activity budget"
        elif self.spent + cost > MAX_REQUESTS_PER_PLAN:
            self.why = f"a plan spends at most {MAX_REQUESTS_PER_PLAN} user activity requests on this check"
        elif (left := self.budget.remaining()) - cost < max(1, int(self.budget.limit * RESERVE_SHARE)):
            self.why = f"the user search and activity budget is low ({left} of {self.budget.limit} left)"
        else:
            return True
        self.exhausted = True
        return False

    async def learn(self, a: str, b: str) -> bool:
        """Read what is missing about `a` and `b`; False when the budget did not allow it all."""
        if self.amplitude.knows_devices_of(a) and self.amplitude.knows_devices_of(b) and not self._open_question(a, b):
            return True  # the sightings answer it: nothing to read
        if self.exhausted:
            return False
        await self._mappings([a, b])
        for user in (a, b):
            if not self.amplitude.knows_devices_of(user) and not await self._devices(user):
                return False
        if self._open_question(a, b):
            for family in dict.fromkeys(self.mapped_into.get(u) for u in (a, b)):
                if family and not await self._family(family):
                    return False
        for device in self._open_question(a, b):
            if not await self._device_users(device):
                return False
        return True

    def _open_question(self, a: str, b: str) -> list[str]:
        """The devices `a` and `b` have in common that are not known to be shared yet."""
        mine = set(self.amplitude.devices_of(b))
        return [d for d in self.amplitude.devices_of(a) if d in mine and not self.amplitude.is_shared(d)]

    async def _device_users(self, device_id: str) -> bool:
        """User search by the device id: the users it matches used the device."""
        if not self.room(1):
            return False
        result = await self.client.amplitude.search(device_id)
        self.spent += 0 if result.cached else 1
        for match in result.matches:
            self.amplitude.add(device_id, match.user_id)
        return True

    async def _mappings(self, ids: list[str]) -> None:
        wanted = [i for i in ids if i not in self.mapped_into]
        if not wanted:
            return
        ahead = (i for i in self.upcoming if i and i not in self.mapped_into)
        batch = list(dict.fromkeys([*wanted, *ahead]))[:GET_MAPPINGS_BATCH]
        answer = await self.client.amplitude.get_mappings(batch)
        for uid in batch:  # an id the answer leaves out is not asked again
            self.mapped_into.setdefault(uid, None)
        for uid, entry in answer.items():
            self.mapped_into[uid] = entry.global_user_id
            for other in (*entry.mapped_to, *entry.mapped_from):
                if other.amplitude_id is not None:
                    self.amplitude_ids.setdefault(other.user_id, other.amplitude_id)

    async def _amplitude_id(self, user_id: str) -> int | None:
        if self.amplitude_ids.get(user_id) is not None:
            return self.amplitude_ids[user_id]
        if not self.room(1):
            return None
        result = await self.client.amplitude.search(user_id)
        self.spent += 0 if result.cached else 1
        exact = [m.amplitude_id for m in result.matches if m.user_id == user_id and m.amplitude_id is not None]
        self.amplitude_ids[user_id] = exact[0] if exact else None
        return self.amplitude_ids[user_id]

    async def _devices(self, user_id: str) -> bool:
        amplitude_id = await self._amplitude_id(user_id)
        if amplitude_id is None:
            if user_id in self.amplitude_ids:   # asked: Amplitude has no such user, so no devices
                self.amplitude.add_user_devices(user_id, ())
                return True
            return False
        if not self.room(1):
            return False
        return await self._read(user_id, amplitude_id)

    async def _family(self, user_id: str) -> bool:
        if self.amplitude.has_read(user_id):
            return True
        amplitude_id = await self._amplitude_id(user_id)
        if amplitude_id is None:
            return user_id in self.amplitude_ids
        return await self._read(user_id, amplitude_id)

    async def _read(self, user_id: str, amplitude_id: int) -> bool:
        """One page of the user's stream: its device list and who used each device (one unit either way)."""
        if not self.room(1):
            return False
        page = await self.client.amplitude_activity.page(amplitude_id, limit=STREAM_EVENTS)
        self.spent += 1
        self.amplitude.add_events(page.events)
        self.amplitude.mark_read(user_id)
        self.amplitude.add_user_devices(user_id, page.user.device_ids)
        return True

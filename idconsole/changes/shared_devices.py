"""When a device is no evidence that two users are one person: the shared-device rule, below identity/.

A device seen under more than `SHARED_DEVICE_MAX_USERS` user ids (a store's kiosk tablet, a family iPad,
a QA phone) is *shared*: that two users used it says nothing about them being one person. The rule lives
here, in changes/, because the plan warns about it (a map or merge of users who only share such a device,
`plan_devices`) and changes/ must not import identity/, which sits above it; `identity.devices` builds the
investigation's device view on this same rule (one truth).

`DeviceSightings` is what one client has seen: for each device, the user ids its events were sent under.
`identity.activity` adds every stream it fetches (the console's timeline, `idconsole activity`) and the
plan's own check adds what it reads, so a plan after an investigation costs nothing more. Kept in memory
per ApiClient (weakly) and per vendor — never written anywhere (events are personal data).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, Protocol

#: a device seen under MORE than this many user ids is shared ("more than a few")
SHARED_DEVICE_MAX_USERS = 3


def is_shared(user_count: int) -> bool:
    """The rule: more than SHARED_DEVICE_MAX_USERS user ids on one device."""
    return user_count > SHARED_DEVICE_MAX_USERS


class Sighting(Protocol):
    """What an event says about a device (ActivityEvent has both fields)."""

    @property
    def device_id(self) -> str | None: ...

    @property
    def user_id(self) -> str | None: ...


class DeviceSightings:
    """device id -> user ids seen with it (first sight first); the reverse index too. Anonymous events
    (no user id) say nothing about how many people use a device and are not counted."""

    def __init__(self) -> None:
        self._users: dict[str, dict[str, None]] = {}
        self._devices: dict[str, dict[str, None]] = {}
        #: user ids whose device list is complete as far as a stream told us (userData.device_ids)
        self._complete: set[str] = set()
        #: user ids whose stream's events were added
        self._read: set[str] = set()

    def add(self, device_id: str | None, user_id: str | None) -> None:
        if not device_id or not user_id:
            return
        self._users.setdefault(device_id, {})[user_id] = None
        self._devices.setdefault(user_id, {})[device_id] = None

    def add_events(self, events: Iterable[Sighting]) -> None:
        for event in events:
            self.add(event.device_id, event.user_id)

    def add_user_devices(self, user_id: str | None, device_ids: Iterable[str]) -> None:
        """The device list of a user's stream (Amplitude's `userData.device_ids`: its own devices and those
        of the users mapped into it). It says which devices the stream holds, not who used each one, so
        it does not count towards `users_of`."""
        if not user_id:
            return
        mine = self._devices.setdefault(user_id, {})
        for device_id in device_ids:
            if device_id:
                mine[device_id] = None
        self._complete.add(user_id)

    def mark_read(self, user_id: str | None) -> None:
        """The events of this user's stream (its newest page at least) have been added."""
        if user_id:
            self._read.add(user_id)

    def has_read(self, user_id: str) -> bool:
        return user_id in self._read

    def users_of(self, device_id: str) -> tuple[str, ...]:
        return tuple(self._users.get(device_id, ()))

    def devices_of(self, user_id: str) -> tuple[str, ...]:
        return tuple(self._devices.get(user_id, ()))

    def knows_devices_of(self, user_id: str) -> bool:
        """Whether a stream of this user told us its whole device list."""
        return user_id in self._complete

    def is_shared(self, device_id: str) -> bool:
        return is_shared(len(self._users.get(device_id, ())))

    def __len__(self) -> int:
        return len(self._users)


def only_shared_in_common(
    devices_a: Iterable[str], devices_b: Iterable[str], users_of: Callable[[str], int]
) -> tuple[str, ...]:
    """The devices two users have in common when EVERY one of them is shared — the case a plan warns
    about (the only link between them is a device many people use). () when they have no device in
    common, or at least one unshared device in common (that is real evidence). `users_of(device)` says
    how many user ids the device is seen under."""
    b = set(devices_b)
    common = tuple(dict.fromkeys(d for d in devices_a if d in b))
    if not common or not all(is_shared(users_of(d)) for d in common):
        return ()
    return common


_REGISTRY: weakref.WeakKeyDictionary[Any, dict[str, DeviceSightings]] = weakref.WeakKeyDictionary()

AMPLITUDE, MIXPANEL = "amplitude", "mixpanel"


def sightings_for(client: Any, vendor: str = AMPLITUDE) -> DeviceSightings:
    """The sightings one ApiClient has gathered for one vendor (user ids for Amplitude, distinct ids for
    Mixpanel); created empty on first use, dropped with the client."""
    per_vendor = _REGISTRY.setdefault(client, {})
    return per_vendor.setdefault(vendor, DeviceSightings())


def forget_sightings() -> None:
    """Drop every client's sightings (tests)."""
    _REGISTRY.clear()

"""The whole sandbox state (Amplitude + Mixpanel + counters), and its JSON load / export.

The data file format (`--data FILE`) is the `GET /_sandbox/state` document, so a saved state can be
replayed; only `amplitude.users`, `amplitude.mappings` (and, when present, `amplitude.device_owners` and
`amplitude.next_amplitude_id`) and `mixpanel.clusters` / `mixpanel.aliases` are read. `mappings` may be an
object `{user: global}` or a list of `[user, global]` pairs.

`world()` is what `state_file.py` keeps: the export without the counters, plus which user owns each device
id, so `load(world())` gives back the same world (`mapped_from` order, device lookups, next amplitude id).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from idconsole.sandbox.amplitude_state import AmplitudeState
from idconsole.sandbox.events import EventStore
from idconsole.sandbox.mixpanel_state import MixpanelState


class SandboxState:
    def __init__(self) -> None:
        self.amplitude = AmplitudeState()
        self.mixpanel = MixpanelState()
        #: both vendors' events (events.py); loaded after the users they belong to
        self.events = EventStore()
        #: what was applied: mappings, unmaps, identifications, events tracked / imported, merges ...
        self.counters: Counter[str] = Counter()

    def load(self, data: dict[str, Any]) -> None:
        amp = data.get("amplitude", {})
        self.load_amplitude(amp.get("users", ()), amp.get("mappings", ()))
        self._load_device_owners(amp.get("device_owners", {}))
        self.amplitude.next_amplitude_id = max(self.amplitude.next_amplitude_id,
                                               int(amp.get("next_amplitude_id", 0)))
        mp = data.get("mixpanel", {})
        for cluster in mp.get("clusters", ()):
            self.mixpanel.load_cluster(cluster)
        self.mixpanel.aliases.update(mp.get("aliases", {}))
        self.amplitude.load_extras(amp)  # group properties ($groupidentify)
        self.mixpanel.load_extras(mp)  # group profiles (/groups)
        self.events.load(data.get("events", {}), self.amplitude)

    def load_amplitude(self, users: Any, mappings: Any) -> None:
        for user in users:
            self.amplitude.load_user(user)
        pairs = mappings.items() if isinstance(mappings, dict) else mappings
        for user_id, global_user_id in pairs:
            self.amplitude.map(str(user_id), str(global_user_id))

    def _load_device_owners(self, owners: dict[str, Any]) -> None:
        # the first user a device was seen with keeps answering for it; replaying users in order would
        # give it to whichever user is listed first
        for device_id, amplitude_id in owners.items():
            if int(amplitude_id) not in self.amplitude.users:
                raise ValueError(f"device {device_id!r} belongs to unknown amplitude id {amplitude_id!r}")
            self.amplitude.by_device_id[str(device_id)] = int(amplitude_id)

    def world(self, *, events: bool = True) -> dict[str, Any]:
        """Everything but the counters (and the rate windows, faults and log kept outside the state).
        `events=False` leaves the events out (world_sync.py caches their JSON: they only ever grow)."""
        amplitude = self.amplitude.export()
        amplitude["device_owners"] = dict(self.amplitude.by_device_id)
        world = {"amplitude": amplitude, "mixpanel": self.mixpanel.export()}
        if events:
            world["events"] = self.events.export()
        return world

    def export(self) -> dict[str, Any]:
        return {
            "amplitude": self.amplitude.export(),
            "mixpanel": self.mixpanel.export(),
            "events": self.events.export(),
            "counters": dict(self.counters),
        }

"""The whole sandbox state (Amplitude + Mixpanel + counters), and its JSON load / export.

The data file format (`--data FILE`) is the `GET /_sandbox/state` document, so a saved state can be
replayed; only `amplitude.users`, `amplitude.mappings` and `mixpanel.clusters` / `mixpanel.aliases` are
read. `mappings` may be an object `{user: global}` or a list of `[user, global]` pairs.
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
        mp = data.get("mixpanel", {})
        for cluster in mp.get("clusters", ()):
            self.mixpanel.load_cluster(cluster)
        self.mixpanel.aliases.update(mp.get("aliases", {}))
        self.events.load(data.get("events", {}), self.amplitude)

    def load_amplitude(self, users: Any, mappings: Any) -> None:
        for user in users:
            self.amplitude.load_user(user)
        pairs = mappings.items() if isinstance(mappings, dict) else mappings
        for user_id, global_user_id in pairs:
            self.amplitude.map(str(user_id), str(global_user_id))

    def export(self) -> dict[str, Any]:
        return {
            "amplitude": self.amplitude.export(),
            "mixpanel": self.mixpanel.export(),
            "events": self.events.export(),
            "counters": dict(self.counters),
        }

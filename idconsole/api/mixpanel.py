"""Mixpanel identity events and profiles. (Contract stub — being implemented.)"""

from __future__ import annotations

from idconsole.api.models import MixpanelProfile, MixpanelResult


class MixpanelApi:
    async def create_identity(self, identified_id: str, anon_id: str) -> MixpanelResult:
        """$identify via /track (verbose=1). status 0 raises ServerRejected. Not retried once sent."""
        raise NotImplementedError

    async def create_alias(self, alias: str, distinct_id: str) -> MixpanelResult:
        raise NotImplementedError

    async def merge(self, distinct_id_a: str, distinct_id_b: str) -> MixpanelResult:
        """$merge via /import?strict=1 (service account or API secret). Irreversible."""
        raise NotImplementedError

    async def profile(self, distinct_id: str) -> MixpanelProfile:
        """Engage lookup; the result's distinct_id is the cluster's canonical id. NotFound if none."""
        raise NotImplementedError

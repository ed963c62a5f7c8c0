"""Amplitude: User Mapping, User search, User Profile, Identify. (Contract stub — being implemented.)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from idconsole.api.models import Mapping, SearchResult, UserMappings, UserProfile

USERMAP_MAX_MAPPINGS = 2000
USERMAP_MAX_BYTES = 1_000_000  # 1 MB as the vendor counts it, with our own safety margin below 1 MiB
GET_MAPPINGS_MAX_IDS = 100
IDENTIFY_OPERATIONS = (
    "$set", "$setOnce", "$add", "$append", "$prepend", "$unset",
    "$preInsert", "$postInsert", "$remove", "$clearAll",
)
NON_IDEMPOTENT_OPERATIONS = frozenset({"$add", "$append", "$prepend", "$preInsert", "$postInsert", "$remove"})


def split_usermap_batches(mappings: Sequence[Mapping]) -> list[list[Mapping]]:
    """Split into request bodies of at most 2000 mappings AND at most 1 MB encoded (form body incl. key)."""
    raise NotImplementedError


def validate_identification(identification: dict[str, Any]) -> None:
    """Raise BadInput (with a precise reason) if an identify object would be rejected or silently dropped."""
    raise NotImplementedError


class AmplitudeApi:
    async def map_batch(self, batch: Sequence[Mapping]) -> None:
        """POST one already-split batch to /usermap. Idempotent: retried on 5xx/resets/429."""
        raise NotImplementedError

    async def map_users(self, mappings: Sequence[Mapping]) -> int:
        """Split and send every batch in order, paced by the usermap budget. Returns batches sent."""
        raise NotImplementedError

    async def get_mappings(self, user_ids: Iterable[str]) -> dict[str, UserMappings]:
        """Mappings for any number of ids: requests of <= 100 ids fanned out with bounded concurrency."""
        raise NotImplementedError

    async def search(self, query: str, *, use_cache: bool = True) -> SearchResult:
        """User search by user id, device id, Amplitude id or email. Cached; spends the 360/hour budget."""
        raise NotImplementedError

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
        raise NotImplementedError

    async def identify(self, identifications: Sequence[dict[str, Any]]) -> None:
        """Validate then POST /identify. Non-idempotent operations are never retried once they may
        have reached the server: UnknownOutcome instead."""
        raise NotImplementedError

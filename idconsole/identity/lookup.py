"""One whole lookup, as both faces show it: resolve the id, then follow the chain upward from its user.

`look_up(amplitude, query)` is what the Lookup screen's Enter and `idconsole lookup ID` both run, so the
two give the same answer for the same id. `Lookup.to_json()` is the per-id document of
`idconsole lookup --json` (DESIGN.md): the API's `mapped_to` / `mapped_from` (of the resolved user) plus
`resolved`, `chain` (user ids followed upward, the resolved user first) and `cycle`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from idconsole.api.models import MappedUser, UserMappings
from idconsole.identity.graph import Chain, amplitude_id_from, follow_chain
from idconsole.identity.resolve import AMBIGUOUS, RESOLVED, AmplitudeLookups, Resolution, resolve


@dataclass(frozen=True)
class Lookup:
    """A resolution and, when it found one user, that user's mappings and chain."""

    resolution: Resolution
    mappings: UserMappings | None = None
    chain: Chain | None = None
    #: every get-mappings answer learned on the way (chain steps included: the tree shows them)
    learned: Mapping[str, UserMappings] = field(default_factory=dict)
    #: the user's Amplitude id, from search or from the other side of an edge (None: not known)
    amplitude_id: int | None = None

    @property
    def query(self) -> str:
        return self.resolution.query

    @property
    def user_id(self) -> str | None:
        return self.resolution.user_id if self.resolution.outcome == RESOLVED else None

    @property
    def chain_ids(self) -> tuple[str, ...]:
        """The user ids followed upward, the resolved user first; () when no user was found."""
        return self.chain.ids if self.chain is not None else ()

    @property
    def cycle(self) -> bool:
        return self.chain is not None and self.chain.cycle_to is not None

    def to_json(self) -> dict[str, Any]:
        mappings = self.mappings or UserMappings(self.query)
        document: dict[str, Any] = {
            **mappings.to_json(),
            "resolved": self.resolution.to_json(self.amplitude_id),
            "chain": list(self.chain_ids),
            "cycle": self.cycle,
        }
        if self.resolution.outcome == AMBIGUOUS:
            document["matches"] = [MappedUser(m.user_id or "", m.amplitude_id).to_json()
                                   for m in self.resolution.matches]
        return document


async def look_up(
    amplitude: AmplitudeLookups,
    query: str,
    *,
    by: str | None = None,
    learned: MutableMapping[str, UserMappings] | None = None,
) -> Lookup:
    """Resolve `query`, then follow its user's chain upward (one request per hop, cycles stop it).
    `learned` is an optional cache of get-mappings answers shared between lookups (the CLI asks for
    all its ids in one batch first); answers learned here are added to it."""
    cache: MutableMapping[str, UserMappings] = {} if learned is None else learned
    resolution = await resolve(amplitude, query, by=by, learned=cache)
    if resolution.outcome != RESOLVED or resolution.user_id is None:
        return Lookup(resolution)
    user_id = resolution.user_id
    mappings = resolution.mappings or UserMappings(user_id)
    chain, seen = await follow_chain(user_id, amplitude.get_mappings, known={**cache, user_id: mappings})
    cache.update(seen)
    amplitude_id = resolution.amplitude_id
    if amplitude_id is None:
        amplitude_id = amplitude_id_from(user_id, seen)
    if amplitude_id is None and mappings.mapped_from:
        # a global id's own Amplitude id is only on the other side of an edge: ask one child
        child = mappings.mapped_from[0].user_id
        answer = await amplitude.get_mappings([child])
        seen.update(answer)
        cache.update(answer)
        amplitude_id = amplitude_id_from(user_id, seen)
    return Lookup(resolution, mappings, chain, seen, amplitude_id)

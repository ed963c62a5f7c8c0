"""`idconsole lookup ID --after-staged`: each resolved user's identity as it would be after the staged changes
are submitted — the same after-state the console's tree previews with `a` (`identity.preview`), on the
mappings the lookup read; nothing is sent and nothing more is read.

JSON: each id's document gets `"after_staged"` (null for an id that did not resolve to one user):
`{"mapped_to", "mapped_from", "chain", "cycle", "staged", "held", "changes": [{"user_id", "change" (added |
moved | unmapped), "before", "after", "read", "text"}], "problems", "sent": false}`. A staged user no answer
showed is `"read": false` (its text says "not read: staged"): it is not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

from idconsole.headless.output import mappings_lines, visible
from idconsole.identity.lookup import Lookup
from idconsole.identity.preview import AfterState, lookup_after_staged, preview_words
from idconsole.workspace import Workspace

LABEL_WIDTH = 15


def after_states(ws: Workspace, found: Mapping[str, Lookup]) -> dict[str, AfterState | None]:
    """Each query's after-state, from the staged set as it is on disk now."""
    staged = ws.staged
    staged.refresh()
    entries = list(staged.entries)
    return {query: lookup_after_staged(f, entries) for query, f in found.items()}


def after_lines(state: AfterState | None) -> list[str]:
    """The block printed under a lookup's own: the after-state's chain, mappings and what changes."""
    if state is None:
        return []
    lines = [f"  {preview_words(state).removeprefix('Preview: ')}:"]
    chain = state.chain
    text = chain.describe(visible) if chain.steps or chain.cycle_to is not None else "(none: maps into nothing)"
    lines.append(f"{'    chain:'.ljust(LABEL_WIDTH + 2)}{text}")
    mappings = state.mappings_of(state.user_id)
    if mappings is not None:
        lines += mappings_lines(state.user_id, mappings, indent="  ")[1:]
    changes = state.touching()
    label = "    changes:".ljust(LABEL_WIDTH + 2)
    if not changes:
        lines.append(f"{label}(none: no staged map or unmap touches this tree)")
    for i, change in enumerate(changes):
        lines.append(f"{label if i == 0 else ' ' * len(label)}{visible(change.user_id)}: "
                     f"{change.describe(show=visible)}")
    lines += [f"{'    blocks:'.ljust(LABEL_WIDTH + 2)}{visible(p)}" for p in state.problems]
    return lines

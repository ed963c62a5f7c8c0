"""A profile as the Profile screen shows it (table rows, the raw JSON made visible). Pure functions: no
Textual. Its export (file name, path, writing) follows `tui/export_path.py`, as the report's does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from idconsole.api.models import UserProfile
from idconsole.untrusted import visible


def pretty_json(document: Any) -> str:
    """Indented JSON with every line made visible (JSON escapes C0 controls; this also catches
    zero-width, bidi and line-separator characters that `ensure_ascii=False` leaves in)."""
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str, sort_keys=False)
    return "\n".join(visible(line) for line in text.split("\n"))


def recommendation_rows(profile: UserProfile) -> list[tuple[Any, ...]]:
    """One row per recommendation; its items as a count (the list itself pushed Control group, Source and
    Title off screen — the Raw JSON tab and the export have every item)."""
    return [
        (r.rec_id, f"{len(r.items)} item" + ("" if len(r.items) == 1 else "s"), "yes" if r.is_control else "no",
         r.source or "", r.title or "")
        for r in profile.recommendations
    ]


def propensity_rows(items: Sequence[Any]) -> list[tuple[Any, ...]]:
    rows = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            pred = item.get("pred_id", item.get("prediction_id", ""))
            kind = item.get("prop_type", item.get("propensity_type", ""))
            value = item.get("prop", item.get("propensity", item.get("value")))
            rest = {k: v for k, v in item.items()
                    if k not in {"pred_id", "prediction_id", "prop_type", "propensity_type", "prop",
                                 "propensity", "value"}}
            rows.append((pred, kind, value if not rest else {"value": value, **rest}))
        else:
            rows.append((str(index), "", item))
    return rows

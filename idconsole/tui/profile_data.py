"""A profile as the Profile screen shows it (table rows, the raw JSON made visible) and as it exports it
(a sanitised file name, an atomic write). Pure functions: no Textual."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from idconsole.api.models import UserProfile
from idconsole.config import paths
from idconsole.config.atomic import atomic_write
from idconsole.untrusted import visible

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]+")


def safe_file_name(user_id: str, *, vendor: str = "amplitude") -> str:
    """`profile-<safe-name>.json`: only [A-Za-z0-9_.@+-], no leading dot, bounded, plus a short hash
    of the real id so two hostile ids that sanitise alike never overwrite each other."""
    digest = hashlib.sha256(f"{vendor}\0{user_id}".encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = _UNSAFE.sub("_", user_id).strip("._-")[:60] or "user"
    prefix = "profile-mixpanel-" if vendor == "mixpanel" else "profile-"
    return f"{prefix}{stem}-{digest}.json"


def write_json_atomic(path: Path, document: Any) -> None:
    """Indented UTF-8 JSON, written atomically (`idconsole.config.atomic`): a reader never sees half a file."""
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    atomic_write(path, text.encode("utf-8"))


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


def export_profile(name: str, document: Any) -> Path | None:
    """Write `document` as `name` (owner-only) in the current directory — where a support engineer looks
    for it — else the cache directory; None if neither can be written. Personal data: only ever written
    because the user asked for an export."""
    for directory in (Path.cwd(), paths.cache_dir()):
        try:
            write_json_atomic(directory / name, document)
        except OSError:
            continue
        return directory / name
    return None

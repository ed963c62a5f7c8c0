"""Recent lookups: the last 20 queries of a profile, in memory and in `cache_dir()/recent.json`.

Only the queries typed into the lookup box are kept (ids and emails, never a secret). The file is
written atomically (temp file + rename) and a damaged or unreadable file just means an empty list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from idconsole.config import paths
from idconsole.config.atomic import atomic_write
from idconsole.tui.text import literal

LIMIT = 20
FILE_NAME = "recent.json"
#: longest query kept (a pasted 10,000-character id is still looked up, not remembered in full)
MAX_QUERY = 2000


class RecentLookups:
    """`RecentLookups(profile, path=None)`: `items` newest first; `add(query)` remembers one."""

    def __init__(self, profile: str, path: Path | None = None, *, persist: bool = True) -> None:
        self.profile = profile
        self.path = path if path is not None else paths.cache_dir() / FILE_NAME
        self.persist = persist
        self.items: list[str] = self._load() if persist else []

    def _read_all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _load(self) -> list[str]:
        entries = self._read_all().get("profiles", {}).get(self.profile, [])
        if not isinstance(entries, list):
            return []
        return [e for e in entries if isinstance(e, str) and e][:LIMIT]

    def add(self, query: str) -> None:
        if not query or len(query) > MAX_QUERY:
            return
        self.items = [query, *(q for q in self.items if q != query)][:LIMIT]
        if self.persist:
            self._save()

    def _save(self) -> None:
        data = self._read_all()
        found = data.get("profiles")
        profiles: dict[str, Any] = found if isinstance(found, dict) else {}
        profiles[self.profile] = self.items
        data = {"version": 1, "profiles": profiles}
        try:
            atomic_write(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError:
            # a read-only cache dir must not break lookups: the list still lives in memory
            self.persist = False


class RecentLookupsScreen(ModalScreen[str | None]):
    """Pick a recent lookup; dismisses with the query (Enter) or None (Esc)."""

    DEFAULT_CSS = """
    RecentLookupsScreen { align: center middle; }
    RecentLookupsScreen > Vertical {
        width: 80; max-width: 90%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    RecentLookupsScreen OptionList { height: auto; max-height: 24; border: none; }
    RecentLookupsScreen #recent-hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close", id="recent.close"),
    ]

    HELP = "Recent lookups of this profile, newest first. **Enter** looks it up again, **Esc** closes."

    def __init__(self, items: list[str]) -> None:
        super().__init__()
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content("Recent lookups").stylize("bold"))
            if self.items:
                yield OptionList(
                    *(Option(literal(q, limit=74), id=f"recent-{i}") for i, q in enumerate(self.items)),
                    id="recent-list",
                )
            yield Label(
                Content("Enter: look up again · Esc: close") if self.items
                else Content("No lookups yet in this profile. Esc closes."),
                id="recent-hint",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.items[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

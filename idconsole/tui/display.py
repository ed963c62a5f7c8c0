"""How the console writes values in tables and summaries: literal cells, counted words, durations."""

from __future__ import annotations

from rich.text import Text

from idconsole.tui.text import visible


def cell(value: object, *, limit: int | None = 80, style: str = "") -> Text:
    """A table cell that shows untrusted text exactly (a rich Text is never parsed as markup)."""
    return Text(visible("" if value is None else value, limit=limit), style=style, no_wrap=True,
                overflow="ellipsis", end="")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {round(seconds)} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} min"
    return f"about {minutes / 60:.1f} h"

"""Copy to the system clipboard with OSC 52 (Textual's public `App.copy_to_clipboard`), and say so.

OSC 52 travels base64-encoded, so an id full of escape sequences cannot drive the terminal on the way;
the confirmation shows the id through `visible()` (escaped, shortened) and never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idconsole.tui.text import visible

if TYPE_CHECKING:
    from textual.app import App

#: how much of the copied text the confirmation shows
PREVIEW_LIMIT = 60


def copy_text(app: App, text: str, *, what: str = "id") -> str:
    """Put `text` (exactly) on the clipboard and notify. Returns the confirmation shown."""
    app.copy_to_clipboard(text)
    message = f"Copied {what} to the clipboard: {visible(text, limit=PREVIEW_LIMIT)}"
    if len(text) > PREVIEW_LIMIT:
        message += f" ({len(text)} characters)"
    app.notify(message, title="Copied", markup=False, timeout=4)
    return message

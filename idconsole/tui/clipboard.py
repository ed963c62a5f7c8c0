"""Copy to the terminal's clipboard with OSC 52 (Textual's public `App.copy_to_clipboard`), and say so —
also that the terminal may ignore it (we cannot know whether it did).

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
    # the terminal decides: tmux without set-clipboard, some SSH setups and older terminals drop it
    message = (f"Copied {what}: sent to the terminal's clipboard (OSC 52, which not every terminal honours): "
               f"{visible(text, limit=PREVIEW_LIMIT)}")
    if len(text) > PREVIEW_LIMIT:
        message += f" ({len(text)} characters)"
    app.notify(message, title="Copied", markup=False, timeout=6)
    return message

"""Untrusted text (ids, property values, server messages) made safe to show.

Everything from an API or a file goes through `literal()` (a Content, never parsed as markup) or
`visible()` (a plain str). Control characters, escape sequences, zero-width and bidi-override characters
are replaced by a visible escape so an id can neither drive the terminal nor hide what it really is.
`visible()` itself lives in `idconsole.untrusted` (shared with the headless CLI) and is re-exported here.
"""

from __future__ import annotations

from textual.content import Content

from idconsole.untrusted import visible


def literal(text: object, *, limit: int | None = None, style: str = "") -> Content:
    """A Content that displays `text` exactly (escaped as in `visible`), never interpreting markup."""
    content = Content(visible(text, limit=limit))
    return content.stylize(style) if style else content

"""Untrusted text (ids, property values, server messages) made safe to show.

Everything from an API or a file goes through `literal()` (a Content, never parsed as markup) or
`visible()` (a plain str). Control characters, escape sequences, zero-width and bidi-override characters
are replaced by a visible escape so an id can neither drive the terminal nor hide what it really is.
"""

from __future__ import annotations

import unicodedata

from textual.content import Content

# Unicode categories shown escaped: controls (C0/C1, ESC), format chars (zero-width, bidi overrides),
# line/paragraph separators, surrogates, private use and unassigned.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: object, *, limit: int | None = None) -> str:
    """`text` as a plain string with every invisible or terminal-driving character escaped."""
    raw = text if isinstance(text, str) else str(text)
    out = "".join(_escape(c) if unicodedata.category(c) in _ESCAPED_CATEGORIES else c for c in raw)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out


def literal(text: object, *, limit: int | None = None, style: str = "") -> Content:
    """A Content that displays `text` exactly (escaped as in `visible`), never interpreting markup."""
    content = Content(visible(text, limit=limit))
    return content.stylize(style) if style else content

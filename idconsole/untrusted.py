"""Untrusted text (ids, property values, server messages, file contents) made safe to show as a plain str.

`visible()` escapes control characters, escape sequences, zero-width and bidi-override characters so a
hostile id can neither drive the terminal nor hide what it really is. Both faces use it: the headless
output (`idconsole.headless.output`) and the TUI (`idconsole.tui.text`, whose `literal()` builds on it).

No Textual here and no idconsole imports (tests/test_architecture.py scans this module with the services),
so either face can import it whatever the layers contract says.
"""

from __future__ import annotations

import unicodedata

# Unicode categories shown escaped: controls (C0/C1, ESC, DEL), format chars (zero-width, bidi overrides),
# line/paragraph separators, surrogates, private use and unassigned.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: object, *, limit: int | None = None) -> str:
    """`text` as a plain one-line string with every invisible or terminal-driving character escaped
    (ESC → `\\x1b`, newline → `\\x0a`, U+202E → `\\u202e`). Everything else is shown literally.
    `limit`: at most that many characters, the last one `…` when cut."""
    raw = text if isinstance(text, str) else str(text)
    out = "".join(_escape(c) if unicodedata.category(c) in _ESCAPED_CATEGORIES else c for c in raw)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out

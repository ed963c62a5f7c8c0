"""Who applied a change set and why: the operator, a ticket reference and a note, recorded in the
journal's `begin` record. One rule for both faces (the console's confirm dialog, `apply --ticket
--note`): `check_ticket` / `check_note` refuse text that cannot be shown on one line or is too long,
with one sentence (BadInput, exit 2), before anything is read or sent.

The operator is the name from the settings (`operator = "..."` in config.toml), else the OS user.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from idconsole.api.errors import BadInput
from idconsole.untrusted import visible

MAX_TICKET = 200
MAX_NOTE = 2000
MAX_OPERATOR = 100
#: what a journal line shows for a field an older journal line does not have
MISSING = "—"

# control characters, format characters (zero-width, bidi overrides), line/paragraph separators,
# surrogates, private use, unassigned: none of them belongs in one line a colleague reads later
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


@dataclass(frozen=True)
class ApplyMeta:
    """What `apply` records besides the changes: checked, stripped, None when not given."""

    operator: str
    ticket: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"operator": self.operator, "ticket": self.ticket, "note": self.note}


def current_operator() -> str:
    """The settings' `operator`, else the OS user ("unknown" when there is none)."""
    from idconsole.config.settings import load_settings, os_user

    try:
        name = load_settings().operator
    except Exception:  # noqa: BLE001 - a broken settings file must never stop an apply
        name = os_user()
    return checked_operator(name)


def checked_operator(name: str | None) -> str:
    """An operator name fit for the journal: stripped, printable, at most MAX_OPERATOR characters;
    anything else becomes "unknown" (it comes from the system or the settings, not from a prompt)."""
    text = (name or "").strip()
    if not text or len(text) > MAX_OPERATOR or _refused_character(text) is not None:
        return "unknown"
    return text


def check_ticket(value: str | None) -> str | None:
    """The ticket reference to record (None when empty), or BadInput with one sentence."""
    return _check("ticket reference", value, MAX_TICKET)


def check_note(value: str | None) -> str | None:
    """The note to record (None when empty), or BadInput with one sentence."""
    return _check("note", value, MAX_NOTE)


def apply_meta(operator: str | None = None, ticket: str | None = None, note: str | None = None) -> ApplyMeta:
    """Check all three (the operator defaults to `current_operator()`)."""
    return ApplyMeta(checked_operator(operator) if operator is not None else current_operator(),
                     check_ticket(ticket), check_note(note))


def shown(value: object) -> str:
    """A recorded operator/ticket/note as one visible line; MISSING when the entry has none."""
    if value is None or value == "":
        return MISSING
    return visible(value)


def _check(what: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"The {what} must be text.")
    text = value.strip()
    if not text:
        return None
    bad = _refused_character(text)
    if bad is not None:
        raise BadInput(f"The {what} contains a control character ({visible(bad)} at character "
                       f"{text.index(bad) + 1}); give it on one line of plain text.")
    if len(text) > limit:
        raise BadInput(f"The {what} is {len(text)} characters long; at most {limit} are kept in the journal.")
    return text


def _refused_character(text: str) -> str | None:
    return next((c for c in text if unicodedata.category(c) in _REFUSED_CATEGORIES), None)

"""What the Lookup screen says: its status line after a lookup and its search-budget badge.

Pure functions returning `Content` — our words, with every id passed through `literal()` (escaped, never
markup) — so the screen only decides when to say what, and a test can read the words without an app.
Which user an id stands for is decided below, in `idconsole.identity`; this only puts it in words.
"""

from __future__ import annotations

from textual.content import Content

from idconsole.api.models import UserMappings
from idconsole.identity.graph import Chain, distinct_count
from idconsole.identity.resolve import SEARCH_KIND_WORDS, Resolution
from idconsole.tui.text import literal, visible

#: ids inside a chain summary on the status line
CHAIN_ID_LIMIT = 24


def search_words(resolution: Resolution) -> str:
    """How User search matched: "a user or device id", "an Amplitude id", ..."""
    kind = resolution.search.type if resolution.search is not None else ""
    return SEARCH_KIND_WORDS.get(kind, kind)


def summary(user_id: str, mappings: UserMappings, chain: Chain) -> Content:
    """`user – maps into a chain A → B → C · N ids mapped into it`."""
    short = visible(user_id, limit=50)
    if chain.cycle_to is not None:
        into = Content.assemble(("maps into a cycle ", "$warning"), literal(chain.describe(
            lambda i: visible(i, limit=CHAIN_ID_LIMIT))))
    elif chain.is_chain:
        into = Content.assemble(("maps into a chain ", "$warning"), literal(chain.describe(
            lambda i: visible(i, limit=CHAIN_ID_LIMIT))))
    elif chain.steps:
        into = Content.assemble("maps into ", literal(chain.steps[0].user_id, limit=50))
    else:
        into = Content("maps into nothing")
    count = distinct_count(mappings)  # walked once per answer, however big
    return Content.assemble(
        (short, "bold"), " – ", into, f" · {count} id{'s' if count != 1 else ''} mapped into it"
    )


def lookup_status(note: Content | None, user_id: str, mappings: UserMappings | None, chain: Chain | None, *,
                  complete: bool = True) -> Content:
    """The status line after a lookup: a note (resolved by search, refreshed), the summary, and while
    the answer is partial (drawn after the first round trip) what is still coming."""
    if mappings is None or chain is None:
        line = Content.assemble((visible(user_id, limit=50), "bold"), ("  · asking for its mappings…", "dim italic"))
    else:
        line = summary(user_id, mappings, chain)
    if not complete and chain is not None:
        line = Content.assemble(line, ("  · following the chain…" if chain.following else "  · still loading…",
                                       "dim italic"))
    return Content.assemble(note, "  ", line) if note is not None and note.plain else line


def search_note(query: str, resolution: Resolution) -> Content:
    """The note before the summary when search found a user other than the id typed."""
    cached = resolution.search is not None and resolution.search.cached
    return Content.assemble(
        ("Resolved by search: ", "bold"), literal(query, limit=50), f" is {search_words(resolution)} of user ",
        literal(resolution.user_id or "", limit=60, style="bold"),
        (" (cached)" if cached else "", "dim"), ".",
    )


def unknown_status(query: str) -> Content:
    return Content.assemble(
        ("Unknown user: ", "bold"),
        literal(query, limit=80),
        " is not a user id, device id, Amplitude id or email Amplitude knows (no mappings, no search match).",
    )


def unknown_notice(query: str) -> str:
    """The toast's text (shown with markup=False)."""
    return f"No user, device or Amplitude id “{visible(query, limit=60)}” is known."


def anonymous_status(query: str, amplitude_id: int | None) -> Content:
    return Content.assemble(
        literal(query, limit=60),
        f" belongs to an anonymous user (Amplitude id {amplitude_id}) that has no user id: it has no "
        "mappings. Its profile can be opened by device id from the command line.",
    )


def matches_status(query: str, count: int, how: str) -> Content:
    return Content.assemble(f"{count} users match ", literal(query, limit=60),
                            f" ({how}) – choose one and press Enter.")


def chosen_note(query: str, user_id: str) -> Content:
    return Content.assemble(("Chosen from the search: ", "bold"), literal(query, limit=40), " → ",
                            literal(user_id, limit=60, style="bold"), ".")


def budget_text(remaining: int, limit: int, *, cached: bool = False) -> Content:
    """`search 359/360 left this hour`, and whether the last answer came from the cache."""
    text = Content.assemble(("search ", "dim"), (f"{remaining}/{limit}", "bold"), (" left this hour", "dim"))
    if cached:
        text = Content.assemble(text, (" · last result cached", "dim italic"))
    return text

"""The words for API failures (`names_entitlement`, `shorten`); the errors themselves are defined once in
`idconsole.errors` (the whole hierarchy, drawn in its docstring) and re-exported here."""

from __future__ import annotations

from idconsole.errors import (  # re-exported: defined once, in idconsole.errors
    ActivityNotOffered,
    AuthError,
    BadInput,
    IdConsoleError,
    MalformedAnswer,
    NoEntitlement,
    NoSuchEndpoint,
    NotFound,
    NotOffered,
    ServerRejected,
    Throttled,
    Unavailable,
    UnknownOutcome,
)

#: words a 403 uses when the project lacks a paid feature rather than the key being wrong (?)
_ENTITLEMENT_WORDS = ("portfolio", "add-on", "addon", "entitlement", "not enabled", "upgrade your plan")


def names_entitlement(body: str) -> bool:
    """Does a 403 body say the project lacks a feature (NoEntitlement) rather than the key being wrong?"""
    text = body.lower()
    return any(word in text for word in _ENTITLEMENT_WORDS)


def shorten(text: str, limit: int = 300) -> str:
    """Server text in an error message: one line, bounded, so a huge body cannot flood a screen."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = [  # the classes are re-exported
    "ActivityNotOffered",
    "AuthError",
    "BadInput",
    "IdConsoleError",
    "MalformedAnswer",
    "NoEntitlement",
    "NoSuchEndpoint",
    "NotFound",
    "NotOffered",
    "ServerRejected",
    "Throttled",
    "Unavailable",
    "UnknownOutcome",
    "names_entitlement",
    "shorten",
]

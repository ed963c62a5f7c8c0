"""Amplitude request sizing: /usermap batches (2000 mappings and 1 MB of encoded form body) and
get-mappings id chunks (100 ids and a URL short enough for any server)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from urllib.parse import quote, quote_plus

from idconsole.api.errors import BadInput
from idconsole.api.models import Mapping

USERMAP_MAX_MAPPINGS = 2000
USERMAP_MAX_BYTES = 1_000_000  # 1 MB as the vendor counts it, with our own safety margin below 1 MiB
GET_MAPPINGS_MAX_IDS = 100
#: ids travel as repeated query values; servers and proxies commonly refuse request targets over ~8 KB
#: (RFC 9110 asks for at least 8000 octets), so long ids make smaller chunks instead of a 414
GET_MAPPINGS_MAX_QUERY_BYTES = 7_000
#: bytes assumed for the api_key field when the caller does not pass the key (Amplitude keys are 32 chars)
KEY_RESERVE = 128


def usermap_batch_size(limit: int | None) -> int:
    """Mappings per /usermap request under a usermap budget of `limit` mappings per window.

    The request cap (2000) is kept when the limit is at most 2000: any batch then needs (nearly) an
    empty window anyway, and the real 1500/30 s limit keeps its 2000. Above it, the limit is split
    into equal batches no larger than 2000 (3000 -> 1500, 6000 -> 2000, 4500 -> 1500), so whole
    batches fill a window instead of one 2000-mapping batch leaving the rest of it unused."""
    if limit is None or limit <= USERMAP_MAX_MAPPINGS:
        return USERMAP_MAX_MAPPINGS
    return limit // math.ceil(limit / USERMAP_MAX_MAPPINGS)


def _mapping_json(mapping: Mapping) -> str:
    return json.dumps(mapping.to_wire(), separators=(",", ":"), ensure_ascii=False)


def check_mapping(mapping: Mapping) -> None:
    if not isinstance(mapping.user_id, str) or not mapping.user_id:
        raise BadInput("Every mapping needs a non-empty user_id.")
    if mapping.unmap:
        if mapping.global_user_id:
            raise BadInput(f"An unmap of {mapping.user_id[:80]!r} must not name a global_user_id.")
    elif not isinstance(mapping.global_user_id, str) or not mapping.global_user_id:
        raise BadInput(f"The mapping of {mapping.user_id[:80]!r} needs a global_user_id (or unmap).")


#: characters an id keeps as is in a query value: RFC 3986 allows them in a query, and form decoders
#: (parse_qs) read them back unchanged. Never `&`, `=`, `+`, `#`, `%` or a space: those are encoded.
QUERY_VALUE_SAFE = "@:/"


def id_queries(ids: Sequence[str], *, max_ids: int = GET_MAPPINGS_MAX_IDS,
               max_query_bytes: int = GET_MAPPINGS_MAX_QUERY_BYTES) -> list[tuple[list[str], str]]:
    """Get-mappings requests, each as (ids, query string): at most 100 ids, and a query short enough for
    any server (an id longer than that on its own still goes alone; the server's 414 then says why).

    The query (`user_ids=a&user_ids=b`) is encoded here, once, and sent as is: the same string that is
    measured against the cap is the one on the wire. Only ids go in it, never a credential."""
    out: list[tuple[list[str], str]] = []
    current: list[str] = []
    items: list[str] = []
    size = -1   # no "&" before the first value
    for user_id in ids:
        item = "user_ids=" + quote(user_id, safe=QUERY_VALUE_SAFE)
        if current and (len(current) >= max_ids or size + 1 + len(item) > max_query_bytes):
            out.append((current, "&".join(items)))
            current, items, size = [], [], -1
        current.append(user_id)
        items.append(item)
        size += 1 + len(item)
    if current:
        out.append((current, "&".join(items)))
    return out


def id_chunks(ids: Sequence[str], *, max_ids: int = GET_MAPPINGS_MAX_IDS,
              max_query_bytes: int = GET_MAPPINGS_MAX_QUERY_BYTES) -> list[list[str]]:
    """The ids of each get-mappings request (`id_queries` without the query strings)."""
    return [chunk for chunk, _ in id_queries(ids, max_ids=max_ids, max_query_bytes=max_query_bytes)]


def usermap_body(batch: Sequence[Mapping], api_key: str) -> dict[str, str]:
    """The form fields of one POST /usermap, in the order they are encoded."""
    return {"api_key": api_key, "mapping": "[" + ",".join(_mapping_json(m) for m in batch) + "]"}


def usermap_body_size(batch: Sequence[Mapping], api_key: str | None = None) -> int:
    """Exact bytes of the urlencoded body (httpx encodes forms with urlencode/quote_plus)."""
    key_bytes = len(quote_plus(api_key)) if api_key is not None else KEY_RESERVE
    items = [len(quote_plus(_mapping_json(m))) for m in batch]
    # "api_key=" KEY "&mapping=" "%5B" item ("%2C" item)* "%5D"
    return len("api_key=") + key_bytes + len("&mapping=") + 6 + sum(items) + 3 * max(0, len(items) - 1)


def split_usermap_batches(
    mappings: Sequence[Mapping],
    *,
    api_key: str | None = None,
    max_mappings: int = USERMAP_MAX_MAPPINGS,
    max_bytes: int = USERMAP_MAX_BYTES,
) -> list[list[Mapping]]:
    """Split into request bodies of at most 2000 mappings AND at most 1 MB encoded (form body incl. key).

    Without `api_key` the key field is budgeted at KEY_RESERVE bytes; pass the key for the exact split.
    Order is kept (a later mapping of the same user wins on the server)."""
    key_bytes = len(quote_plus(api_key)) if api_key is not None else KEY_RESERVE
    fixed = len("api_key=") + key_bytes + len("&mapping=") + 6   # brackets, encoded
    batches: list[list[Mapping]] = []
    current: list[Mapping] = []
    size = fixed
    for mapping in mappings:
        check_mapping(mapping)
        item = len(quote_plus(_mapping_json(mapping)))
        if fixed + item > max_bytes:
            raise BadInput(
                f"The mapping of {mapping.user_id[:80]!r} is too large to send on its own "
                f"({fixed + item:,} bytes encoded; the limit is {max_bytes:,})."
            )
        extra = item + (3 if current else 0)   # "%2C" between items
        if current and (len(current) >= max_mappings or size + extra > max_bytes):
            batches.append(current)
            current, size, extra = [], fixed, item
        current.append(mapping)
        size += extra
    if current:
        batches.append(current)
    return batches

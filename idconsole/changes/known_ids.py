"""Does Amplitude know the ids a plan maps into and from? A typo (`hank@globex.nte`) is caught here.

`await check_known_ids(workspace, changes, positions=...)` looks at every id an Amplitude `map` maps from
or into and returns a `KnownIds`: per id `known`, `unknown` or `not checked` (and why), plus one
`unknown_id` warning per unknown global id mapped INTO, naming it and suggesting the closest id from the
profile's lookup history (difflib) when one is close and not known to be unknown.

How an id is checked, cheapest budget first:
- US: the User Profile API (600/minute). "User id and device id not seen before" means unknown. Only the
  user id is asked for (no properties, no cohorts): nothing personal is fetched, nothing is kept.
- EU (no Profile API), or when the profile check fails: user search (360/hour, shared with user
  activity). A plan spends at most MAX_SEARCHES_PER_PLAN of it, and none while fewer than a quarter of
  the hour's budget is left: the person at the keyboard needs it more than a plan does.
- Whatever the budgets or the clock do not allow is `not checked: <why>`, never a guess; the check never
  fails a plan (errors become `not checked`) and gives up after CHECK_TIMEOUT_S.

Answers are remembered per client for a while (a known id stays known; an unknown one is asked again
after a minute), so re-planning in the console does not spend the budgets again.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idconsole.api.errors import IdConsoleError, NotFound, NotOffered
from idconsole.changes import model
from idconsole.changes.model import Change
from idconsole.changes.validate import id_problem
from idconsole.config import paths

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

KNOWN, UNKNOWN, NOT_CHECKED = "known", "unknown", "not checked"
UNKNOWN_ID = "unknown_id"

#: ids of one plan checked at all (targets first); the rest are `not checked`
MAX_CHECKS_PER_PLAN = 50
#: user searches one plan may spend (of 360 an hour)
MAX_SEARCHES_PER_PLAN = 10
#: no search while less than this share of the search budget is left
SEARCH_RESERVE_SHARE = 0.25
#: no profile check while less than this share of the profile budget is left
PROFILE_RESERVE_SHARE = 0.25
CONCURRENCY = 4
CHECK_TIMEOUT_S = 20.0
#: how long an answer is reused (seconds)
KNOWN_TTL_S = 900.0
UNKNOWN_TTL_S = 60.0
#: how close a lookup must be to be suggested (difflib ratio)
SUGGEST_CUTOFF = 0.8

#: the console's recent-lookups cache (written by idconsole.tui.widgets.recent_lookups)
HISTORY_FILE = "recent.json"


@dataclass(frozen=True)
class IdStatus:
    id: str
    state: str                 # KNOWN | UNKNOWN | NOT_CHECKED
    why: str = ""              # for NOT_CHECKED: what did not allow the check
    via: str = ""              # "user profile" | "user search"

    def label(self) -> str:
        return f"{NOT_CHECKED}: {self.why}" if self.state == NOT_CHECKED else self.state


@dataclass(frozen=True)
class IdWarning:
    """An unknown global id mapped into; the plan shows it as warning `code`."""

    code: str
    message: str
    id: str
    change_ids: tuple[str, ...]
    suggestion: str | None = None


@dataclass
class KnownIds:
    statuses: dict[str, IdStatus] = field(default_factory=dict)
    warnings: list[IdWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, str]:
        return {i: s.label() for i, s in self.statuses.items()}


# --- the lookup history (Textual-free) -------------------------------------------------------------


def lookup_history(profile: str, path: Path | None = None) -> list[str]:
    """The profile's recent lookups, newest first, from the console's cache file; [] when there is none
    or it cannot be read (a damaged cache only means no suggestion)."""
    file = path if path is not None else paths.cache_dir() / HISTORY_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    profiles = data.get("profiles") if isinstance(data, dict) else None
    entries = profiles.get(profile) if isinstance(profiles, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, str) and id_problem(e, "id") is None]


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `value` (difflib), if one is close enough; never `value` itself."""
    pool = list(dict.fromkeys(c for c in candidates if c != value))
    matches = difflib.get_close_matches(value, pool, n=1, cutoff=SUGGEST_CUTOFF)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = [lowered[m] for m in difflib.get_close_matches(value.lower(), list(lowered), n=1,
                                                                   cutoff=SUGGEST_CUTOFF)]
    return matches[0] if matches else None


# --- the check ---------------------------------------------------------------------------------------


_ANSWERS: weakref.WeakKeyDictionary[Any, dict[str, tuple[IdStatus, float]]] = weakref.WeakKeyDictionary()


def forget_answers() -> None:
    """Drop every remembered answer (tests; after a change that creates users)."""
    _ANSWERS.clear()


class _Checker:
    def __init__(self, workspace: Workspace) -> None:
        client = workspace.client
        self.amp = client.amplitude
        self.answers = _ANSWERS.setdefault(client, {})
        self.profile_budget = client.find_budget("profile") if client.hosts.profile is not None else None
        if workspace.connection.region == "eu":
            self.profile_budget = None
        self.search_budget = client.find_budget("usersearch")
        self.searches_left = MAX_SEARCHES_PER_PLAN
        #: searches go one at a time, in the plan's order (targets first): the scarce budget goes to
        #: the ids that matter most, and the Dashboard API's 5-concurrent cap is left to the person
        self.search_turn = asyncio.Lock()

    def remembered(self, value: str) -> IdStatus | None:
        found = self.answers.get(value)
        if found is None:
            return None
        status, at = found
        ttl = KNOWN_TTL_S if status.state == KNOWN else UNKNOWN_TTL_S
        if time.monotonic() - at > ttl:
            del self.answers[value]
            return None
        return status

    def _profile_room(self) -> str | None:
        """None when a profile check may be spent now, else why not."""
        budget = self.profile_budget
        if budget is None:
            return "the User Profile API is not offered in this region"
        left = budget.remaining()
        if left < max(1, int(budget.limit * PROFILE_RESERVE_SHARE)):
            return f"the user profile budget is low ({left} of {budget.limit} left)"
        return None

    def _search_room(self) -> str | None:
        budget = self.search_budget
        if budget is None:
            return "user search is not available for this profile"
        if self.searches_left <= 0:
            return f"a plan spends at most {MAX_SEARCHES_PER_PLAN} user searches"
        left = budget.remaining()
        if left < max(1, int(budget.limit * SEARCH_RESERVE_SHARE)):
            return (f"the user search budget is low ({left} of {budget.limit} left); "
                    "it is kept for lookups")
        return None

    async def status(self, value: str) -> IdStatus:
        cached = self.remembered(value)
        if cached is not None:
            return cached
        why = self._profile_room()
        if why is None:
            try:
                await self.amp.profile(value, amp_props=False, cohort_ids=False)
                return self._keep(IdStatus(value, KNOWN, via="user profile"))
            except NotFound:
                return self._keep(IdStatus(value, UNKNOWN, via="user profile"))
            except NotOffered:
                why = "the User Profile API is not offered in this region"
            except IdConsoleError as exc:
                why = f"the user profile check failed ({_short(exc)})"
        async with self.search_turn:
            room = self._search_room()
            if room is not None:
                return IdStatus(value, NOT_CHECKED, why=room if self.profile_budget is None else f"{why}; {room}")
            self.searches_left -= 1
            try:
                result = await self.amp.search(value)
            except IdConsoleError as exc:
                return IdStatus(value, NOT_CHECKED, why=f"user search failed ({_short(exc)})")
        known = any(m.user_id == value for m in result.matches)
        return self._keep(IdStatus(value, KNOWN if known else UNKNOWN, via="user search"))

    def _keep(self, status: IdStatus) -> IdStatus:
        self.answers[status.id] = (status, time.monotonic())
        return status


async def check_known_ids(
    workspace: Workspace,
    changes: Sequence[Change],
    *,
    positions: Mapping[str, int] | None = None,
    history: Sequence[str] | None = None,
) -> KnownIds:
    """Per id of every Amplitude map in `changes` (targets first): known, unknown or not checked; plus an
    `unknown_id` warning per unknown id mapped into. `history` defaults to the profile's lookup history.
    Sends only GETs (profile, search), within the budgets; never raises for a failed check."""
    maps = [c for c in changes if c.op == model.MAP and c.target_id is not None]
    report = KnownIds()
    if not maps or workspace.connection.amplitude is None:
        return report
    into: dict[str, list[Change]] = {}
    for change in maps:
        into.setdefault(change.target_id or "", []).append(change)
    order = [i for i in dict.fromkeys([*into, *(c.user_id for c in maps)]) if id_problem(i, "id") is None]
    checker = _Checker(workspace)
    checked, skipped = order[:MAX_CHECKS_PER_PLAN], order[MAX_CHECKS_PER_PLAN:]
    results = await _run(checker, checked)
    for value in order:
        report.statuses[value] = results.get(value) or IdStatus(
            value, NOT_CHECKED,
            why=f"a plan checks at most {MAX_CHECKS_PER_PLAN} ids" if value in skipped
            else f"the check took longer than {CHECK_TIMEOUT_S:g} s")

    unknown_into = [i for i in into if report.statuses.get(i) and report.statuses[i].state == UNKNOWN]
    if not unknown_into:
        return report
    names = history if history is not None else lookup_history(workspace.connection.name)
    pool = [*names, *(i for i, s in report.statuses.items() if s.state == KNOWN)]
    for target in unknown_into:
        suggestion = closest(target, pool)
        if suggestion is not None:
            seen = report.statuses.get(suggestion) or (await _run(checker, [suggestion])).get(suggestion)
            if seen is not None and seen.state == UNKNOWN:
                suggestion = None
        where = "a recent lookup" if suggestion in names else "an id in this plan that Amplitude knows"
        report.warnings.append(_unknown_warning(target, into[target], positions or {}, suggestion, where))
    return report


async def _run(checker: _Checker, values: Sequence[str]) -> dict[str, IdStatus]:
    """Check `values` a few at a time; whatever is not done after CHECK_TIMEOUT_S is left out."""
    gate = asyncio.Semaphore(CONCURRENCY)
    out: dict[str, IdStatus] = {}

    async def one(value: str) -> None:
        async with gate:
            out[value] = await checker.status(value)

    tasks = [asyncio.ensure_future(one(v)) for v in values]
    if not tasks:
        return out
    _done, pending = await asyncio.wait(tasks, timeout=CHECK_TIMEOUT_S)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    return out


def _unknown_warning(target: str, changes: list[Change], positions: Mapping[str, int],
                     suggestion: str | None, where: str) -> IdWarning:
    numbers = [str(positions[c.id]) for c in changes if c.id in positions]
    if len(changes) == 1:
        who = f"change {numbers[0]} maps {changes[0].user_id}" if numbers else f"{changes[0].user_id} is mapped"
    else:
        who = f"changes {', '.join(numbers)} map {len(changes)} users" if numbers else f"{len(changes)} users are mapped"
    message = f"{who} into {target}, an id Amplitude has not seen"
    if suggestion is not None:
        message += f": a typo? Did you mean {suggestion} ({where})?"
    else:
        message += ": check the spelling (the map would make it a new user with no events)"
    return IdWarning(UNKNOWN_ID, message, target, tuple(c.id for c in changes), suggestion)



def _short(exc: IdConsoleError) -> str:
    text = exc.message.strip().rstrip(".")
    return text if len(text) <= 120 else text[:119] + "…"

"""Mixpanel profile writes: `POST /engage` (user profiles) and `POST /groups` (group profiles), what the
official `mixpanel` package's `people_*` and `group_*` calls send.

Bodies as /track takes them: a form field `data` (JSON, or base64 of JSON; one record or an array of at
most 2000) plus `verbose=1`, or a JSON body; GET with `data` in the query works too (?). Like /track they
answer HTTP 200 (413 over 10 MB (?)): `1`/`0`, or with `verbose=1` `{"status": 1|0, "error": null|"..."}`.
A batch is checked whole first (one bad record refuses it all, nothing applied (?)), then applied in order.
A user-profile update lands on the profile of the distinct id's identity cluster, so every id of a cluster
updates the one profile engage answers; an update for an unknown id creates a one-id cluster.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from idconsole.sandbox.mixpanel_events import MAX_EVENTS
from idconsole.sandbox.people_ops import UpdateError, apply_update, check_update
from idconsole.sandbox.web import MB, TooLarge, js, mixpanel_records, read_body, sandbox, set_items, text

MAX_BODY = 10 * MB
#: the operations that create the profile of an id never seen; the others change nothing there
CREATING = frozenset({"$set", "$set_once", "$add", "$append", "$union"})


def _profiles_route(*, group: bool):
    async def handler(request: Request) -> Response:
        sb = sandbox(request)
        try:
            body = await read_body(request, MAX_BODY)
        except TooLarge:
            return text("Request entity too large: at most 10 MB per request", 413)
        records, verbose = mixpanel_records(request, body)

        def answer(error: str | None) -> Response:
            if verbose:
                return js({"status": 0 if error else 1, "error": error})
            return text("0" if error else "1")

        if not records:
            return answer("data, missing or empty, or not a JSON object or array of profile updates")
        set_items(request, len(records))
        if len(records) > MAX_EVENTS:
            return answer(f"too many updates: {len(records)} (at most {MAX_EVENTS} per request)")
        checked = []
        for i, record in enumerate(records):
            try:
                checked.append(check_update(record, sb.config.mixpanel_token, group=group))
            except UpdateError as exc:
                return answer(f"update {i}: {exc}")
        mp = sb.state.mixpanel
        for key, op, value in checked:
            if group:
                apply_update(mp.group(key[0], key[1]), op, value)
            else:
                profile = mp.profile_of(key[0], create=op in CREATING)
                if profile is not None:
                    apply_update(profile, op, value)
        sb.state.counters["group_updates" if group else "profile_updates"] += len(checked)
        return answer(None)

    return handler


def routes() -> list[Route]:
    return [
        Route("/engage", _profiles_route(group=False), methods=["POST", "GET"]),
        Route("/groups", _profiles_route(group=True), methods=["POST", "GET"]),
    ]

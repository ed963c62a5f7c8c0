"""The console and `idconsole lookup` give the same answer for every id of the demo world (issue 9's "done").

Every id the demo data holds — each user id (also the one only a mapping names), each device id, each
Amplitude id, each email property — and a few ids nobody knows is looked up twice:

- through the console: the Lookup screen of an `App.run_test` on the in-process demo sandbox, reading
  what the screen shows (the tree's root, its "maps into" steps and cycle marker, "Nothing found.");
- through the CLI's code path: `idconsole.headless.lookup.lookup` in-process with `--json` for all of
  them (the document a script reads), and `idconsole lookup --json --demo` as a subprocess for a few.

They must agree on the resolved user id, its Amplitude id, the chain and the cycle flag. Two sandboxes
with the same deterministic demo data (one per face), search budgets raised on both: this walk makes
hundreds of searches, which the 360/hour default would spread over hours.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import json_out, run_cli
from textual.widgets import OptionList
from tui_support import TUI_SIZE, make_app, settle, tui_env  # noqa: F401  (tui_env: a fixture)

from idconsole.api.client import ApiClient
from idconsole.headless import lookup as headless_lookup
from idconsole.identity import graph as g
from idconsole.sandbox import SandboxConfig, create_app, demo
from idconsole.tui.screens.lookup import LookupScreen
from idconsole.untrusted import visible
from idconsole.workspace import Workspace, demo_connection

pytestmark = pytest.mark.usefixtures("tui_env")

ROOMY = (1_000_000, 3600.0)
PAINT_EVERY = 20
UNKNOWN_IDS = ("nobody-at-all-42", "00000000-0000-4000-8000-000000000000", "999999999", "ghost@nowhere.example",
               "[bold]x[/]", "$(rm -rf /)")
#: looked up by the subprocess too (one process, every kind of answer)
SUBPROCESS_IDS = (demo.CHAIN[0], demo.CYCLE[1], demo.STORY_WEB_DEVICE, demo.BIG_PARENT, "nobody-at-all-42")


def roomy_workspace(state_dir: Path) -> Workspace:
    """The demo world in-process, with search budgets (sandbox and client) that never make it wait."""
    config = SandboxConfig(usersearch_rate=ROOMY)
    app = create_app(config)
    connection = demo_connection(config)
    client = ApiClient(connection, transport=httpx.ASGITransport(app=app), limits={"usersearch": ROOMY})
    return Workspace(connection, client, sandbox_app=app, state_dir=state_dir)


async def demo_ids(ws: Workspace) -> list[str]:
    """Every id a support engineer could paste from the demo world, each once, in a fixed order."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ws.sandbox_app),
                                 base_url=ws.connection.base_url) as http:
        state = (await http.get("/_sandbox/state")).json()["amplitude"]
    ids: list[str] = []
    for user in state["users"]:
        ids += [user["user_id"]] if user["user_id"] is not None else []
        ids += user["device_ids"]
        ids.append(str(user["amplitude_id"]))
        email = user["user_properties"].get("email")
        ids += [email] if isinstance(email, str) else []
    ids += [u for pair in state["mappings"].items() for u in pair]
    ids += UNKNOWN_IDS
    return list(dict.fromkeys(i for i in ids if i.strip() == i))  # the console's box strips what is typed


def console_answer(screen: LookupScreen) -> dict[str, Any]:
    """What the Lookup screen shows for the last lookup."""
    tree = screen.identity_tree
    root = tree.root.data
    matches = screen.query_one("#lookup-matches", OptionList)
    if matches.display:
        return {"user_id": None, "amplitude_id": None, "chain": [], "cycle": False,
                "matches": [m.user_id for m in screen._matches]}
    if root is None:  # "Nothing found." / "Anonymous user: …": no user drawn
        anonymous = tree.root.label.plain.startswith("Anonymous user")
        return {"user_id": None, "amplitude_id": screen.found.resolution.amplitude_id if anonymous else None,
                "chain": [], "cycle": False, "known": anonymous}
    chain, cycle = [root.user_id], False
    for group in tree.root.children:
        data = group.data
        if data is not None and data.kind == g.GROUP and data.chain is not None:
            chain += [n.data.user_id for n in group.children if n.data is not None and n.data.kind == g.USER]
            cycle = any(n.data is not None and n.data.kind == g.CYCLE for n in group.children)
    return {"user_id": root.user_id, "amplitude_id": root.amplitude_id, "chain": chain, "cycle": cycle}


def assert_status_names_it(screen: LookupScreen, answer: dict[str, Any]) -> None:
    """The status line under the box says what the tree shows: the user, or that nobody is known."""
    status = str(screen.query_one("#lookup-status").render())
    if answer["user_id"] is not None:
        assert visible(answer["user_id"], limit=50) in status, status
    elif not answer.get("known"):
        assert status.startswith("Unknown user"), status


def cli_answer(entry: dict[str, Any]) -> dict[str, Any]:
    """The same facts from one id's `idconsole lookup --json` entry."""
    resolved = entry["resolved"]
    if "matches" in entry:
        return {"user_id": None, "amplitude_id": None, "chain": [], "cycle": False,
                "matches": [m["user_id"] for m in entry["matches"]]}
    if resolved is None or resolved["user_id"] is None:
        return {"user_id": None, "amplitude_id": resolved["amplitude_id"] if resolved else None,
                "chain": [], "cycle": False, "known": resolved is not None}
    return {"user_id": resolved["user_id"], "amplitude_id": resolved["amplitude_id"],
            "chain": entry["chain"], "cycle": entry["cycle"]}


async def cli_document(ws: Workspace, ids: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    """`idconsole lookup ID... --json`, in-process: the headless function on a workspace of its own."""
    capsys.readouterr()
    code = await headless_lookup.lookup(ws, argparse.Namespace(ids=ids, by=None, json=True))
    return code, json.loads(capsys.readouterr().out)


async def test_console_and_cli_agree_on_every_demo_id(tmp_path, capsys):
    console_ws = roomy_workspace(tmp_path / "console")
    cli_ws = roomy_workspace(tmp_path / "cli")
    ids = await demo_ids(cli_ws)
    code, document = await cli_document(cli_ws, ids, capsys)
    await cli_ws.aclose()
    assert code == 5  # the unknown ids
    assert list(document) == ids

    shown: dict[str, dict[str, Any]] = {}
    app = make_app(console_ws)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        for start in range(0, len(ids), PAINT_EVERY):
            # the first id of each stretch is drawn and its status line read; the rest are looked up with
            # repaints suspended (App.batch_update): painting 700 trees would take minutes, not seconds
            first, *rest = ids[start:start + PAINT_EVERY]
            screen.lookup(first)
            await settle(pilot, app)
            shown[first] = console_answer(screen)
            assert_status_names_it(screen, shown[first])
            with app.batch_update():
                for query in rest:
                    screen.lookup(query)
                    await app.workers.wait_for_complete()
                    shown[query] = console_answer(screen)
        await settle(pilot, app)
    disagree = {q: (shown[q], cli_answer(document[q])) for q in ids if shown[q] != cli_answer(document[q])}
    assert not disagree, f"{len(disagree)} of {len(ids)} ids disagree, e.g. {next(iter(disagree.items()))}"

    # the walk covered every kind of answer the demo world has
    answers = list(shown.values())
    assert len(ids) > 700
    assert sum(1 for a in answers if a["user_id"] is None and not a.get("known")) == len(UNKNOWN_IDS)
    assert any(len(a["chain"]) == 3 for a in answers) and any(a["cycle"] for a in answers)
    by = {document[q]["resolved"]["by"] for q in ids if document[q]["resolved"]}
    assert by == {"user", "device", "amplitude"}
    assert shown[demo.STORY_WEB_DEVICE]["chain"] == [demo.STORY_USER, demo.STORY_PHONE_USER]
    assert shown[demo.CHAIN[0]]["chain"] == list(demo.CHAIN)
    assert shown[demo.CYCLE[0]] == {"user_id": demo.CYCLE[0], "amplitude_id": shown[demo.CYCLE[0]]["amplitude_id"],
                                    "chain": list(demo.CYCLE), "cycle": True}


async def test_a_separate_cli_process_agrees_with_the_console(tmp_path):
    result = run_cli("lookup", *SUBPROCESS_IDS, "--json", "--demo")
    assert result.returncode == 5, result.stderr  # nobody-at-all-42
    document = json_out(result)

    app = make_app(Workspace.demo(state_dir=tmp_path / "console"))
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        for query in SUBPROCESS_IDS:
            screen.lookup(query)
            await settle(pilot, app)
            assert console_answer(screen) == cli_answer(document[query]), query

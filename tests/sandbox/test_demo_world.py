"""The demo world is one world: the demo sandbox keeps its world in `<demo state>/sandbox.json`, so separate
idconsole processes (a CLI stage, a CLI apply, a later lookup, an open console) agree about it, and
`idconsole sandbox reset --demo` puts the story back and archives the demo journal."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import httpx
import pytest
from cli_helpers import json_out, run_cli
from sandbox_helpers import API_KEY, SECRET_KEY
from textual.widgets import Input
from tui_support import TUI_SIZE, make_app, settle

from idconsole.config import paths
from idconsole.sandbox import SandboxConfig, create_app, demo
from idconsole.sandbox.state import SandboxState
from idconsole.sandbox.state_file import FORMAT, StateFile
from idconsole.sandbox.world_sync import dumps
from idconsole.workspace import DEMO_BASE_URL, SANDBOX_FILE, Workspace

CHILD, TARGET = demo.CHAIN[2], "brand-new-target@example.com"  # chain-c maps into nothing in the story


def demo_dir() -> Path:
    return paths.state_dir("demo")


def mapped_to(doc: dict, user_id: str) -> list[str]:
    return [m["user_id"] for m in doc[user_id]["mapped_to"]]


# --- separate processes through the real CLI --------------------------------------------------------------


def test_an_apply_is_still_there_for_the_next_process_and_reset_brings_the_story_back():
    before = json_out(run_cli("lookup", CHILD, "--demo", "--json"))
    assert mapped_to(before, CHILD) == []

    assert run_cli("stage", "map", CHILD, TARGET, "--demo").returncode == 0
    applied = run_cli("apply", "--demo", "--yes", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json_out(applied)["verified"]["confirmed"] == 1

    after = run_cli("lookup", CHILD, "--demo", "--json")
    assert after.returncode == 0, after.stderr
    assert mapped_to(json_out(after), CHILD) == [TARGET]  # the old sandbox forgot it here
    assert (demo_dir() / SANDBOX_FILE).is_file()

    # something staged but not applied, to see the reset clear it
    assert run_cli("stage", "unmap", demo.STORY_USER, "--demo").returncode == 0
    reset = run_cli("sandbox", "reset", "--demo", "--json")
    assert reset.returncode == 0, reset.stderr
    done = json_out(reset)
    assert done["world_changed"] is True and done["staged_cleared"] == 1
    archive = Path(done["journal_archive"])
    assert archive.is_file() and archive.parent == demo_dir() and archive.name.startswith("journal-")
    assert TARGET in archive.read_text(encoding="utf-8")  # the applied change is in the archive
    assert not (demo_dir() / "journal.jsonl").exists()
    assert "back to its story" in reset.stderr and archive.name in reset.stderr

    assert mapped_to(json_out(run_cli("lookup", CHILD, "--demo", "--json")), CHILD) == []
    story = json_out(run_cli("lookup", demo.STORY_USER, "--demo", "--json"))
    assert mapped_to(story, demo.STORY_USER) == [demo.STORY_PHONE_USER]
    assert json_out(run_cli("stage", "list", "--demo", "--json")) == []
    journal = run_cli("journal", "--demo", "--json")
    assert journal.returncode == 0 and json_out(journal) in ([], {"entries": []})


def test_sandbox_reset_without_demo_says_it_only_resets_the_demo():
    result = run_cli("sandbox", "reset")
    assert result.returncode == 2
    assert "only resets the demo world" in result.stderr and "Traceback" not in result.stderr
    as_json = run_cli("sandbox", "reset", "--json")
    assert as_json.returncode == 2
    assert json_out(as_json)["error"]["kind"]
    assert not (demo_dir() / SANDBOX_FILE).exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"format":"idconsole-sandbox-world","version":1,"revision":3,"writer":"ab","world":{"amplit',
         "not valid JSON"),
        (b"", "empty"),
        (json.dumps({"format": FORMAT, "version": 99, "revision": 1, "world": {}}).encode(), "version 99"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps({"amplitude": {"users": []}}).encode(), "not an idconsole sandbox world"),
    ],
    ids=["torn", "empty", "unknown-version", "deep", "foreign"],
)
def test_a_bad_world_file_is_kept_aside_said_once_and_the_story_starts(content, why):
    path = demo_dir() / SANDBOX_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = run_cli("lookup", demo.STORY_USER, "--demo", "--json")
    assert result.returncode == 0, result.stderr
    assert mapped_to(json_out(result), demo.STORY_USER) == [demo.STORY_PHONE_USER]
    kept = sorted(path.parent.glob(f"{SANDBOX_FILE}.bad-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content  # nothing lost
    lines = [line for line in result.stderr.splitlines() if "demo world" in line]
    assert len(lines) == 1 and why in lines[0] and kept[0].name in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    again = run_cli("lookup", demo.STORY_USER, "--demo", "--json")
    assert "demo world" not in again.stderr  # said once: the bad file is out of the way


# --- two processes on one world ---------------------------------------------------------------------------


def _map(http: httpx.Client, user: str, target: str) -> httpx.Response:
    return http.post("/usermap", data={"api_key": API_KEY,
                                      "mapping": json.dumps({"user_id": user, "global_user_id": target})})


def _targets(http: httpx.Client, *users: str) -> dict[str, list[str]]:
    reply = http.get("/api/2/usermap", params=[("user_ids", u) for u in users], auth=(API_KEY, SECRET_KEY))
    reply.raise_for_status()
    return {u: [m["user_id"] for m in reply.json()[u]["mapped_to"]] for u in users}


def test_two_servers_on_one_state_file_never_erase_each_others_writes(start_sandbox, tmp_path):
    state = tmp_path / "world" / "sandbox.json"
    a = start_sandbox("--state", str(state))
    b = start_sandbox("--state", str(state))
    assert _map(a.http, "from-a", "g-a").status_code == 200
    assert _map(b.http, "from-b", "g-b").status_code == 200  # b started before a's write
    assert _targets(a.http, "from-a", "from-b") == {"from-a": ["g-a"], "from-b": ["g-b"]}

    # interleaved writers: every acknowledged write survives
    def write_many(server, prefix: str) -> None:
        for i in range(25):
            assert _map(server.http, f"{prefix}-{i}", "g-many").status_code == 200

    threads = [threading.Thread(target=write_many, args=(s, p)) for s, p in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    users = [f"{p}-{i}" for p in "ab" for i in range(25)]
    assert set(map(tuple, _targets(b.http, *users).values())) == {("g-many",)}
    assert "Traceback" not in a.stderr() + b.stderr()

    # a restart keeps the world; without --state a server keeps it in memory only
    a.stop()
    c = start_sandbox("--state", str(state))
    assert _targets(c.http, "from-a")["from-a"] == ["g-a"]
    plain = start_sandbox()
    assert _targets(plain.http, "from-a")["from-a"] == []


# --- in process: what is saved, when, and what is not ------------------------------------------------------


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=DEMO_BASE_URL)


async def test_an_acknowledged_write_is_on_disk_before_the_client_reads_the_answer(tmp_path):
    path = tmp_path / "sandbox.json"
    app = create_app(SandboxConfig(state_file=str(path)))
    async with _client(app) as http:
        reply = await http.post("/usermap", data={"api_key": API_KEY, "mapping": json.dumps(
            {"user_id": CHILD, "global_user_id": TARGET})})
        assert reply.status_code == 200
        world, _, revision, _ = StateFile(path).read()  # read before anything else runs
        assert world is not None and world["amplitude"]["mappings"][CHILD] == TARGET and revision == 1
        # reads and refused writes save nothing
        mtime = path.stat().st_mtime_ns
        await http.get("/api/2/usermap", params={"user_ids": CHILD}, auth=(API_KEY, SECRET_KEY))
        await http.post("/usermap", data={"api_key": "wrong", "mapping": "{}"})
        await http.post("/_sandbox/faults", json={"path": "/nothing", "status": 500})
        assert path.stat().st_mtime_ns == mtime and StateFile(path).read()[2] == 1
        # the control route's reset is a write too: the story is saved
        assert (await http.post("/_sandbox/reset")).status_code == 200
        world, _, revision, _ = StateFile(path).read()
        assert world is not None and CHILD not in world["amplitude"]["mappings"] and revision == 2
    # rate windows, faults, the request log and counters stay in the process
    saved = json.loads(path.read_bytes())
    assert set(saved["world"]) == set(SandboxState().world())
    assert "counters" not in saved["world"] and "faults" not in saved["world"]


async def test_a_write_that_cannot_be_saved_is_not_acknowledged_and_not_kept(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    app = create_app(SandboxConfig(state_file=str(blocker / "sandbox.json")))
    async with _client(app) as http:
        reply = await http.post("/usermap", data={"api_key": API_KEY, "mapping": json.dumps(
            {"user_id": CHILD, "global_user_id": TARGET})})
        assert reply.status_code == 507
        assert "could not save" in reply.json()["error"] and "not kept" in reply.json()["error"]
        assert CHILD not in app.state.sandbox.state.amplitude.mappings  # back to what is on disk


async def test_a_world_survives_a_round_trip_through_its_file(tmp_path):
    """Whatever the routes do (maps, identifies with devices, Mixpanel merges, events), a second process
    reading the file sees the same world."""
    path = tmp_path / "sandbox.json"
    first = create_app(SandboxConfig(state_file=str(path)))
    async with _client(first) as http:
        ident = [{"device_id": "dev-shared"}, {"user_id": "late-owner", "device_id": "dev-shared",
                  "user_properties": {"$add": {"logins": 3}, "$set": {"plan": "pro"}}}]
        assert (await http.post("/identify", data={"api_key": API_KEY,
                                                   "identification": json.dumps(ident)})).status_code == 200
        for user, target in ((CHILD, TARGET), (demo.STORY_USER, demo.STORY_PHONE_USER), ("n-1", TARGET)):
            assert (await _amap(http, user, target)).status_code == 200
        event = {"event": "$merge", "properties": {"$distinct_ids": [demo.STORY_USER, demo.STORY_MP_PHONE_ANON],
                                                   "token": "sandbox-token"}}
        assert (await http.post("/track", data={"data": json.dumps(event)})).status_code == 200
        # events arrive between two mappings: the saved copy of the events must follow
        seeded = {"amplitude": [{"event_type": "late login", "time": 1_700_000_000_000, "user_id": "late-owner"}],
                  "mixpanel": [{"event": "late view", "properties": {"distinct_id": "mp-late", "time": 1_700_000_000}}]}
        assert (await http.post("/_sandbox/events", json=seeded)).json()["ok"] is True
        assert (await _amap(http, "n-2", TARGET)).status_code == 200
    live = first.state.sandbox.state
    assert StateFile(path).read()[3] == dumps(live.world())  # what is on disk is the live world, exactly
    second = create_app(SandboxConfig(state_file=str(path)))
    assert second.state.sandbox.state.world() == live.world()
    assert {e["event_type"] for e in second.state.sandbox.state.world()["events"]["amplitude"]} >= {"late login"}
    assert second.state.sandbox.state.amplitude.by_device_id == first.state.sandbox.state.amplitude.by_device_id


async def _amap(http: httpx.AsyncClient, user: str, target: str) -> httpx.Response:
    return await http.post("/usermap", data={"api_key": API_KEY, "mapping": json.dumps(
        {"user_id": user, "global_user_id": target})})


async def test_a_process_reads_the_world_again_when_another_saved(tmp_path):
    path = tmp_path / "sandbox.json"
    console, cli = (create_app(SandboxConfig(state_file=str(path))) for _ in range(2))
    async with _client(console) as a, _client(cli) as b:
        assert (await _amap(b, CHILD, TARGET)).status_code == 200
        reply = await a.get("/api/2/usermap", params={"user_ids": CHILD}, auth=(API_KEY, SECRET_KEY))
        assert [m["user_id"] for m in reply.json()[CHILD]["mapped_to"]] == [TARGET]
        assert (await _amap(a, "n-2", TARGET)).status_code == 200
        reply = await b.get("/api/2/usermap", params=[("user_ids", CHILD), ("user_ids", "n-2")], auth=(API_KEY, SECRET_KEY))
        assert {u: [m["user_id"] for m in v["mapped_to"]] for u, v in reply.json().items()} == {
            CHILD: [TARGET], "n-2": [TARGET]}


def test_the_demo_workspace_keeps_its_world_beside_its_journal(tmp_path):
    ws = Workspace.demo(state_dir=tmp_path / "demo")
    assert ws.sandbox_app.state.sandbox.config.state_file == str(tmp_path / "demo" / SANDBOX_FILE)
    other = Workspace.demo(state_dir=tmp_path / "demo", sandbox_config=SandboxConfig(state_file=None))
    assert other.sandbox_app.state.sandbox.sync is not None  # the demo always keeps its world


def test_reset_outside_the_demo_and_read_only_are_refused(tmp_path):
    from idconsole.api.errors import BadInput

    readonly = Workspace.demo(state_dir=tmp_path / "d", readonly=True)
    with pytest.raises(BadInput, match="read-only"):
        readonly.reset_demo()
    real = Workspace.open(readonly.connection, state_dir=tmp_path / "real")
    with pytest.raises(BadInput, match="Only the demo world"):
        real.reset_demo()


# --- a console open while a CLI applies --------------------------------------------------------------------


async def test_an_open_console_sees_what_a_cli_apply_did_and_what_a_reset_undid(tui_env):
    async def lookup(pilot, app, query: str) -> str:
        box = app.screen.query_one("#lookup-input", Input)
        box.focus()
        box.value = query
        await pilot.press("enter")
        await settle(pilot, app)
        return str(app.screen.query_one("#lookup-status").render())

    app = make_app(Workspace.demo())  # the demo's own state dir, the one the CLI uses
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        assert TARGET not in await lookup(pilot, app, CHILD)
        for args in (("stage", "map", CHILD, TARGET, "--demo"), ("apply", "--demo", "--yes")):
            done = await asyncio.to_thread(run_cli, *args)
            assert done.returncode == 0, done.stderr + (paths.state_dir("demo") / "journal.jsonl").read_text()
        assert "maps into " + TARGET in await lookup(pilot, app, CHILD)
        done = await asyncio.to_thread(run_cli, "sandbox", "reset", "--demo")
        assert done.returncode == 0, done.stderr
        assert TARGET not in await lookup(pilot, app, CHILD)


async def test_the_console_says_in_a_notification_that_a_bad_world_file_was_kept_aside(tui_env):
    path = demo_dir() / SANDBOX_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"format":"idconsole-sandbox-world","version":1,"rev')
    app = make_app(Workspace.demo())
    async with app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot, app)
        box = app.screen.query_one("#lookup-input", Input)
        box.value = demo.STORY_USER
        box.focus()
        await pilot.press("enter")
        await settle(pilot, app)
        said = [n for n in app.notifications if n.title == "Demo world"]
        assert len(said) == 1 and "kept aside" in said[0].message and said[0].markup is False
        assert "maps into " + demo.STORY_PHONE_USER in str(app.screen.query_one("#lookup-status").render())
    assert len(list(path.parent.glob(f"{SANDBOX_FILE}.bad-*"))) == 1


def test_a_reset_waits_for_no_apply_and_is_refused_while_one_runs(tmp_path):
    from idconsole.changes.apply_lock import ApplyLock
    from idconsole.changes.apply_report import ApplyRefused

    ws = Workspace.demo(state_dir=tmp_path / "demo")
    ws.journal.path.parent.mkdir(parents=True, exist_ok=True)
    ws.journal.path.write_text('{"type": "begin", "journal_id": "j"}\n', encoding="utf-8")
    lock = ApplyLock(ws.state_dir)
    assert lock.acquire()
    try:
        with pytest.raises(ApplyRefused, match="in flight"):
            ws.reset_demo()
    finally:
        lock.release()
    assert ws.journal.path.exists()  # nothing moved
    done = ws.reset_demo()
    assert done.journal_archive is not None and done.journal_archive.exists()
    again = ws.reset_demo()  # twice in a second: a second archive never overwrites the first
    assert again.journal_archive is None and again.world_changed is False

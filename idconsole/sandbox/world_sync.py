"""One world across processes: a sandbox whose config names a `state_file` keeps its world in that file
(`state_file.py`; the demo's is `<demo state dir>/sandbox.json`).

- Every request first looks at the file's header (one short read); if another process saved since, the
  world is read again before the request is answered, so a console sees what a CLI apply did.
- A request that may change the world (anything but GET/HEAD/OPTIONS and Mixpanel's read-only Query API,
  plus GET /track, /engage and /groups) holds the world lock from that re-read until its world is saved,
  so the later of two processes never erases the other's write. The world is saved when the response
  starts — before the client can read an acknowledgement — and only when it changed (compared as compact
  JSON). So an acknowledged write is on disk; nothing is ever left to flush at exit.
- A save that fails (read-only directory, full disk) puts the world back as it was on disk and answers
  507 with one sentence instead of the acknowledgement: no client believes in a write that is not kept.
- A file this version cannot read (torn, not JSON, another format or version) is renamed to
  `sandbox.json.bad-<time>`, reported in one sentence (`notices`), and the world starts from the story.
Measured on the demo world (~200 users, ~5,000 events, 420 kB of JSON) on an idle machine: ~2.3 ms to
serialise (the events' JSON cached, see WorldJson), ~1.6 ms to write and fsync: ~4 ms per write request
(0.3 ms in memory); the header check costs ~10 µs per request; a process starts from the file no slower
than from the story. Saving once per request, not per change in it, keeps a 1,000-mapping batch one save.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from idconsole.sandbox.state import SandboxState
from idconsole.sandbox.state_file import StateFile, WorldFileError

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_PREFIX = "/api/query/"  # Mixpanel's Query API (engage, stream) reads by POST too
LOCK_TIMEOUT = 10.0


def may_write(scope: dict[str, Any]) -> bool:
    method, path = scope["method"], scope["path"]
    if method in READ_METHODS:
        return path in ("/track", "/engage", "/groups")  # Mixpanel takes events and profile writes by GET too
    return not path.startswith(READ_ONLY_PREFIX)


def dumps(world: dict[str, Any]) -> bytes:
    return json.dumps(world, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WorldJson:
    """`state.world()` as compact JSON, the events' part cached: the event store only ever grows
    (append-only lists and merges), so its length says whether it changed, and most writes (a mapping,
    an identify) leave it alone. Exporting the demo's ~5,000 events took ~14 ms of a ~30 ms save."""

    def __init__(self) -> None:
        self._events: Any = None  # the store the cache belongs to (kept, so its id is never reused)
        self._key: tuple[int, ...] = ()
        self._json = b""

    def __call__(self, state: SandboxState) -> bytes:
        events = state.events
        key = (len(events.amplitude), len(events.mixpanel), len(events.merged))
        if events is not self._events or key != self._key:
            self._events, self._key, self._json = events, key, dumps(events.export())
        rest = dumps(state.world(events=False))
        return rest[:-1] + b',"events":' + self._json + b"}"


class WorldSync:
    """The link between a Sandbox's live state and its file. `sandbox` is the runtime.Sandbox."""

    def __init__(self, sandbox: Any, path: Path, notify: Callable[[str], None]) -> None:
        self.sandbox = sandbox
        self.file = StateFile(path)
        self._notify = notify
        self._world_json = WorldJson()
        self._head: bytes | None = None  # None: no file, i.e. the initial data
        self.revision = 0
        #: the world's JSON as last read or saved (what a failed save goes back to); None: the initial
        #: data, not serialised until a write needs it
        self._saved: bytes | None = None
        self.refresh(force=True)

    # --- reading ---------------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Read the world again if the file changed since this process last read or wrote it."""
        head = self.file.head()
        if head == self._head and not force:
            return False
        try:
            world, head, revision, world_json = self.file.read()
        except WorldFileError as exc:
            self._bad_file(str(exc), head)
            return True
        if world is None:  # no file: the initial data
            self._install(self.sandbox.initial_state(), None, 0, None)
            return True
        try:
            state = _state_of(world)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            self._bad_file(f"its world does not load ({type(exc).__name__}: {exc})", head)
            return True
        self._install(state, head, revision, world_json)
        return True

    def _install(self, state: SandboxState, head: bytes | None, revision: int, saved: bytes | None) -> None:
        state.counters = self.sandbox.state.counters  # per process, like the rate windows
        self.sandbox.state = state
        self._head, self.revision, self._saved = head, revision, saved

    def _bad_file(self, why: str, head: bytes | None) -> None:
        """Keep the bad file aside (under the lock, and only if nobody replaced it meanwhile), say so in
        one sentence, and start from the story."""
        name = self.file.path
        lock = self.file.lock()
        kept = None
        problem = None
        if lock.acquire(LOCK_TIMEOUT):
            try:
                if self.file.head() != head:  # a writer replaced it meanwhile: read that instead
                    lock.release()
                    self.refresh(force=True)
                    return
                kept = self.file.set_aside()
            except FileNotFoundError:  # set aside or reset by another process, which said so
                lock.release()
                self.refresh(force=True)
                return
            except OSError as exc:
                problem = exc.strerror or str(exc)
            finally:
                lock.release()
        else:
            problem = "another idconsole holds its lock"
        if kept is not None:
            self._install(self.sandbox.initial_state(), None, 0, None)
            self._notify(f"The demo world in {name} could not be read ({why}); it was kept aside as "
                         f"{kept.name} and the demo starts again from its story.")
        else:
            self._install(self.sandbox.initial_state(), head, 0, None)  # the same bad file is not reported again
            self._notify(f"The demo world in {name} could not be read ({why}) and could not be moved aside "
                         f"({problem}); the demo runs from its story, and the next change replaces that file.")

    # --- writing ---------------------------------------------------------------------------------------

    def commit(self) -> str | None:
        """Save the world if it changed. None when it is on disk; else the sentence of why not (the world
        is then back to what was last saved)."""
        world = self._world_json(self.sandbox.state)
        if world == self._saved:  # None (the initial data, never serialised): one save settles it
            return None
        try:
            head = self.file.write(world, self.revision + 1)
        except OSError as exc:
            back = (self.sandbox.initial_state() if self._saved is None
                    else _state_of(json.loads(self._saved)))
            self._install(back, self._head, self.revision, self._saved)
            return (f"The sandbox could not save its world to {self.file.path} "
                    f"({exc.strerror or exc}); the change was not kept.")
        self._head, self.revision, self._saved = head, self.revision + 1, world
        return None

    async def handle(self, app: ASGIApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not may_write(scope):
            self.refresh()
            await app(scope, receive, send)
            return
        lock = self.file.lock()
        if not await lock.acquire_async(LOCK_TIMEOUT):
            await _answer(send, 503, "The demo world is busy: another idconsole process holds "
                                     f"{lock.path.name}. Try again.", retry_after="1")
            return
        try:
            self.refresh()
            await self._write_request(app, scope, receive, send)
        finally:
            lock.release()

    async def _write_request(self, app: ASGIApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
        committed = False
        replaced = False

        async def saving_send(message: Any) -> None:
            nonlocal committed, replaced
            if message["type"] == "http.response.start" and not committed:
                committed = True
                error = self.commit()
                if error is not None:
                    replaced = True
                    await _answer(send, 507, error)
                    return
            if replaced:
                return  # the body of the acknowledgement that was not sent
            await send(message)

        try:
            await app(scope, receive, saving_send)
        finally:
            if not committed:  # no response at all (a dropped connection): the world still counts
                self.commit()


def _state_of(world: dict[str, Any]) -> SandboxState:
    state = SandboxState()
    state.load(world)
    return state


async def _answer(send: Any, status: int, sentence: str, *, retry_after: str | None = None) -> None:
    body = json.dumps({"error": sentence}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

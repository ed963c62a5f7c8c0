"""The live sandbox (`app.state.sandbox`): config, state, rate windows, faults and request log.

`reset()` rebuilds all of it from the initial data, so read `sandbox.state` afresh after a reset. With a
`config.state_file` the world is kept in that file and shared with other processes (`world_sync.py`):
`sandbox.state` is then also replaced whenever another process saved a newer world.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from idconsole.sandbox.concurrency import ConcurrencyCaps
from idconsole.sandbox.config import SandboxConfig
from idconsole.sandbox.faults import FaultPlan
from idconsole.sandbox.limits import RollingWindow
from idconsole.sandbox.requestlog import RequestLog
from idconsole.sandbox.state import SandboxState
from idconsole.sandbox.world_sync import WorldSync


def initial_data(config: SandboxConfig) -> dict[str, Any]:
    """`--data FILE` replaces the demo data; `demo_data=False` starts empty."""
    if config.data_file:
        return json.loads(Path(config.data_file).read_text(encoding="utf-8"))
    if config.demo_data:
        from idconsole.sandbox import demo

        return demo.build()
    return {}


class Sandbox:
    def __init__(self, config: SandboxConfig, *, on_notice: Callable[[str], None] | None = None) -> None:
        self.config = config
        self._initial = initial_data(config)
        #: one-sentence notices about the world file (also given to `on_notice`)
        self.notices: list[str] = []
        self._on_notice = on_notice
        self.sync: WorldSync | None = None
        if config.state_file:  # the world is the file's, or the initial data when there is none
            self.state = SandboxState()
            self._fresh_runtime()
            self.sync = WorldSync(self, Path(config.state_file), self._notice)
        else:
            self.reset()

    def initial_state(self) -> SandboxState:
        """A new state holding the initial data (the demo's story)."""
        state = SandboxState()
        state.load(copy.deepcopy(self._initial))
        return state

    def _notice(self, sentence: str) -> None:
        self.notices.append(sentence)
        if self._on_notice is not None:
            self._on_notice(sentence)

    def reset(self) -> None:
        self.state = self.initial_state()
        self._fresh_runtime()

    def _fresh_runtime(self) -> None:
        """Rate windows, faults, request log and concurrency caps: one process's, never kept in a file."""
        cfg = self.config
        self.limits: dict[str, RollingWindow] = {
            "usermap": RollingWindow(*cfg.usermap_rate),
            "usersearch": RollingWindow(*cfg.usersearch_rate),
            "profile": RollingWindow(*cfg.profile_rate),
        }
        if cfg.engage_rate is not None:
            self.limits["engage"] = RollingWindow(*cfg.engage_rate)
        self.faults = FaultPlan(cfg.fail_rate, cfg.seed)
        self.log = RequestLog()
        self.concurrency = ConcurrencyCaps(cfg.rest_concurrency, cfg.query_concurrency)

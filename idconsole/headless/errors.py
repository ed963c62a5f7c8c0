"""Turns our errors into one clear line on stderr and the exit codes of the CLI contract."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from idconsole.api.errors import IdConsoleError


def run_reporting_errors(handler: Callable[[Any], int], ns: Any) -> int:
    try:
        return handler(ns)
    except IdConsoleError as exc:  # config errors too (ConfigError is one: exit 2)
        print(f"idconsole: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("idconsole: interrupted", file=sys.stderr)
        return 130

"""The project as a whole: layers, module size and cycles, static checks, the README, secret leaks, assets.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from leak_support import start_leak_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def leak_sandbox() -> Iterator[Any]:
    """A sandbox that accepts the leak tests' marked secrets (leak_support.SECRETS)."""
    server = start_leak_sandbox()
    try:
        yield server
    finally:
        server.stop()

"""The emulator (idconsole/sandbox/): routes, state, limits, faults, the demo world, the vendors' own clients.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

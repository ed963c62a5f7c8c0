"""Profiles, settings, secrets and paths (idconsole/config/).

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

"""Staged changes (idconsole/changes/): model, validation, CSV, plan, apply, journal, recovery, undo.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

"""The investigation (idconsole/identity/): resolve, graph walk, activity, timeline, compare, report.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

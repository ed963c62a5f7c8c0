"""The one shared async client (idconsole/api/) against the served sandbox: transport, budgets, caps, parsers, redaction.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

"""The command line (idconsole/headless/ and cli.py), run as a real `idconsole` process.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

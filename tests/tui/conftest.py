"""The console (idconsole/tui/): pilot tests with App.run_test and snapshot tests.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py.
The console's fixtures (tui_env, no_keyring, demo_workspace) come from tests/tui_support.py, a plugin
the root conftest registers (tests outside this folder drive the console too)."""

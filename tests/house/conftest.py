"""The project as a whole: layers, module size and cycles, static checks, the README, secret leaks, assets.

Shared fixtures (isolated XDG dirs, the served sandbox) are in tests/conftest.py."""

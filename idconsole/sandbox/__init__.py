"""The sandbox: a faithful emulator of the Amplitude and Mixpanel APIs in API.md (demo, training, tests).

Never imports Textual. `create_app(config)` gives a Starlette app; its live state is `app.state.sandbox`.
"""

from typing import Any

from idconsole.sandbox.config import DEMO_CREDENTIALS, SandboxConfig

__all__ = ["DEMO_CREDENTIALS", "SandboxConfig", "create_app"]


def __getattr__(name: str) -> Any:
    # Starlette is imported only when an app is built: `--demo` draws its first frame before that.
    if name == "create_app":
        from idconsole.sandbox.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

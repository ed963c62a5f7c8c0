"""The sandbox: a faithful emulator of the Amplitude and Mixpanel APIs in API.md (demo, training, tests).

Never imports Textual. `create_app(config)` gives a Starlette app; its live state is `app.state.sandbox`.
"""

from idconsole.sandbox.app import create_app
from idconsole.sandbox.config import DEMO_CREDENTIALS, SandboxConfig

__all__ = ["DEMO_CREDENTIALS", "SandboxConfig", "create_app"]

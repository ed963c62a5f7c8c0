"""The secrets of the leak tests (the request log's and the no-secret-leaks suite): values marked so any
fragment of them is found, the sandbox started with them, the environment that names them."""

from __future__ import annotations

from typing import Any

SECRETS = {
    "IDCONSOLE_AMPLITUDE_API_KEY": "k-SECRETVALUE1",
    "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s-SECRETVALUE2",
    "IDCONSOLE_MIXPANEL_TOKEN": "t-SECRETVALUE3",
    "IDCONSOLE_MIXPANEL_API_SECRET": "a-SECRETVALUE4",
    "IDCONSOLE_MIXPANEL_SA_SECRET": "sa-SECRETVALUE5",
}
WRONG = "w-SECRETVALUE6"
SA_USER = "leak-test-sa"



def start_leak_sandbox() -> Any:
    """A sandbox subprocess that accepts exactly these secrets (stop() it)."""
    from sandbox_helpers import SandboxServer

    return SandboxServer.start(
        "--api-key", SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"],
        "--secret-key", SECRETS["IDCONSOLE_AMPLITUDE_SECRET_KEY"],
        "--mixpanel-token", SECRETS["IDCONSOLE_MIXPANEL_TOKEN"],
        "--mixpanel-api-secret", SECRETS["IDCONSOLE_MIXPANEL_API_SECRET"],
        "--sa-username", SA_USER,
        "--sa-secret", SECRETS["IDCONSOLE_MIXPANEL_SA_SECRET"],
    )  # fmt: skip


def leak_env(server: Any, **override: str) -> dict[str, str]:
    env = {
        **SECRETS,
        "IDCONSOLE_BASE_URL": server.base_url,
        "IDCONSOLE_MIXPANEL_SA_USERNAME": SA_USER,
        "IDCONSOLE_MIXPANEL_PROJECT_ID": "1",
    }
    env.update(override)
    return env

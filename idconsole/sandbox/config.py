"""Settings of one sandbox instance: credentials, limits, faults and where the initial data comes from."""

from __future__ import annotations

from dataclasses import dataclass

#: The sandbox's default credentials, keyed like the SandboxConfig fields (`--demo` fills them in).
DEMO_CREDENTIALS: dict[str, str] = {
    "api_key": "sandbox-api-key",
    "secret_key": "sandbox-secret-key",
    "mixpanel_token": "sandbox-token",
    "mixpanel_api_secret": "sandbox-mp-api-secret",
    "sa_username": "sandbox-sa",
    "sa_secret": "sandbox-sa-secret",
    "project_id": "1",
}


@dataclass
class SandboxConfig:
    api_key: str = DEMO_CREDENTIALS["api_key"]
    secret_key: str = DEMO_CREDENTIALS["secret_key"]
    mixpanel_token: str = DEMO_CREDENTIALS["mixpanel_token"]
    mixpanel_api_secret: str = DEMO_CREDENTIALS["mixpanel_api_secret"]
    sa_username: str = DEMO_CREDENTIALS["sa_username"]
    sa_secret: str = DEMO_CREDENTIALS["sa_secret"]
    project_id: str = DEMO_CREDENTIALS["project_id"]
    latency_ms: int = 0
    fail_rate: float = 0.0
    seed: int = 0
    #: (count, seconds) rolling windows, as the vendors document them
    usermap_rate: tuple[int, float] = (1500, 30.0)
    usersearch_rate: tuple[int, float] = (360, 3600.0)
    profile_rate: tuple[int, float] = (600, 60.0)
    #: Mixpanel's Query API allows 60 queries/hour; off by default so tests and demos can browse freely
    engage_rate: tuple[int, float] | None = None
    #: False: act as a project without User Mapping (the Portfolio add-on); see entitlements.py
    usermap_entitlement: bool = True
    #: requests in flight at once: Amplitude's Dashboard REST API (`/api/2/*`) and Mixpanel's Query API
    #: (`/api/query/*`) take 5 each and answer 429 beyond; None lifts a cap (concurrency.py)
    rest_concurrency: int | None = 5
    query_concurrency: int | None = 5
    demo_data: bool = True
    #: a JSON file in the `/_sandbox/state` shape; when given it replaces the demo data
    data_file: str | None = None
    #: where the world is kept between processes (the demo's `sandbox.json`); None: in memory only
    state_file: str | None = None

    def __repr__(self) -> str:
        # never print secrets (tracebacks, logs)
        return (
            f"SandboxConfig(project_id={self.project_id!r}, latency_ms={self.latency_ms}, "
            f"fail_rate={self.fail_rate}, seed={self.seed}, demo_data={self.demo_data}, "
            f"data_file={self.data_file!r}, state_file={self.state_file!r})"
        )

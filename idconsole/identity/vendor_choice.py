"""Which vendor a read asks when none is named, one rule for both faces (`lookup`, `activity`, the console):
`--vendor` if given (refused when the profile has no credentials for it), else the settings'
`default_vendor` when the profile has that vendor, else Amplitude (whose face says so when the profile has
no Amplitude credentials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idconsole.api.errors import BadInput

if TYPE_CHECKING:
    from idconsole.workspace import Workspace

AMPLITUDE, MIXPANEL = "amplitude", "mixpanel"
LABELS = {AMPLITUDE: "Amplitude", MIXPANEL: "Mixpanel"}


def pick_vendor(ws: Workspace, requested: str | None) -> str:
    conn = ws.connection
    has = {AMPLITUDE: conn.amplitude is not None, MIXPANEL: conn.mixpanel is not None}
    if requested is not None:
        if not has.get(requested, False):
            raise BadInput(f"Profile {conn.name!r} has no {LABELS.get(requested, requested)} credentials.",
                           hint=f"Add them with `idconsole profiles add NAME --vendor {requested}`.")
        return requested
    try:
        from idconsole.config.settings import load_settings

        preferred = load_settings().default_vendor
    except Exception:  # noqa: BLE001 - a broken settings file is reported elsewhere; it never blocks a read
        preferred = AMPLITUDE
    # Amplitude otherwise, even when the profile lacks it: the Amplitude face says so (exit 2) rather than
    # quietly answering from another vendor
    return preferred if has.get(preferred, False) else AMPLITUDE

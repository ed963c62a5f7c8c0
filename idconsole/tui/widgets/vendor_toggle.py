"""Which vendor the Lookup box asks (Amplitude | Mixpanel), remembered per profile in
`cache_dir()/lookup_vendor.json` (a vendor name per profile, nothing else). The first time, the settings'
`default_vendor` (`headless.vendor_choice.pick_vendor`, the CLI's rule) decides. A damaged or unwritable
file only means the choice lives in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from idconsole.config import paths
from idconsole.config.atomic import atomic_write

AMPLITUDE, MIXPANEL = "amplitude", "mixpanel"
FILE_NAME = "lookup_vendor.json"
LABELS = {AMPLITUDE: "Amplitude", MIXPANEL: "Mixpanel"}


class VendorChoice:
    """`VendorChoice(profile, vendors, default)`: `vendor` now; `toggle()` switches and remembers."""

    def __init__(self, profile: str, vendors: tuple[str, ...], default: str = AMPLITUDE,
                 path: Path | None = None) -> None:
        self.profile = profile
        self.vendors = tuple(v for v in (AMPLITUDE, MIXPANEL) if v in vendors)
        self.path = path if path is not None else paths.cache_dir() / FILE_NAME
        saved = self._read().get(profile)
        self.vendor = saved if saved in self.vendors else default if default in self.vendors else \
            (self.vendors[0] if self.vendors else AMPLITUDE)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def can_toggle(self) -> bool:
        return len(self.vendors) > 1

    def toggle(self) -> str:
        if self.can_toggle:
            self.vendor = MIXPANEL if self.vendor == AMPLITUDE else AMPLITUDE
            data = self._read()
            data[self.profile] = self.vendor
            try:
                atomic_write(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
            except OSError:
                pass   # remembered for this session only
        return self.vendor

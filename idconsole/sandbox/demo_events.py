"""The demo's events: the ticket's story told in both vendors' event streams. Deterministic.

`build(users, story)` returns `{"amplitude": [...], "mixpanel": [...]}` in the shape `EventStore.load` reads
(Amplitude events without amplitude ids: they are attributed as at ingestion, after the users are loaded).
`story` carries demo.py's ids (this module does not import demo.py, which calls it).

The story (ids from demo.py), in time order, UTC:
- 2019-03-14 → 2024-06-02: Hank (`STORY_USER`) uses the web app on `STORY_WEB_DEVICE`, years of sessions.
- 2024-06-03 09:12 (`STORY_INSTALL_MS`): the new phone (`STORY_PHONE_DEVICE`) installs the app and browses
  anonymously: events with a device id and no user id.
- 2024-06-03 09:15 (`STORY_LOGIN_MS`): he logs in; the app sends the phone's throwaway account id
  `STORY_PHONE_USER` (63629@hmail.com) instead of his email, and the phone's events continue under it.
- 2024-06-05 11:00 (`STORY_MAPPING_MS`): support maps the wrong way round (`STORY_WRONG_MAPPING`, already in
  the mappings), so 63629@hmail.com's stream holds Hank's history and hank@globex.net keeps only his own.
  Hank keeps using the web afterwards (2024-06-06 → 2024-06-10).
- A shared kiosk tablet (`KIOSK_DEVICE`) is seen under the first `KIOSK_USER_COUNT` kiosk user ids (all
  mapped into `BIG_PARENT`): the device a plan must not use as evidence that two users are one person.
- A few events for other users (the first filler users, the chain and the cycle), and events whose type and
  properties look like markup or carry control characters, under the hostile ids.
In Mixpanel: the web's anonymous `$device:` id before signup, then Hank identified on the web; the phone's
anonymous cluster (`STORY_MP_PHONE_ANON`) including the login event that never identified it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

DAY_MS = 86_400_000
STORY_SIGNUP_MS = 1552557600000    # 2019-03-14 10:00
STORY_INSTALL_MS = 1717405920000   # 2024-06-03 09:12
STORY_LOGIN_MS = 1717406100000     # 2024-06-03 09:15
STORY_MAPPING_MS = 1717585200000   # 2024-06-05 11:00
STORY_LAST_WEB_MS = 1717322400000  # 2024-06-02 10:00: the last web session before the phone
KIOSK_DEVICE = "KIOSK-7C1E-4B9A-A3D2-STORE-104"
KIOSK_USER_COUNT = 12
WEB_EVENTS = ("dashboard viewed", "report opened", "report exported", "chart edited", "invite sent")
PHONE_EVENTS = ("screen viewed", "report opened", "notification opened", "widget added")
HOSTILE_EVENT_TYPES = ("[bold red]purchase[/]", "\x1b[31mred\x1b[0m", "[@click=app.quit]x[/]", "$(rm -rf ~)")


@dataclass(frozen=True)
class Story:
    """The demo's ids the events are about (demo.py's constants)."""

    user: str
    phone_user: str
    web_device: str
    phone_device: str
    mp_web_anon: str
    mp_phone_anon: str
    kiosk_users: tuple[str, ...]
    hostile_ids: tuple[str, ...]
    skus: tuple[str, ...]
    seed: int


class _Builder:
    def __init__(self, story: Story) -> None:
        self.story = story
        self.rng = random.Random(story.seed + 1)
        self.amplitude: list[dict[str, Any]] = []
        self.mixpanel: list[dict[str, Any]] = []

    def amp(self, event_type: str, time: int, *, user_id: str | None = None, device_id: str | None = None,
            session_id: int = -1, platform: str = "Web", os_name: str | None = None, country: str | None = None,
            **props: Any) -> None:
        self.amplitude.append({
            "event_type": event_type, "time": time, "user_id": user_id, "device_id": device_id,
            "session_id": session_id, "platform": platform, "os_name": os_name, "country": country,
            "event_properties": props, "insert_id": f"demo-amp-{len(self.amplitude) + 1:05d}",
        })  # fmt: skip

    def mp(self, event: str, time_ms: int, distinct_id: str, **props: Any) -> None:
        self.mixpanel.append({"event": event, "properties": {
            "time": time_ms // 1000, "distinct_id": distinct_id,
            "$insert_id": f"demo-mp-{len(self.mixpanel) + 1:05d}", **props}})

    def web_session(self, start: int, *, mixpanel: bool) -> None:
        """One of Hank's web sessions: a login, then a few things he did."""
        st = self.story
        kw: dict[str, Any] = {"user_id": st.user, "device_id": st.web_device, "session_id": start,
              "os_name": "Chrome 124", "country": "United States"}
        self.amp("login", start, **kw, method="password")
        t = start
        for _ in range(self.rng.randint(2, 5)):
            t += self.rng.randint(20_000, 900_000)
            self.amp(self.rng.choice(WEB_EVENTS), t, **kw, report=f"Q{self.rng.randint(1, 4)} revenue")
        if mixpanel:
            web = st.mp_web_anon.removeprefix("$device:")
            self.mp("login", start, st.user, **{"$device_id": web, "$user_id": st.user,
                                                       "$os": "Mac OS X", "mp_lib": "web"})


def _story(b: _Builder) -> None:
    st = b.story
    web = st.mp_web_anon.removeprefix("$device:")
    b.mp("page viewed", STORY_SIGNUP_MS - 600_000, st.mp_web_anon, **{"$device_id": web, "mp_lib": "web"})
    b.mp("sign up", STORY_SIGNUP_MS, st.user, **{"$device_id": web, "$user_id": st.user})
    # years of web sessions, denser lately; every fourth one also reached Mixpanel
    span = STORY_LAST_WEB_MS - STORY_SIGNUP_MS
    starts = sorted({STORY_SIGNUP_MS, STORY_LAST_WEB_MS,
                     *(STORY_SIGNUP_MS + int(span * (b.rng.random() ** 0.6)) for _ in range(40))})
    for n, start in enumerate(starts):
        b.web_session(start, mixpanel=n % 4 == 0)
    # the new phone: anonymous first, then the login under the wrong id
    phone: dict[str, Any] = {"device_id": st.phone_device, "session_id": STORY_INSTALL_MS, "platform": "iOS",
             "os_name": "ios 17.5", "country": "United States"}
    mp_phone = {"$device_id": st.phone_device, "$os": "iOS", "$model": "iPhone15,3", "mp_lib": "swift"}
    for offset, kind in ((0, "[Amplitude] Application Installed"), (40_000, "onboarding viewed"),
                         (95_000, "screen viewed")):
        b.amp(kind, STORY_INSTALL_MS + offset, **phone)
        b.mp(kind.removeprefix("[Amplitude] "), STORY_INSTALL_MS + offset, st.mp_phone_anon, **mp_phone)
    b.amp("login", STORY_LOGIN_MS, user_id=st.phone_user, **phone, method="apple id")
    b.mp("login", STORY_LOGIN_MS, st.mp_phone_anon, **mp_phone)
    t = STORY_LOGIN_MS
    for day in range(0, 7):
        session = STORY_LOGIN_MS + day * DAY_MS + (b.rng.randint(0, 8) * 3_600_000 if day else 0)
        t = max(t, session)
        for _ in range(b.rng.randint(2, 4)):
            t += b.rng.randint(15_000, 400_000)
            kind = b.rng.choice(PHONE_EVENTS)
            b.amp(kind, t, user_id=st.phone_user, **{**phone, "session_id": session})
            b.mp(kind, t, st.mp_phone_anon, **mp_phone)
    # after the wrong mapping Hank still works on the web
    for day in range(1, 6):
        b.web_session(STORY_MAPPING_MS + day * DAY_MS, mixpanel=True)


def _kiosk(b: _Builder) -> None:
    st = b.story
    start = 1714550400000  # 2024-05-01
    for n, user_id in enumerate(st.kiosk_users[:KIOSK_USER_COUNT]):
        session = start + n * 2 * DAY_MS + b.rng.randint(8, 18) * 3_600_000
        kw: dict[str, Any] = {"user_id": user_id, "device_id": KIOSK_DEVICE, "session_id": session, "platform": "Android",
              "os_name": "android 13", "country": "United States"}
        b.amp("kiosk session started", session, **kw, store=user_id.split(".")[1])
        b.amp("item scanned", session + 60_000, **kw, sku=b.rng.choice(st.skus))
        b.amp("checkout completed", session + 180_000, **kw, total=round(b.rng.uniform(5, 300), 2))


def _others(b: _Builder, users: list[dict[str, Any]]) -> None:
    st = b.story
    everyday = [u for u in users if u.get("user_id") and u["user_id"] not in (st.user, st.phone_user)
                and not str(u["user_id"]).startswith("kiosk-")][:60]
    for user in everyday:
        devices = user.get("device_ids") or [None]
        platform = b.rng.choice(("Web", "iOS", "Android"))
        session = 1704067200000 + b.rng.randint(0, 160) * DAY_MS + b.rng.randint(0, 86_000) * 1000
        for n in range(b.rng.randint(1, 6)):
            b.amp(b.rng.choice(WEB_EVENTS + PHONE_EVENTS), session + n * 90_000, user_id=user["user_id"],
                  device_id=b.rng.choice(devices), session_id=session, platform=platform)
    for n, (user_id, kind) in enumerate(zip(st.hostile_ids, HOSTILE_EVENT_TYPES * 3, strict=False)):
        b.amp(kind, 1717200000000 + n * 60_000, user_id=user_id, note="[b]bold?[/b] \x1b[2J \x00 $(rm)",
              nested={"html": "<script>alert(1)</script>"})


def build(users: list[dict[str, Any]], story: Story) -> dict[str, Any]:
    b = _Builder(story)
    _story(b)
    _kiosk(b)
    _others(b, users)
    return {"amplitude": b.amplitude, "mixpanel": b.mixpanel}

"""Deterministic demo data: ~200 Amplitude users and a handful of Mixpanel clusters, the ids a real system
produces (emails, UUIDs, numeric ids, device ids, unicode, very long, invisible and hostile ids).

`build()` returns the data in the `/_sandbox/state` shape; every run yields the same ids, amplitude ids
and properties (all randomness comes from `random.Random(DEMO_SEED)`).

The story (the demo ticket "my history vanished after I logged in on my phone"):
Hank (`STORY_USER`, hank@globex.net) used the web app for years. When he logged in on his new phone, the
app sent the phone's throwaway account id `STORY_PHONE_USER` (63629@hmail.com), and a well-meant fix
mapped the wrong way round: `hank@globex.net → 63629@hmail.com` (`STORY_WRONG_MAPPING`). His merged
history now sits under the stranger-looking phone id. The right fix: unmap hank@globex.net, then map
63629@hmail.com → hank@globex.net (`STORY_FIX`). In Mixpanel his phone is a separate cluster
(`STORY_MP_PHONE_ANON`) that a `$identify` (or `$merge`) with hank@globex.net brings back.

Other notable ids: `CHAIN` (A→B→C), `CYCLE` (X→Y→X), `BIG_PARENT` with `BIG_PARENT_CHILDREN` mapped into
it, `MARKUP_IDS` (look like Textual/Rich markup), `UNICODE_IDS`, `LONG_ID` (300 chars), `ZERO_WIDTH_IDS`,
`CONTROL_CHAR_ID` (ANSI escape + control characters), `BIDI_ID` (right-to-left override), `JUNK_IDS`,
`CONTROL_GROUP_USER` (in a recommendation's control group), `MP_BIG_CLUSTER` (498 ids, 2 below the cap).
The story's events (the phone's anonymous device, the login, the wrong mapping, a shared kiosk device) are
in `demo_events.py`.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from idconsole.sandbox import demo_events

DEMO_SEED = 20240611

STORY_USER = "hank@globex.net"
STORY_PHONE_USER = "63629@hmail.com"
STORY_WEB_DEVICE = "3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a77"
STORY_PHONE_DEVICE = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"
STORY_WRONG_MAPPING = (STORY_USER, STORY_PHONE_USER)
STORY_FIX = (("unmap", STORY_USER), ("map", STORY_PHONE_USER, STORY_USER))
STORY_MP_WEB_ANON = "$device:3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a77"
STORY_MP_PHONE_ANON = "$device:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"

CHAIN = ("chain-a@example.com", "chain-b@example.com", "chain-c@example.com")
CYCLE = ("cycle-x@example.com", "cycle-y@example.com")
BIG_PARENT = "kiosk-fleet@acme-retail.com"
BIG_PARENT_CHILDREN = tuple(f"kiosk-{n:04d}.store-{100 + n // 6}" for n in range(1, 61))

MARKUP_IDS = ("[bold red]admin[/]", "[@click=app.quit]x[/]", "[link=https://evil.example]x[/link]")
UNICODE_IDS = (
    "josé.müller@exämple.de",
    "王小明@例子.公司",
    "さくら・たなか",
    "مستخدم@مثال.مصر",
    "משתמש@דוגמה.ישראל",
    "🦄 unicorn@example.com",
)
LONG_ID = ("auth0|" + "7f3e9c1a0b2d4e6f" * 19)[:300]
ZERO_WIDTH_IDS = ("admin\u200b@example.com", "\u200d\ufeffghost-user")
CONTROL_CHAR_ID = "ansi-\x1b[31mRED\x1b[0m-\x07bell\r\nline2\ttab\x00nul"
BIDI_ID = "invoice-\u202egnp.exe"
JUNK_IDS = ("null", "undefined", "0", "-1")
HOSTILE_IDS = (*MARKUP_IDS, *ZERO_WIDTH_IDS, CONTROL_CHAR_ID, BIDI_ID)

CONTROL_GROUP_USER = "ctrl.group@example.com"
REC_IDS = ("rec-home-feed", "rec-upsell")
PREDICTION_ID = "pred-churn-30d"
COMPUTED_PROP_IDS = ("12", "27")
COHORTS = ("x7kq2p1", "m4bz9c0", "t1wd5r8", "c0hrt55")

MP_BIG_CLUSTER = "whale@bigcorp.com"
MP_ALIAS = ("legacy-88412", "mia.wong@initech.io")
MP_HOSTILE_ID = "[bold red]admin[/]"

FIRST = ("ana", "ben", "chloé", "dmitri", "emeka", "fatima", "gus", "hiro", "ines", "jonas", "kai", "lena",
         "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "vera", "wei", "yusuf")  # fmt: skip
LAST = ("smith", "garcia", "okafor", "nguyen", "kowalski", "haddad", "rossi", "tanaka", "müller", "silva")
DOMAINS = ("gmail.com", "outlook.com", "initech.io", "globex.net", "umbrella.co", "hooli.com", "yahoo.co.jp")
COUNTRIES = ("United States", "Germany", "Brazil", "Japan", "Nigeria", "India", "France", "Israel", "Egypt")
PLANS = ("free", "free", "free", "pro", "pro", "enterprise")
SKUS = tuple(f"sku-{n:05d}" for n in range(10001, 10041))
LAST_UPDATED = 1718064000  # 2024-06-11, fixed so the demo never changes
#: the ids the story's events are about (demo_events.py)
STORY = demo_events.Story(STORY_USER, STORY_PHONE_USER, STORY_WEB_DEVICE, STORY_PHONE_DEVICE, STORY_MP_WEB_ANON,
                          STORY_MP_PHONE_ANON, BIG_PARENT_CHILDREN, HOSTILE_IDS, SKUS, DEMO_SEED)


def _uuid(rng: random.Random, upper: bool = False) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return value.upper() if upper else value


def _props(rng: random.Random, email: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "plan": rng.choice(PLANS),
        "country": rng.choice(COUNTRIES),
        "signup_date": f"20{rng.randint(19, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "sessions": rng.randint(1, 900),
    }
    if email:
        props["email"] = email
    if rng.random() < 0.4:
        props["address"] = {"city": rng.choice(("Lagos", "Berlin", "Osaka", "Cairo", "Austin")),
                            "geo": {"lat": round(rng.uniform(-60, 60), 4), "lon": round(rng.uniform(-170, 170), 4)}}  # fmt: skip
    if rng.random() < 0.5:
        props["tags"] = rng.sample(
            ("beta", "vip", "churn-risk", "newsletter", "mobile", "b2b"), rng.randint(1, 3)
        )
    return props


def _profile_extras(rng: random.Random, user: dict[str, Any]) -> None:
    if rng.random() < 0.5:
        user["computed_properties"] = {
            COMPUTED_PROP_IDS[0]: str(rng.randint(0, 40)),
            COMPUTED_PROP_IDS[1]: rng.choice(("iOS", "Android", "Web")),
        }
    user["cohort_ids"] = rng.sample(COHORTS, rng.randint(0, 2))
    if rng.random() < 0.6:
        user["recommendations"] = {
            REC_IDS[0]: {
                "child_rec_id": REC_IDS[0] + "-v3",
                "items": rng.sample(SKUS, 8),
                "is_control": False,
                "recommendation_source": "model",
                "last_updated": LAST_UPDATED,
                "title": "For you",
            }  # fmt: skip
        }
    if rng.random() < 0.6:
        score = round(rng.random(), 4)
        user["propensities"] = {PREDICTION_ID: {"score": score, "pct": int(score * 100)}}


def _user(user_id: str | None, devices: list[str], props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"user_id": user_id, "device_ids": devices, "user_properties": props, **extra}


def _notable(rng: random.Random) -> list[dict[str, Any]]:
    users = [
        _user(STORY_USER, [STORY_WEB_DEVICE],
              {"email": STORY_USER, "name": "Hank Scorpio", "plan": "enterprise", "company": "Globex",
               "country": "United States", "signup_date": "2019-03-14", "sessions": 1843},
              computed_properties={"12": "37", "27": "Web"}, cohort_ids=["x7kq2p1", "c0hrt55"],
              recommendations={REC_IDS[0]: {"child_rec_id": "rec-home-feed-v3", "items": list(SKUS[:8]),
                                            "is_control": False, "recommendation_source": "model",
                                            "last_updated": LAST_UPDATED, "title": "For you"}},
              propensities={PREDICTION_ID: {"score": 0.8312, "pct": 83}}),
        _user(STORY_PHONE_USER, [STORY_PHONE_DEVICE],
              {"email": STORY_PHONE_USER, "plan": "free", "platform": "iOS", "signup_date": "2024-06-01",
               "sessions": 3}),
        _user(CONTROL_GROUP_USER, [_uuid(rng)], {"email": CONTROL_GROUP_USER, "plan": "pro"},
              recommendations={REC_IDS[1]: {"child_rec_id": "rec-upsell-ctrl", "items": list(SKUS[30:36]),
                                            "is_control": True, "recommendation_source": "control",
                                            "last_updated": LAST_UPDATED, "title": "Upgrade picks"}},
              propensities={PREDICTION_ID: {"score": 0.1207, "pct": 12}}),
    ]  # fmt: skip
    for user_id in (*CHAIN, *CYCLE, BIG_PARENT):
        users.append(_user(user_id, [_uuid(rng)], _props(rng, user_id)))
    for user_id in BIG_PARENT_CHILDREN:
        users.append(
            _user(user_id, [_uuid(rng, upper=True)], {"store": user_id.split(".")[1], "kiosk": True})
        )
    odd_props = {
        "name": "[b]Robert'); DROP TABLE users;--[/b]",
        "bio": "\x1b[2J\x1b[H cleared your screen",
        "nickname": "[@click=app.quit]quit[/]",
        "notes": "line1\nline2\r\n\ttabbed",
        "rtl": "مرحبا بالعالم שלום עולם",
        "big": "x" * 5000,
        "nested": {"a": {"b": {"c": {"d": ["deep", {"e": None}]}}}},
    }
    for user_id in (*HOSTILE_IDS, *UNICODE_IDS, LONG_ID, *JUNK_IDS):
        users.append(
            _user(user_id, [_uuid(rng)], {**_props(rng, None), **odd_props}, cohort_ids=[COHORTS[2]])
        )
    return users


def _filler(rng: random.Random, count: int) -> tuple[list[dict[str, Any]], list[list[str]]]:
    users: list[dict[str, Any]] = []
    mappings: list[list[str]] = []
    seen: set[str] = set()
    while len(users) < count:
        kind = rng.random()
        if kind < 0.55:
            user_id = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.choice(('', str(rng.randint(1, 99))))}@{rng.choice(DOMAINS)}"
            email = user_id
        elif kind < 0.8:
            user_id, email = _uuid(rng), None
        else:
            user_id, email = str(rng.randint(10_000, 99_999_999)), None
        if user_id in seen:
            continue
        seen.add(user_id)
        devices = [_uuid(rng, upper=rng.random() < 0.3) for _ in range(rng.randint(1, 3))]
        user = _user(user_id, devices, _props(rng, email))
        _profile_extras(rng, user)
        users.append(user)
    # a few everyday mappings: a numeric or UUID account folded into an email account
    emails = [u["user_id"] for u in users if "@" in u["user_id"]]
    others = [u["user_id"] for u in users if "@" not in u["user_id"]]
    for source, target in zip(others[:20], emails[:20], strict=False):
        mappings.append([source, target])
    return users, mappings


def _mixpanel(rng: random.Random, filler: list[dict[str, Any]]) -> dict[str, Any]:
    clusters: list[dict[str, Any]] = [
        {"ids": [STORY_USER, STORY_MP_WEB_ANON], "identified": STORY_USER,
         "properties": {"$email": STORY_USER, "$name": "Hank Scorpio", "plan": "enterprise", "$city": "Springfield"}},
        {"ids": [STORY_MP_PHONE_ANON], "identified": None,
         "properties": {"$os": "iOS", "$model": "iPhone15,3", "$app_version_string": "5.12.0"}},
        {"ids": [MP_BIG_CLUSTER] + [f"$device:{_uuid(rng)}" for _ in range(497)], "identified": MP_BIG_CLUSTER,
         "properties": {"$email": MP_BIG_CLUSTER, "$name": "Big Corp shared tablet", "plan": "enterprise"}},
        {"ids": [MP_ALIAS[1], MP_ALIAS[0]], "identified": None,
         "properties": {"$email": MP_ALIAS[1], "$name": "Mia Wong"}},
        {"ids": [MP_HOSTILE_ID, "[@click=app.quit]x[/]", CONTROL_CHAR_ID], "identified": MP_HOSTILE_ID,
         "properties": {"$name": "[bold red]admin[/]", "bio": "\x1b[2J\x1b[H", "rtl": "مرحبا שלום",
                        "zero_width": "a\u200bb", "nested": {"list": [1, "two", {"three": 3}]}}},
        {"ids": [UNICODE_IDS[0], f"$device:{_uuid(rng)}"], "identified": UNICODE_IDS[0],
         "properties": {"$email": UNICODE_IDS[0], "$name": "José Müller", "$city": "München"}},
    ]  # fmt: skip
    for user in filler[:24]:
        anon = [f"$device:{_uuid(rng)}" for _ in range(rng.randint(0, 3))]
        props = {
            "plan": user["user_properties"]["plan"],
            "$country_code": rng.choice(("US", "DE", "BR", "JP")),
        }
        if "email" in user["user_properties"]:
            props["$email"] = user["user_properties"]["email"]
        clusters.append({"ids": [user["user_id"], *anon], "identified": user["user_id"], "properties": props})
    return {"clusters": clusters, "aliases": {MP_ALIAS[0]: MP_ALIAS[1]}}


def build() -> dict[str, Any]:
    rng = random.Random(DEMO_SEED)
    users = _notable(rng)
    filler, filler_mappings = _filler(rng, 200 - len(users))
    mappings = [
        list(STORY_WRONG_MAPPING),
        [CHAIN[0], CHAIN[1]],
        [CHAIN[1], CHAIN[2]],
        [CYCLE[0], CYCLE[1]],
        [CYCLE[1], CYCLE[0]],
        *([child, BIG_PARENT] for child in BIG_PARENT_CHILDREN),
        [MARKUP_IDS[0], MARKUP_IDS[1]],
        [UNICODE_IDS[0], STORY_USER.replace("hank", "josé")],
        *filler_mappings,
    ]
    return {
        "amplitude": {"users": users + filler, "mappings": mappings},
        "mixpanel": _mixpanel(rng, filler),
        "events": demo_events.build(users + filler, STORY),
    }

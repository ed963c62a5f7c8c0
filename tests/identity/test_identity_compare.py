"""Compare before a map or merge (identity/compare.py): which properties differ and whose values survive
(Amplitude does not merge user properties; Mixpanel hides the non-canonical profile), event counts and last
seen per side, shared devices — on data, and against the served sandbox's story and kiosk."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import fresh_budgets, make_client  # noqa: F401

from idconsole.changes.kinds import MAP, MP_ALIAS, MP_IDENTIFY, MP_MERGE
from idconsole.changes.shared_devices import DeviceSightings
from idconsole.identity.compare import LEFT, NEITHER, RIGHT, Side, build_comparison, compare_users, survivor
from idconsole.sandbox import demo
from idconsole.sandbox.demo_events import KIOSK_DEVICE

HOSTILE = "[bold red]x[/]\x1b[31m\x00"


def sides() -> tuple[Side, Side]:
    left = Side("63629@hmail.com", True, {"plan": "free", "platform": "iOS", "email": "63629@hmail.com", "same": 1},
                events=29, last_seen="2024-06-09", device_ids=("phone", "web"))
    right = Side("hank@globex.net", True, {"plan": "enterprise", "name": "Hank", "email": "hank@globex.net", "same": 1},
                 events=216, last_seen="2024-06-10", device_ids=("web",))
    return left, right


def test_amplitude_map_keeps_the_global_users_values_and_carries_nothing_over():
    left, right = sides()
    comparison = build_comparison(MAP, left, right)
    assert comparison.kept == RIGHT and "does not merge user properties" in comparison.rule
    rows = {r.key: r for r in comparison.differing}
    assert set(rows) == {"plan", "platform", "email", "name"} and comparison.same == 1
    assert rows["plan"].survives == RIGHT and (rows["plan"].left, rows["plan"].right) == ("free", "enterprise")
    assert rows["platform"].survives == NEITHER          # only the left user had it: not carried over
    assert rows["name"].survives == RIGHT
    doc = comparison.to_json()
    platform = next(r for r in doc["differing"] if r["key"] == "platform")
    assert platform == {"key": "platform", "left": "iOS", "right": None, "left_has": True, "right_has": False,
                        "survives": NEITHER}
    assert (doc["left"]["events"], doc["right"]["last_seen"]) == (29, "2024-06-10")
    (web,) = comparison.devices
    assert web.device_id == "web" and not web.shared and not comparison.shared_only and comparison.warnings == ()


def test_mixpanel_keeps_the_canonical_profile_and_a_merge_prefers_the_identified_id():
    left, right = sides()
    for op in (MP_IDENTIFY, MP_ALIAS):
        kept, rule = survivor(op, left, right)
        assert kept == RIGHT and "hides the other one" in rule
    anon = Side("$device:A1B2", True, canonical_id="$device:A1B2")
    named = Side("hank@globex.net", True, canonical_id="hank@globex.net")
    assert survivor(MP_MERGE, anon, named)[0] == RIGHT
    assert survivor(MP_MERGE, named, anon)[0] == LEFT
    assert "(?)" in survivor(MP_MERGE, named, anon)[1]   # undocumented: said so
    with pytest.raises(ValueError):
        survivor("nonsense", left, right)


def test_only_shared_devices_in_common_is_a_warning():
    sightings = DeviceSightings()
    for n in range(12):
        sightings.add(KIOSK_DEVICE, f"kiosk-{n}")
    left = Side("kiosk-1", True, device_ids=(KIOSK_DEVICE, "own-1"))
    right = Side("kiosk-2", True, device_ids=(KIOSK_DEVICE, "own-2"))
    comparison = build_comparison(MAP, left, right, sightings=sightings)
    assert comparison.shared_only and comparison.devices[0].user_count == 12
    assert any("shared" in w and KIOSK_DEVICE in w for w in comparison.warnings)
    # one unshared device in common is real evidence: no warning
    both = build_comparison(MAP, Side("a", True, device_ids=(KIOSK_DEVICE, "x")),
                            Side("b", True, device_ids=(KIOSK_DEVICE, "x")), sightings=sightings)
    assert not both.shared_only and not both.warnings


def test_hostile_keys_and_values_are_kept_raw_for_the_face_to_show_literally():
    left = Side(HOSTILE, True, {HOSTILE: HOSTILE})
    right = Side("b", False, note="Amplitude does not know this id")
    comparison = build_comparison(MAP, left, right)
    (row,) = comparison.differing
    assert row.key == HOSTILE and row.left == HOSTILE and row.survives == NEITHER
    assert comparison.warnings == ("b: Amplitude does not know this id",)


async def test_the_story_users_side_by_side_against_the_sandbox(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        comparison = await compare_users(client, demo.STORY_PHONE_USER, demo.STORY_USER, op=MAP)
    left, right = comparison.left, comparison.right
    assert left.found and right.found and comparison.kept == RIGHT
    # the wrong mapping put hank's history in the phone user's stream: more events there
    assert left.events is not None and right.events is not None and left.events > right.events
    assert right.mapped_into == demo.STORY_PHONE_USER and left.last_seen == right.last_seen == "2024-06-10"
    rows = {r.key: r for r in comparison.differing}
    assert rows["plan"].left == "free" and rows["plan"].right == "enterprise" and rows["plan"].survives == RIGHT
    assert [d.device_id for d in comparison.devices] == [demo.STORY_WEB_DEVICE]
    assert not comparison.shared_only and comparison.requests >= 2


async def test_two_kiosk_users_share_only_the_kiosk(sandbox_clean: Any):
    a, b = demo.BIG_PARENT_CHILDREN[2], demo.BIG_PARENT_CHILDREN[6]
    async with make_client(sandbox_clean) as client:
        comparison = await compare_users(client, a, b, op=MAP)
    (kiosk,) = comparison.devices
    assert kiosk.device_id == KIOSK_DEVICE and kiosk.shared and kiosk.user_count == 12
    assert comparison.shared_only and any("no evidence" in w for w in comparison.warnings)


async def test_mixpanel_sides_and_an_unknown_id(sandbox_clean: Any):
    async with make_client(sandbox_clean) as client:
        comparison = await compare_users(client, demo.STORY_MP_PHONE_ANON, demo.STORY_USER, op=MP_MERGE)
        unknown = await compare_users(client, "nobody-0000@example.com", demo.STORY_USER, op=MAP)
    assert comparison.kept == RIGHT            # the identified cluster survives the anonymous phone
    assert comparison.left.canonical_id == demo.STORY_MP_PHONE_ANON and comparison.left.events
    assert comparison.right.device_ids and not comparison.devices   # phone and web: nothing in common
    assert not unknown.left.found and unknown.warnings[0].startswith("nobody-0000@example.com: ")

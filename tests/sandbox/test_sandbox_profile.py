"""Amplitude user search and user profile over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import API_KEY, SECRET_KEY

from idconsole.sandbox import demo

AUTH = (API_KEY, SECRET_KEY)
KEY_HEADER = {"Authorization": f"Api-Key {SECRET_KEY}"}


def search(sb, query: str, auth=AUTH) -> httpx.Response:
    return sb.http.get("/api/2/usersearch", params={"user": query}, auth=auth)


def profile(sb, headers=KEY_HEADER, **params) -> httpx.Response:
    return sb.http.get("/v1/userprofile", params=params, headers=headers)


def test_search_by_user_device_amplitude_id_and_email(sandbox_clean):
    story = sandbox_clean.user(demo.STORY_USER)
    expected = [{"user_id": demo.STORY_USER, "amplitude_id": story["amplitude_id"]}]
    assert search(sandbox_clean, demo.STORY_USER).json() == {
        "matches": expected,
        "type": "match_user_or_device_id",
    }
    assert search(sandbox_clean, demo.STORY_WEB_DEVICE).json()["matches"] == expected
    assert search(sandbox_clean, str(story["amplitude_id"])).json() == {
        "matches": expected,
        "type": "match_amplitude_id",
    }
    phone = sandbox_clean.user(demo.STORY_PHONE_USER)
    by_email = search(sandbox_clean, demo.STORY_PHONE_USER).json()
    assert by_email["matches"] == [{"user_id": demo.STORY_PHONE_USER, "amplitude_id": phone["amplitude_id"]}]
    assert search(sandbox_clean, "nobody@nowhere.example").json() == {"type": "nomatch", "matches": []}


def test_search_errors(sandbox_clean):
    assert search(sandbox_clean, "x", auth=None).status_code == 401
    assert search(sandbox_clean, "x", auth=(API_KEY, "nope")).status_code == 401
    r = sandbox_clean.http.get("/api/2/usersearch", auth=AUTH)
    assert r.status_code == 400 and "error" in r.json()


def test_profile_auth_bodies(sandbox):
    r = profile(sandbox, headers={}, user_id=demo.STORY_USER)
    assert (r.status_code, r.json()) == (401, {"error": "Missing Api-Key in Authorization header"})
    r = profile(sandbox, headers={"Authorization": "Api-Key wrong"}, user_id=demo.STORY_USER)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid Api-Key"})
    r = profile(sandbox, headers={"Authorization": f"Bearer {SECRET_KEY}"}, user_id=demo.STORY_USER)
    assert r.status_code == 401


def test_profile_unknown_user_and_missing_ids(sandbox_clean):
    r = profile(sandbox_clean, user_id="never-seen-anywhere")
    assert (r.status_code, r.json()) == (400, {"error": "User id and device id not seen before"})
    r = profile(sandbox_clean)
    assert r.status_code == 400 and "user_id" in r.json()["error"]


def test_profile_minimal_has_only_ids(sandbox_clean):
    data = profile(sandbox_clean, user_id=demo.STORY_USER).json()["userData"]
    story = sandbox_clean.user(demo.STORY_USER)
    assert data == {
        "user_id": demo.STORY_USER,
        "device_id": None,
        "amplitude_id": story["amplitude_id"],
        "amp_props": None,
        "cohort_ids": None,
        "recommendations": None,
        "propensities": None,
    }


def test_profile_amp_props_include_computed(sandbox_clean):
    data = profile(sandbox_clean, user_id=demo.STORY_USER, get_amp_props="true").json()["userData"]
    assert data["amp_props"]["plan"] == "enterprise"
    assert data["amp_props"]["computed-prop-12"] == "37"
    assert data["amp_props"]["computed-prop-27"] == "Web"
    only = profile(sandbox_clean, user_id=demo.STORY_USER, get_computations="true", comp_id="27").json()[
        "userData"
    ]
    assert only["amp_props"] == {"computed-prop-27": "Web"}


def test_profile_by_device_and_cohorts(sandbox_clean):
    data = profile(sandbox_clean, device_id=demo.STORY_WEB_DEVICE, get_cohort_ids="true").json()["userData"]
    assert data["user_id"] == demo.STORY_USER
    assert data["device_id"] == demo.STORY_WEB_DEVICE
    assert data["cohort_ids"] == ["x7kq2p1", "c0hrt55"]


def test_profile_recommendations(sandbox_clean):
    r = profile(sandbox_clean, user_id=demo.STORY_USER, get_recs="true")
    assert r.status_code == 400 and "rec_id" in r.json()["error"]
    r = profile(
        sandbox_clean, user_id=demo.STORY_USER, get_recs="true", rec_id="rec-home-feed,unknown-rec", limit="3"
    )
    recs = r.json()["userData"]["recommendations"]
    assert recs == [
        {
            "rec_id": "rec-home-feed",
            "child_rec_id": "rec-home-feed-v3",
            "items": ["sku-10001", "sku-10002", "sku-10003"],
            "is_control": False,
            "recommendation_source": "model",
            "last_updated": demo.LAST_UPDATED,
            "title": "For you",
        }
    ]
    rand = profile(
        sandbox_clean, user_id=demo.STORY_USER, get_recs="true", rec_id="rec-home-feed", rec_type="random"
    )
    items = rand.json()["userData"]["recommendations"][0]["items"]
    assert sorted(items) == [f"sku-{n}" for n in range(10001, 10009)] and items != sorted(items)
    assert rand.json()["userData"]["recommendations"][0]["recommendation_source"] == "random"
    bad = profile(sandbox_clean, user_id=demo.STORY_USER, get_recs="true", rec_id="r", rec_type="magic")
    assert bad.status_code == 400


def test_profile_control_group_recommendation(sandbox_clean):
    r = profile(sandbox_clean, user_id=demo.CONTROL_GROUP_USER, get_recs="true", rec_id="rec-upsell")
    rec = r.json()["userData"]["recommendations"][0]
    assert rec["is_control"] is True and rec["recommendation_source"] == "control"


@pytest.mark.parametrize(("kind", "value"), [("score", 0.8312), ("pct", 83)])
def test_profile_propensity(sandbox_clean, kind, value):
    r = profile(sandbox_clean, user_id=demo.STORY_USER, get_propensity="true", prediction_id=demo.PREDICTION_ID,
                propensity_type=kind)  # fmt: skip
    assert r.json()["userData"]["propensities"] == [
        {"prop": value, "pred_id": demo.PREDICTION_ID, "prop_type": kind}
    ]


def test_profile_propensity_needs_its_parameters(sandbox_clean):
    assert profile(sandbox_clean, user_id=demo.STORY_USER, get_propensity="true").status_code == 400
    r = profile(
        sandbox_clean, user_id=demo.STORY_USER, get_propensity="true", prediction_id="p", propensity_type="x"
    )
    assert r.status_code == 400

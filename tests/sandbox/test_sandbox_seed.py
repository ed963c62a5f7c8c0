"""The seed OpenAPI routes, with every request and response validated against the seed specs
(tests/fixtures/specs/*.yaml: copies of the project's seed OpenAPI files, carried with the tests)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sandbox_helpers import API_KEY, MP_API_SECRET, SA, SECRET_KEY, TOKEN

from idconsole.sandbox import demo

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "specs"
AMP_AUTH = (API_KEY, SECRET_KEY)


@pytest.fixture(scope="module")
def specs():
    from openapi_core import OpenAPI

    return {
        "mapping": OpenAPI.from_file_path(str(SPECS / "amplitude-user-mapping.openapi.yaml")),
        "profile": OpenAPI.from_file_path(str(SPECS / "amplitude-user-profile.openapi.yaml")),
        "mixpanel": OpenAPI.from_file_path(str(SPECS / "mixpanel-identity.openapi.yaml")),
    }


def validated(openapi, server: str, response: httpx.Response) -> httpx.Response:
    """Validate the real request and response as if they had gone to the spec's server."""
    from openapi_core.testing import MockRequest, MockResponse

    req = response.request
    url = urlsplit(str(req.url))
    request = MockRequest(
        server,
        req.method,
        url.path,
        args=list(httpx.QueryParams(url.query).multi_items()),
        headers=dict(req.headers),
        data=req.content,
        content_type=req.headers.get("content-type", "application/json"),
    )
    openapi.validate_request(request)
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", "").split(";")[0],
    )
    openapi.validate_response(request, mock)
    return response


def amp(sandbox, specs, path, mapping, auth=AMP_AUTH):
    r = sandbox.http.post(path, json={"mapping": mapping}, auth=auth)
    if r.status_code == 200:
        validated(specs["mapping"], "https://amplitude.com", r)
    return r


def mp(sandbox, specs, path, body, auth=SA):
    r = sandbox.http.post(path, json=body, auth=auth)
    if r.status_code == 200:
        validated(specs["mixpanel"], "https://api.mixpanel.com", r)
    return r


def test_seed_usermap_and_userunmap(sandbox_clean, specs):
    r = amp(sandbox_clean, specs, "/api/2/usermap", [{"user_id": "seed-u", "global_user_id": "seed-g"}])
    assert r.json() == {"code": 100, "success": True}
    assert sandbox_clean.state()["amplitude"]["mappings"]["seed-u"] == "seed-g"
    r = amp(sandbox_clean, specs, "/api/2/userunmap", [{"user_id": "seed-u", "global_user_id": "seed-g"}])
    assert r.json() == {"code": 100, "success": True}
    assert "seed-u" not in sandbox_clean.state()["amplitude"]["mappings"]


def test_seed_usermap_errors(sandbox_clean, specs):
    r = amp(
        sandbox_clean,
        specs,
        "/api/2/usermap",
        [{"user_id": "x", "global_user_id": "y"}],
        auth=(API_KEY, "no"),
    )
    assert r.status_code == 401
    r = amp(sandbox_clean, specs, "/api/2/usermap", [{"user_id": "x"}])
    assert r.status_code == 400 and "global_user_id" in r.json()["error"]
    r = sandbox_clean.http.post("/api/2/usermap", json={"nope": []}, auth=AMP_AUTH)
    assert r.status_code == 400 and r.json()["success"] is False
    assert sandbox_clean.http.post("/api/2/usermap", content=b"{bad", auth=AMP_AUTH).status_code == 400


def test_seed_identity_create_alias_merge(sandbox_clean, specs):
    r = mp(sandbox_clean, specs, "/identity/create",
           {"$identified_id": demo.STORY_USER, "$anon_id": demo.STORY_MP_PHONE_ANON, "$token": TOKEN})  # fmt: skip
    assert r.json() == {"status": 1}
    r = mp(sandbox_clean, specs, "/identity/create-alias",
           {"alias": "seed-alias", "distinct_id": "seed-target", "$token": TOKEN}, auth=(MP_API_SECRET, ""))  # fmt: skip
    assert r.json() == {"status": 1}
    r = mp(
        sandbox_clean,
        specs,
        "/identity/merge",
        {"$distinct_ids": ["seed-target", "seed-other"], "$token": TOKEN},
    )
    assert r.json() == {"status": 1}
    clusters = {c["canonical"]: c["ids"] for c in sandbox_clean.state()["mixpanel"]["clusters"]}
    assert clusters["seed-target"] == ["seed-target", "seed-alias", "seed-other"]
    assert demo.STORY_MP_PHONE_ANON in clusters[demo.STORY_USER]


def test_seed_identity_failures(sandbox_clean, specs):
    r = mp(sandbox_clean, specs, "/identity/create",
           {"$identified_id": "someone", "$anon_id": demo.STORY_MP_WEB_ANON, "$token": TOKEN})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == 0 and r.json()["error"]
    r = mp(sandbox_clean, specs, "/identity/merge", {"$distinct_ids": ["a", "b"], "$token": "wrong"})
    assert r.json()["status"] == 0
    r = sandbox_clean.http.post("/identity/merge", json={"$distinct_ids": ["a"], "$token": TOKEN}, auth=SA)
    assert r.status_code == 400
    r = sandbox_clean.http.post("/identity/create", json={"$anon_id": "a", "$token": TOKEN}, auth=SA)
    assert r.status_code == 400 and "$identified_id" in r.json()["error"]
    r = sandbox_clean.http.post(
        "/identity/merge", json={"$distinct_ids": ["a", "b"], "$token": TOKEN}, auth=("x", "y")
    )
    assert r.status_code == 401


def test_user_profile_against_the_seed_spec(sandbox_clean, specs):
    # everything asked for, so no part is null (the seed spec types them as arrays/objects)
    params = {"user_id": demo.STORY_USER, "get_amp_props": "true", "get_cohort_ids": "true", "get_recs": "true",
              "rec_id": "rec-home-feed", "get_propensity": "true", "prediction_id": demo.PREDICTION_ID,
              "propensity_type": "score", "limit": "2"}  # fmt: skip
    r = sandbox_clean.http.get(
        "/v1/userprofile", params=params, headers={"Authorization": f"Api-Key {SECRET_KEY}"}
    )
    assert r.status_code == 200
    validated(specs["profile"], "https://profile-api.amplitude.com", r)
    assert (
        json.loads(r.content)["userData"]["amplitude_id"]
        == sandbox_clean.user(demo.STORY_USER)["amplitude_id"]
    )

"""What an answer means, against the served sandbox: a 404 from a route the server does not have is not
"no such user" (only the documented unknown-user answers are), and a profile whose ids are not strings or
numbers is a malformed answer, not a user printed as null."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from api_support import api_log, connection, fresh_budgets, make_client  # noqa: F401
from cli_helpers import json_out, run_cli, sandbox_env

from idconsole.api.errors import MalformedAnswer, NoSuchEndpoint, NotFound
from idconsole.api.models import Mapping
from idconsole.sandbox import demo

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "specs"
PROFILE = "/v1/userprofile"
NO_ENDPOINT = "this server has no such endpoint: check the base URL"


def seed_profile_example() -> dict:
    """The seed OpenAPI's own 200 example for the user profile (`"user_id": {}` and friends)."""
    spec = yaml.safe_load((SPECS / "amplitude-user-profile.openapi.yaml").read_text(encoding="utf-8"))
    content = spec["paths"]["/v1/userprofile"]["get"]["responses"]["200"]["content"]["application/json"]
    (example,) = content["examples"].values()
    return example["value"]


def wrong_base(sb) -> str:
    return sb.base_url + "/nope"   # a path prefix the sandbox does not serve: every route 404s


WRONG_BASE_CALLS = {
    "profile": lambda c: c.amplitude.profile(demo.STORY_USER),
    "get mappings": lambda c: c.amplitude.get_mappings([demo.STORY_USER]),
    "search": lambda c: c.amplitude.search(demo.STORY_USER),
    "user activity": lambda c: c.amplitude_activity.page(100000001),
    "map": lambda c: c.amplitude.map_batch([Mapping("wb-u", "wb-g")]),
    "identify": lambda c: c.amplitude.identify([{"user_id": "wb-u", "user_properties": {"$set": {"a": 1}}}]),
    "mixpanel profile": lambda c: c.mixpanel.profile(demo.STORY_USER),
    "mixpanel merge": lambda c: c.mixpanel.merge("wb-a", "wb-b"),
}


@pytest.mark.parametrize("name", list(WRONG_BASE_CALLS))
async def test_a_wrong_base_url_is_no_such_endpoint_not_an_unknown_user(sandbox_clean, name):
    async with make_client(sandbox_clean, conn=connection(wrong_base(sandbox_clean))) as client:
        with pytest.raises(NoSuchEndpoint, match=NO_ENDPOINT) as info:
            await WRONG_BASE_CALLS[name](client)
    assert not isinstance(info.value, NotFound) and info.value.exit_code == 4
    assert info.value.kind == "no_endpoint" and info.value.path.startswith("/")
    assert {e["status"] for e in api_log(sandbox_clean)} == {404}   # once: a 404 is never retried
    assert len(api_log(sandbox_clean)) == 1


async def test_the_documented_unknown_user_answers_still_mean_unknown(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(NotFound, match="has not seen"):
            await client.amplitude.profile("nobody-ever@example.com")
        assert (await client.amplitude.get_mappings(["nobody-ever@example.com"]))["nobody-ever@example.com"].mapped_to == ()
        assert (await client.amplitude.search("nobody-ever@example.com")).type == "nomatch"


@pytest.mark.parametrize("path, body, check", [
    (PROFILE, '{"error": "User id and device id not seen before"}', "profile"),
    ("/api/2/usermap", '{"ghost": {"mapped_to": [], "mapped_from": []}}', "mappings"),
    ("/api/2/usersearch", '{"type": "nomatch", "matches": []}', "search"),
])
async def test_a_404_carrying_an_unknown_user_answer_is_an_unknown_user(sandbox_clean, path, body, check):
    sandbox_clean.fault(path=path, status=404, body=body, content_type="application/json")
    async with make_client(sandbox_clean) as client:
        if check == "profile":
            with pytest.raises(NotFound):
                await client.amplitude.profile("ghost")
        elif check == "mappings":
            assert (await client.amplitude.get_mappings(["ghost"]))["ghost"].mapped_from == ()
        else:
            assert (await client.amplitude.search("ghost")).matches == ()


@pytest.mark.parametrize("body", ["Not Found", "", "<html><h1>404</h1></html>", '{"detail": "Not Found"}'])
async def test_any_other_404_body_from_the_profile_route_is_no_such_endpoint(sandbox_clean, body):
    sandbox_clean.fault(path=PROFILE, status=404, body=body)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(NoSuchEndpoint, match=NO_ENDPOINT):
            await client.amplitude.profile(demo.STORY_USER)


def test_the_cli_says_so_and_exits_4_not_5(sandbox_clean):
    env = sandbox_env(sandbox_clean, IDCONSOLE_BASE_URL=wrong_base(sandbox_clean))
    result = run_cli("profile", demo.STORY_USER, "--json", env=env)
    error = json_out(result)["error"]
    assert result.returncode == 4, result.stderr
    assert error["kind"] == "no_endpoint" and NO_ENDPOINT in error["message"]


# -- malformed answers ----------------------------------------------------------------------------------

async def test_the_seed_profile_example_is_a_malformed_answer(sandbox_clean):
    example = seed_profile_example()
    assert example["userData"]["user_id"] == {}
    sandbox_clean.fault(path=PROFILE, status=200, body=json.dumps(example), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(MalformedAnswer, match="malformed answer") as info:
            await client.amplitude.profile(demo.STORY_USER)
    assert "user_id is an object, not a string or number" in str(info.value)
    assert info.value.kind == "malformed"


@pytest.mark.parametrize("field, value, words", [
    ("user_id", ["a"], "user_id is a list"),
    ("device_id", True, "device_id is true/false"),
    ("amplitude_id", "abc", "amplitude_id is 'abc', not a whole number"),
])
async def test_ids_of_the_wrong_type_are_malformed(sandbox_clean, field, value, words):
    body = {"userData": {"user_id": "u1", "device_id": None, "amp_props": {}, field: value}}
    sandbox_clean.fault(path=PROFILE, status=200, body=json.dumps(body), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(MalformedAnswer, match=words):
            await client.amplitude.profile("u1")


async def test_numeric_ids_are_still_ids(sandbox_clean):
    body = {"userData": {"user_id": 12345, "device_id": None, "amplitude_id": "100000001", "amp_props": {}}}
    sandbox_clean.fault(path=PROFILE, status=200, body=json.dumps(body), content_type="application/json")
    async with make_client(sandbox_clean) as client:
        profile = await client.amplitude.profile("12345")
    assert (profile.user_id, profile.amplitude_id) == ("12345", 100000001)


def test_the_cli_reports_the_malformed_profile_and_does_not_print_null(sandbox_clean):
    sandbox_clean.fault(path=PROFILE, status=200, body=json.dumps(seed_profile_example()),
                        content_type="application/json")
    result = run_cli("profile", demo.STORY_USER, "--json", env=sandbox_env(sandbox_clean))
    error = json_out(result)["error"]
    assert result.returncode == 1, result.stdout
    assert error["kind"] == "malformed" and "user_id is an object" in error["message"]

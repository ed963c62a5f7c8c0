"""MixpanelApi over real HTTP against the sandbox: identity events (status 0 with HTTP 200 is a failure,
never re-sent once possibly delivered), merges (service account or API secret, failed_records, no retry of
400), 429 backoff, profiles resolving to the canonical id, and missing credentials."""

from __future__ import annotations

import json

import pytest
from api_support import api_log, connection, fresh_budgets, make_client, sa_only, secret_only  # noqa: F401
from sandbox_helpers import TOKEN

from idconsole.api.errors import AuthError, BadInput, NotFound, ServerRejected, UnknownOutcome
from idconsole.config.connection import MixpanelCredentials
from idconsole.config.secret import Secret

ANON = "3f6c2a9e-5b1d-4c7e-9a0f-2d8b6e1c4a01"  # the sandbox refuses an $anon_id that is not a UUID v4


def cluster_of(sb, distinct_id: str) -> dict | None:
    for cluster in sb.state()["mixpanel"]["clusters"]:
        if distinct_id in cluster["ids"]:
            return cluster
    return None


async def test_create_identity_then_profile_resolves_to_canonical(sandbox_clean):
    sandbox_clean.seed_users(clusters=[{"ids": ["mp-known"], "identified": "mp-known", "properties": {"$name": "K"}}])
    async with make_client(sandbox_clean) as client:
        result = await client.mixpanel.create_identity("mp-known", ANON)  # $anon_id: a UUID v4
        assert result.ok and result.raw == {"status": 1, "error": None}
        profile = await client.mixpanel.profile(ANON)
    assert (profile.distinct_id, profile.requested_id) == ("mp-known", ANON)
    assert profile.properties == {"$name": "K"}
    assert set(cluster_of(sandbox_clean, "mp-known")["ids"]) == {"mp-known", ANON}
    track = api_log(sandbox_clean, "/track")
    assert len(track) == 1 and track[0]["items"] == 1 and track[0]["query"] == ""
    assert "project_id=1" in api_log(sandbox_clean, "/api/query/engage")[0]["query"]


async def test_create_alias(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        assert (await client.mixpanel.create_alias("alias-a", "dist-d")).ok
    assert sandbox_clean.state()["mixpanel"]["aliases"]["alias-a"] == "dist-d"


async def test_status_0_with_http_200_is_a_failure(sandbox_clean):
    sandbox_clean.seed_users(clusters=[{"ids": ["who-1", "anon-merged"], "identified": "who-1"}])
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="already identified") as info:
            await client.mixpanel.create_identity("someone-else", "anon-merged")
    assert info.value.status == 200 and "already identified" in info.value.reason
    assert [e["status"] for e in api_log(sandbox_clean, "/track")] == [200]


@pytest.mark.parametrize(("body", "ctype", "match"), [
    ('{"status": 0, "error": "token, missing or empty"}', "application/json", "token, missing or empty"),
    ("0", "text/plain", "answer 0"),
    ("<html>proxy error</html>", "text/html", "unexpected response"),
    ('{"ok": true}', "application/json", "unexpected response"),
])
async def test_track_failure_shapes(sandbox_clean, body, ctype, match):
    sandbox_clean.fault(path="/track", status=200, body=body, content_type=ctype)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match=match):
            await client.mixpanel.create_alias("a1", "d1")


async def test_plain_1_is_success(sandbox_clean):
    sandbox_clean.fault(path="/track", status=200, body="1")
    async with make_client(sandbox_clean) as client:
        assert (await client.mixpanel.create_alias("a1", "d1")).ok


async def test_wrong_token_is_reported_by_the_server(sandbox_clean):
    conn = connection(sandbox_clean.base_url, mixpanel=MixpanelCredentials(token=Secret("not-the-token")))
    async with make_client(sandbox_clean, conn=conn) as client:
        with pytest.raises(ServerRejected, match="token"):
            await client.mixpanel.create_identity("u", "anon")


@pytest.mark.parametrize("fault", [{"reset": True, "after_apply": True}, {"status": 502, "after_apply": True},
                                   {"status": 503}])
async def test_track_is_never_resent_once_possibly_delivered(sandbox_clean, fault):
    sandbox_clean.fault(path="/track", **fault)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(UnknownOutcome, match="not retried because it is an identity event"):
            await client.mixpanel.create_identity("once-id", ANON)
    assert len(api_log(sandbox_clean, "/track")) == 1
    merged = cluster_of(sandbox_clean, ANON)
    if fault.get("after_apply"):
        assert merged is not None and set(merged["ids"]) == {"once-id", ANON}   # applied exactly once
    else:
        assert merged is None


async def test_track_429_is_retried_because_it_was_refused(sandbox_clean):
    sandbox_clean.fault(path="/track", status=429, times=2)
    async with make_client(sandbox_clean) as client:
        assert (await client.mixpanel.create_identity("u429", ANON)).ok
    assert [e["status"] for e in api_log(sandbox_clean, "/track")] == [429, 429, 200]


# -- merge ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("creds", "project_in_query"), [(sa_only, True), (secret_only, False)])
async def test_merge_with_service_account_or_api_secret(sandbox_clean, creds, project_in_query):
    conn = connection(sandbox_clean.base_url, mixpanel=creds())
    async with make_client(sandbox_clean, conn=conn) as client:
        result = await client.mixpanel.merge("m-a", "m-b")
    assert result.ok and result.num_records_imported == 1
    assert set(cluster_of(sandbox_clean, "m-a")["ids"]) == {"m-a", "m-b"}
    entry = api_log(sandbox_clean, "/import")[0]
    assert "strict=1" in entry["query"] and ("project_id=1" in entry["query"]) == project_in_query


async def test_merge_failed_records_are_listed_and_not_retried(sandbox_clean):
    sandbox_clean.seed_users(clusters=[{"ids": [f"big-a{i}" for i in range(300)]},
                                       {"ids": [f"big-b{i}" for i in range(300)]}])
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match=r"record 0 field properties.\$distinct_ids: .*limit is 500") as info:
            await client.mixpanel.merge("big-a0", "big-b0")
    assert info.value.status == 400
    assert len(api_log(sandbox_clean, "/import")) == 1
    assert cluster_of(sandbox_clean, "big-a0") != cluster_of(sandbox_clean, "big-b0")


async def test_merge_400_without_records_and_401(sandbox_clean):
    sandbox_clean.fault(path="/import", status=400, content_type="application/json",
                        body=json.dumps({"code": 400, "error": "request body must be a JSON array"}))
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="must be a JSON array"):
            await client.mixpanel.merge("a", "b")
    bad = MixpanelCredentials(token=Secret(TOKEN), sa_username="sandbox-sa", sa_secret=Secret("nope"), project_id="1")
    async with make_client(sandbox_clean, conn=connection(sandbox_clean.base_url, mixpanel=bad)) as client:
        with pytest.raises(AuthError, match="Mixpanel rejected the service account") as info:
            await client.mixpanel.merge("a", "b")
    assert info.value.exit_code == 3 and "nope" not in str(info.value)


@pytest.mark.parametrize("body", ['{"code": 200, "num_records_imported": 0, "status": "OK"}', "OK", '{"x": 1}'])
async def test_merge_odd_success_bodies(sandbox_clean, body):
    sandbox_clean.fault(path="/import", status=200, body=body, content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected):
            await client.mixpanel.merge("a", "b")


async def test_merge_is_never_resent_after_a_lost_answer(sandbox_clean):
    sandbox_clean.fault(path="/import", reset=True, after_apply=True)
    async with make_client(sandbox_clean) as client:
        with pytest.raises(UnknownOutcome, match="irreversible"):
            await client.mixpanel.merge("lost-a", "lost-b")
    assert len(api_log(sandbox_clean, "/import")) == 1
    assert set(cluster_of(sandbox_clean, "lost-a")["ids"]) == {"lost-a", "lost-b"}


async def test_mixpanel_429_backs_off_and_honours_retry_after(sandbox_clean):
    sandbox_clean.fault(path="/import", status=429, times=1)
    sandbox_clean.fault(path="/import", status=429, times=1, headers={"Retry-After": "0"})
    async with make_client(sandbox_clean) as client:
        assert (await client.mixpanel.merge("t-a", "t-b")).ok
        # the adaptive hold (2 s -> 60 s, scaled down for tests) was decided once, then Retry-After 0
        assert client.transport.retries == 2
    assert [e["status"] for e in api_log(sandbox_clean, "/import")] == [429, 429, 200]


# -- profiles and credentials ----------------------------------------------------------------------

async def test_profile_not_found(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(NotFound, match="no profile"):
            await client.mixpanel.profile("nobody-at-all")


@pytest.mark.parametrize("body", ['{"page": 0}', "<html>", '{"results": [{"$properties": {}}]}'])
async def test_profile_unexpected_bodies(sandbox_clean, body):
    sandbox_clean.fault(path="/api/query/engage", status=200, body=body, content_type="application/json")
    async with make_client(sandbox_clean) as client:
        with pytest.raises(ServerRejected, match="unexpected response"):
            await client.mixpanel.profile("x")


async def test_profile_with_api_secret_only(sandbox_clean):
    sandbox_clean.seed_users(clusters=[{"ids": ["s-1", "s-2"], "identified": "s-1", "properties": {"a": 1}}])
    conn = connection(sandbox_clean.base_url, mixpanel=secret_only())
    async with make_client(sandbox_clean, conn=conn) as client:
        p = await client.mixpanel.profile("s-2")
    assert p.distinct_id == "s-1" and p.properties == {"a": 1}


@pytest.mark.parametrize(("creds", "call", "match"), [
    (None, "create_identity", "no Mixpanel section"),
    (MixpanelCredentials(token=Secret("")), "create_identity", "no Mixpanel project token"),
    (MixpanelCredentials(token=Secret(TOKEN)), "merge", "no service account or API secret"),
    (MixpanelCredentials(token=Secret(TOKEN), sa_username="sa"), "profile", "no service account secret"),
    (MixpanelCredentials(token=Secret(TOKEN), sa_username="sa", sa_secret=Secret("s")), "merge", "project id"),
])
async def test_missing_credentials_are_bad_input_naming_what_is_missing(sandbox_clean, creds, call, match):
    conn = connection(sandbox_clean.base_url, mixpanel=creds)
    async with make_client(sandbox_clean, conn=conn) as client:
        method = getattr(client.mixpanel, call)
        with pytest.raises(BadInput, match=match) as info:
            await (method("a") if call == "profile" else method("a", "b"))
    assert info.value.exit_code == 2 and TOKEN not in str(info.value)
    assert api_log(sandbox_clean) == []


async def test_ids_are_checked_before_sending(sandbox_clean):
    async with make_client(sandbox_clean) as client:
        with pytest.raises(BadInput):
            await client.mixpanel.merge("same", "same")
        with pytest.raises(BadInput):
            await client.mixpanel.create_alias("", "d")
    assert api_log(sandbox_clean) == []

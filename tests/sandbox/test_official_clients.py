"""The vendors' official Python clients, unmodified, against the served sandbox, as a user would run them.

`mixpanel` (Mixpanel's package) is pointed at the sandbox with its Consumer's URL options; `amplitude-analytics`
(Amplitude's SDK) with `Config(server_url=...)`, and each test waits for the SDK's callbacks (it sends from
background threads). Their effects are read back through the vendors' own read APIs (engage, user profile)
and through `idconsole profile`, so the three agree on one state.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mixpanel
import pytest
from amplitude import Amplitude, BaseEvent, Config, EventOptions, Identify, Revenue
from cli_helpers import json_out, run_cli, sandbox_env
from mixpanel import BufferedConsumer, Consumer, Mixpanel, MixpanelException, ServiceAccountCredentials
from sandbox_helpers import API_KEY, MP_API_SECRET, SA, SECRET_KEY, TOKEN

from idconsole.sandbox import demo

SA_CREDENTIALS = functools.partial(ServiceAccountCredentials, SA[0], SA[1], "1")


# --- mixpanel -------------------------------------------------------------------------------------------

def endpoints(sb: Any) -> dict[str, str]:
    base = sb.base_url
    return {"events_url": f"{base}/track", "people_url": f"{base}/engage", "import_url": f"{base}/import",
            "groups_url": f"{base}/groups"}  # fmt: skip


def mp_client(sb: Any, *, credentials: Any = None, buffered: bool = False, token: str = TOKEN) -> Mixpanel:
    consumer = (BufferedConsumer if buffered else Consumer)(**endpoints(sb), retry_limit=0, credentials=credentials)
    return Mixpanel(token, consumer=consumer)


def cluster(sb: Any, distinct_id: str) -> dict[str, Any] | None:
    return next((c for c in sb.state()["mixpanel"]["clusters"] if distinct_id in c["ids"]), None)


def engage(sb: Any, distinct_id: str) -> list[dict[str, Any]]:
    r = sb.http.get("/api/query/engage", params={"distinct_id": distinct_id, "project_id": "1"}, auth=SA)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def mp_events(sb: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in sb.state()["events"]["mixpanel"] if e["event"] == name]


def test_mixpanel_track_and_identify(sandbox_clean):
    mp = mp_client(sandbox_clean)
    user, device = "sdk-listener@example.com", str(uuid.uuid4())
    mp.track(device, "Song Played", {"genre": "jazz"})
    mp.track(device, "$identify", {"$identified_id": user, "$anon_id": device})
    merged = cluster(sandbox_clean, device)
    assert merged["canonical"] == user and set(merged["ids"]) == {user, device} and merged["events"] == 1
    [played] = mp_events(sandbox_clean, "Song Played")
    assert played["properties"]["genre"] == "jazz" and played["properties"]["mp_lib"] == "python"
    assert played["properties"]["distinct_id"] == device and played["properties"]["$insert_id"]
    # an $anon_id that is not a UUID v4 is refused, and the package says so (it reads status and error)
    with pytest.raises(MixpanelException, match="UUID v4"):
        mp.track("not-a-uuid", "$identify", {"$identified_id": "sdk-2@example.com", "$anon_id": "not-a-uuid"})
    assert cluster(sandbox_clean, "sdk-2@example.com") is None


def test_mixpanel_alias(sandbox_clean, monkeypatch):
    # `Mixpanel.alias` always posts through a fresh `Consumer()` aimed at api.mixpanel.com, whatever consumer
    # the client was built with: the package's default Consumer is the only thing that can point it elsewhere
    monkeypatch.setattr(mixpanel, "Consumer", functools.partial(Consumer, **endpoints(sandbox_clean)))
    mp = mp_client(sandbox_clean)
    mp.alias("sdk-alias-1", "sdk-original@example.com")
    assert sandbox_clean.state()["mixpanel"]["aliases"]["sdk-alias-1"] == "sdk-original@example.com"
    assert cluster(sandbox_clean, "sdk-alias-1")["canonical"] == "sdk-original@example.com"
    with pytest.raises(MixpanelException, match="already points to"):
        mp.alias("sdk-alias-1", "someone-else@example.com")


@pytest.mark.parametrize("auth", ["service account", "api secret"])
def test_mixpanel_merge(sandbox_clean, auth):
    if auth == "service account":
        mp = mp_client(sandbox_clean, credentials=SA_CREDENTIALS())
        mp.merge(None, demo.STORY_USER, demo.STORY_MP_PHONE_ANON)
    else:
        mp = mp_client(sandbox_clean)
        mp.merge(None, demo.STORY_USER, demo.STORY_MP_PHONE_ANON, api_secret=MP_API_SECRET)
    merged = cluster(sandbox_clean, demo.STORY_MP_PHONE_ANON)
    assert merged["canonical"] == demo.STORY_USER and demo.STORY_MP_WEB_ANON in merged["ids"]
    [sent] = [e for e in sandbox_clean.requests() if e["path"] == "/import"]
    assert sent["status"] == 200 and ("project_id=1" in sent["query"]) == (auth == "service account")


def test_mixpanel_merge_with_bad_credentials_fails_loudly(sandbox_clean):
    mp = mp_client(sandbox_clean, credentials=ServiceAccountCredentials(SA[0], "wrong", "1"))
    with pytest.raises(MixpanelException, match="Invalid credentials"):
        mp.merge(None, "bad-a", "bad-b")
    with pytest.raises(MixpanelException, match="Invalid credentials"):
        mp_client(sandbox_clean).merge(None, "bad-a", "bad-b", api_secret="not-the-secret")
    assert cluster(sandbox_clean, "bad-a") is None


@pytest.mark.parametrize("auth", ["service account", "api secret"])
def test_mixpanel_import_data(sandbox_clean, auth):
    if auth == "service account":
        mp_client(sandbox_clean, credentials=SA_CREDENTIALS()).import_data(
            None, "importer@example.com", "Old Purchase", 1600000000, {"sku": "sku-1"})
    else:
        mp_client(sandbox_clean).import_data(None, "importer@example.com", "Old Purchase", 1600000000,
                                             {"sku": "sku-1"}, api_secret=MP_API_SECRET)  # fmt: skip
    [event] = mp_events(sandbox_clean, "Old Purchase")
    assert event["properties"]["time"] == 1600000000 and event["properties"]["sku"] == "sku-1"
    assert cluster(sandbox_clean, "importer@example.com")["events"] == 1


def profile_cli(sb: Any, distinct_id: str):
    return run_cli("profile", distinct_id, "--vendor", "mixpanel", "--json", env=sandbox_env(sb))


def test_mixpanel_every_people_operation(sandbox_clean):
    mp, user = mp_client(sandbox_clean), "people-sdk@example.com"
    mp.people_set(user, {"$name": "Sdk Person", "plan": "free", "tags": ["a"], "temp": 1})
    mp.people_set_once(user, {"plan": "pro", "first_seen": "2024-01-01"})
    mp.people_increment(user, {"logins": 2})
    mp.people_increment(user, {"logins": 3})
    mp.people_append(user, {"tags": "b"})
    mp.people_union(user, {"tags": ["b", "c"]})
    mp.people_remove(user, {"tags": "a"})
    mp.people_unset(user, ["temp"])
    mp.people_track_charge(user, 9.99, {"sku": "sku-1"})
    expected = {"$name": "Sdk Person", "plan": "free", "first_seen": "2024-01-01", "logins": 5,
                "tags": ["b", "c"], "$transactions": [{"sku": "sku-1", "$amount": 9.99}]}  # fmt: skip
    assert engage(sandbox_clean, user) == [{"$distinct_id": user, "$properties": expected}]
    result = profile_cli(sandbox_clean, user)
    assert result.returncode == 0, result.stderr
    assert json_out(result) == {"distinct_id": user, "properties": expected}

    mp.people_clear_charges(user)
    assert "$transactions" not in engage(sandbox_clean, user)[0]["$properties"]
    mp.people_delete(user)
    assert engage(sandbox_clean, user) == []
    assert profile_cli(sandbox_clean, user).returncode == 5


def test_mixpanel_people_update_lands_on_the_clusters_profile(sandbox_clean):
    mp_client(sandbox_clean).people_set(demo.STORY_MP_WEB_ANON, {"plan": "team"})
    [profile] = engage(sandbox_clean, demo.STORY_USER)
    assert profile["$distinct_id"] == demo.STORY_USER and profile["$properties"]["plan"] == "team"
    assert json_out(profile_cli(sandbox_clean, demo.STORY_USER))["properties"]["plan"] == "team"


def test_mixpanel_people_refusals_raise(sandbox_clean):
    with pytest.raises(MixpanelException, match="needs a number"):
        mp_client(sandbox_clean).people_increment("refused@example.com", {"logins": "many"})
    with pytest.raises(MixpanelException, match="token"):
        mp_client(sandbox_clean, token="not-the-token").people_set("refused@example.com", {"a": 1})
    assert engage(sandbox_clean, "refused@example.com") == []


def test_mixpanel_buffered_consumer_sends_batches(sandbox_clean):
    mp = mp_client(sandbox_clean, credentials=SA_CREDENTIALS(), buffered=True)
    for n in range(3):
        mp.track("buffered@example.com", "Page Viewed", {"n": n})
    mp.people_set("buffered@example.com", {"plan": "pro"})
    mp.people_increment("buffered@example.com", {"visits": 3})
    mp.merge(None, "buffered@example.com", "buffered-other@example.com")
    assert sandbox_clean.requests() == []  # nothing sent before the flush
    mp._consumer.flush()
    assert cluster(sandbox_clean, "buffered@example.com")["events"] == 3
    assert set(cluster(sandbox_clean, "buffered-other@example.com")["ids"]) >= {"buffered@example.com"}
    assert engage(sandbox_clean, "buffered@example.com")[0]["$properties"] == {"plan": "pro", "visits": 3}
    assert sorted(e["items"] for e in sandbox_clean.requests() if e["path"] in ("/track", "/engage")) == [2, 3]


def test_mixpanel_group_profiles(sandbox_clean):
    mp = mp_client(sandbox_clean)
    mp.group_set("company", "Globex", {"tier": "gold", "seats": 10, "temp": True})
    mp.group_set_once("company", "Globex", {"tier": "silver", "founded": 1989})
    mp.group_union("company", "Globex", {"regions": ["us", "eu"]})
    mp.group_remove("company", "Globex", {"regions": "us"})
    mp.group_unset("company", "Globex", ["temp"])
    mp.group_set("company", "Initech", {"tier": "bronze"})
    mp.group_delete("company", "Initech")
    groups = sandbox_clean.state()["mixpanel"]["groups"]
    assert groups == [{"group_key": "company", "group_id": "Globex",
                       "properties": {"tier": "gold", "seats": 10, "founded": 1989, "regions": ["eu"]}}]  # fmt: skip


# --- amplitude-analytics -----------------------------------------------------------------------------------

class Callbacks:
    """The SDK's client callback: (event_type, code, message) per event, waited on across its threads."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any, code: int, message: str | None) -> None:
        with self._cond:
            self.calls.append((event.event_type, code, message or ""))
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 20.0) -> list[tuple[str, int, str]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.calls) >= n, timeout), f"only {self.calls}"
            return sorted(self.calls)


@contextmanager
def amplitude(sb: Any, *, batch: bool = False, api_key: str = API_KEY, **options: Any) -> Iterator[tuple[Amplitude, Callbacks]]:
    callbacks = Callbacks()
    config = Config(server_url=sb.base_url + ("/batch" if batch else "/2/httpapi"), use_batch=batch,
                    callback=callbacks, flush_interval_millis=50, **options)  # fmt: skip
    client = Amplitude(api_key, config)
    try:
        yield client, callbacks
    finally:
        client.shutdown()


def amp_profile(sb: Any, user_id: str) -> dict[str, Any]:
    r = sb.http.get("/v1/userprofile", params={"user_id": user_id, "get_amp_props": "true"},
                    headers={"Authorization": f"Api-Key {SECRET_KEY}"})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["userData"]


OK = "Event sent successfully."


@pytest.mark.parametrize("batch", [False, True], ids=["httpapi", "batch"])
def test_amplitude_track_and_identify(sandbox_clean, batch):
    user, device = f"sdk-amp-{batch}@example.com", str(uuid.uuid4())
    start = {"logins": 5, "tags": ["a", "b"], "cohorts": ["a", "b"], "old": 1}
    sandbox_clean.seed_users(users=[{"user_id": user, "user_properties": start}])
    with amplitude(sandbox_clean, batch=batch) as (client, callbacks):
        client.track(BaseEvent("Song Played", user_id=user, device_id=device, session_id=1701367331000,
                               platform="iOS", time=1701367331231, event_properties={"song": "Blue in Green"}))
        identify = (Identify().set("plan", "pro").set_once("first_login", "2024-01-01").add("logins", 2)
                    .append("tags", "c").prepend("history", "h0").pre_insert("seen", "x").post_insert("seen2", "y")
                    .remove("cohorts", "a").unset("old"))  # fmt: skip
        client.identify(identify, EventOptions(user_id=user, device_id=device))
        client.flush()
        assert callbacks.wait(2) == [("$identify", 200, OK), ("Song Played", 200, OK)]
    expected = {"logins": 7, "tags": ["a", "b", "c"], "cohorts": ["b"], "plan": "pro", "first_login": "2024-01-01",
                "history": ["h0"], "seen": ["x"], "seen2": ["y"]}  # fmt: skip
    profile = amp_profile(sandbox_clean, user)
    assert profile["amp_props"] == expected
    # the same state the Identify API changes
    identification = json.dumps({"user_id": user, "user_properties": {"$add": {"logins": 1}}})
    r = sandbox_clean.http.post("/identify", data={"api_key": API_KEY, "identification": identification})
    assert r.text == "success" and amp_profile(sandbox_clean, user)["amp_props"]["logins"] == 8
    [played] = [e for e in sandbox_clean.state()["events"]["amplitude"] if e["user_id"] == user]
    assert played["event_type"] == "Song Played" and played["time"] == 1701367331231
    assert (played["device_id"], played["session_id"], played["platform"]) == (device, 1701367331000, "iOS")
    assert played["event_properties"] == {"song": "Blue in Green"} and played["insert_id"]
    assert played["amplitude_id"] == profile["amplitude_id"]
    assert device in sandbox_clean.user(user)["device_ids"]
    path = "/batch" if batch else "/2/httpapi"
    assert {e["status"] for e in sandbox_clean.requests() if e["path"] == path} == {200}


def test_amplitude_identify_clear_all(sandbox_clean):
    sandbox_clean.seed_users(users=[{"user_id": "sdk-clear@example.com", "user_properties": {"a": 1, "b": [2]}}])
    with amplitude(sandbox_clean) as (client, callbacks):
        client.identify(Identify().clear_all(), EventOptions(user_id="sdk-clear@example.com"))
        client.flush()
        assert callbacks.wait(1) == [("$identify", 200, OK)]
    assert amp_profile(sandbox_clean, "sdk-clear@example.com")["amp_props"] == {}


def test_amplitude_group_identify_set_group_and_revenue(sandbox_clean):
    user = "sdk-groups@example.com"
    with amplitude(sandbox_clean) as (client, callbacks):
        client.group_identify("org", "Globex", Identify().set("tier", "gold").add("seats", 10))
        client.set_group("org", "Globex", EventOptions(user_id=user))
        client.revenue(Revenue(price=9.99, quantity=2, product_id="sku-1"), EventOptions(user_id=user))
        client.flush()
        assert callbacks.wait(3) == [("$groupidentify", 200, OK), ("$identify", 200, OK),
                                     ("revenue_amount", 200, OK)]  # fmt: skip
    state = sandbox_clean.state()
    assert state["amplitude"]["group_properties"] == {"org": {"Globex": {"tier": "gold", "seats": 10}}}
    amp_user = sandbox_clean.user(user)
    assert amp_user["groups"] == {"org": ["Globex"]} and amp_user["user_properties"] == {"org": "Globex"}
    [revenue] = [e for e in state["events"]["amplitude"] if e["user_id"] == user]
    assert revenue["event_type"] == "revenue_amount" and revenue["event_properties"]["$price"] == 9.99


def test_amplitude_short_ids_are_refused_unless_min_id_length_allows_them(sandbox_clean):
    with amplitude(sandbox_clean) as (client, callbacks):
        client.track(BaseEvent("Tapped", user_id="abc"))
        client.flush()
        assert callbacks.wait(1) == [("Tapped", 400, "Invalid id length for user_id or device_id")]
    assert sandbox_clean.user("abc") is None
    with amplitude(sandbox_clean, min_id_length=3) as (client, callbacks):
        client.track(BaseEvent("Tapped", user_id="abc"))
        client.flush()
        assert callbacks.wait(1) == [("Tapped", 200, OK)]
    assert sandbox_clean.user("abc") is not None


def test_amplitude_wrong_api_key_is_what_the_sdk_recognises(sandbox_clean, caplog):
    caplog.set_level(logging.ERROR, logger="amplitude")
    with amplitude(sandbox_clean, api_key="not-the-key") as (client, _):
        client.track(BaseEvent("Tapped", user_id="wrong-key-user"))
        client.flush()
    assert "Invalid API Key" in caplog.text  # the SDK's own reaction to `Invalid API key: ...`
    assert sandbox_clean.user("wrong-key-user") is None

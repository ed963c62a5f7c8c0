"""Secrets never reach stdout, stderr, a URL the server saw, or any file under the XDG dirs — for every
headless command of this suite, on success and on failure (wrong key, unreachable, EU, missing user)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cli_helpers import closed_port_url, run_cli
from echo_peer import MARK, NASTY, NASTY_ASCII, EchoServer, leaks
from leak_support import SA_USER, SECRETS, WRONG, leak_env

from idconsole.sandbox.demo import CHAIN, STORY_MP_WEB_ANON, STORY_USER, STORY_WEB_DEVICE


def _needles() -> list[str]:
    """The values, and the forms they take on the wire (Basic auth base64, URL-encoded)."""
    values = [*SECRETS.values(), WRONG]
    forms = list(values)
    pairs = [
        (SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"], SECRETS["IDCONSOLE_AMPLITUDE_SECRET_KEY"]),
        (SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"], WRONG),
        (SA_USER, SECRETS["IDCONSOLE_MIXPANEL_SA_SECRET"]),
        (SA_USER, WRONG),
        (SECRETS["IDCONSOLE_MIXPANEL_API_SECRET"], ""),
    ]
    forms += [base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in pairs]
    forms.append("SECRETVALUE")  # any fragment of them
    return forms


def _commands(server) -> list[tuple[tuple[str, ...], dict[str, str], int]]:
    good = leak_env(server)
    amp_wrong = leak_env(server, IDCONSOLE_AMPLITUDE_SECRET_KEY=WRONG)
    amp_wrong_key = leak_env(server, IDCONSOLE_AMPLITUDE_API_KEY=WRONG)
    mp_wrong = leak_env(server, IDCONSOLE_MIXPANEL_SA_SECRET=WRONG)
    down = leak_env(server, IDCONSOLE_BASE_URL=closed_port_url())
    eu = leak_env(server, IDCONSOLE_REGION="eu")
    return [
        (("lookup", *CHAIN, "--json"), good, 0),
        (("lookup", *CHAIN), good, 0),
        (("lookup", STORY_WEB_DEVICE, "nothing-here", "--by", "search"), good, 5),  # unknown id: exit 5
        (("profile", STORY_USER, "--recs", "rec-home-feed", "--json"), good, 0),
        (("profile", STORY_USER), good, 0),
        (("profile", STORY_MP_WEB_ANON, "--vendor", "mixpanel", "--json"), good, 0),
        (("profile", "nobody@example.com"), good, 5),
        (("profile", STORY_USER), eu, 2),
        (("lookup", STORY_USER, "--json"), amp_wrong, 3),
        (("lookup", STORY_USER), amp_wrong_key, 3),
        (("lookup", STORY_WEB_DEVICE, "--by", "search"), amp_wrong, 3),
        (("profile", STORY_USER, "--json"), amp_wrong, 3),
        (("profile", STORY_USER, "--vendor", "mixpanel"), mp_wrong, 3),
        (("lookup", STORY_USER), down, 4),
        (("profiles", "add", "leaky", "--vendor", "amplitude", "--vendor", "mixpanel"), good, 0),
        (("profiles", "list"), good, 0),
        (("profiles", "list"), {}, 0),
        (("profiles", "test", "leaky"), good, 0),
        (("profiles", "test", "leaky"), amp_wrong, 3),
        (("profiles", "test", "leaky"), mp_wrong, 3),
        (("profiles", "test", "leaky"), down, 4),
        (("profiles", "test", "leaky"), {}, 2),
        (("lookup", STORY_USER, "--profile", "leaky"), good, 0),
        (("profiles", "remove", "leaky"), good, 0),
    ]


def test_no_secret_in_output_urls_or_files(leak_sandbox, isolated_dirs):
    leak_sandbox.reset()
    needles = _needles()
    outputs = []
    for args, env, expected in _commands(leak_sandbox):
        result = run_cli(*args, env=env)
        assert result.returncode == expected, (args, result.stdout, result.stderr)
        outputs.append((args, result.stdout + result.stderr))
    for args, text in outputs:
        for needle in needles:
            assert needle not in text, f"{needle!r} leaked in the output of {args}"

    seen = leak_sandbox.requests()
    assert seen, "the commands should have reached the sandbox"
    for entry in seen:
        url = f"{entry['path']}?{entry['query']}"
        for needle in needles:
            assert needle not in url, f"{needle!r} in the URL {url}"

    files = [p for d in isolated_dirs.values() for p in Path(d).rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"{needle!r} written to {path}"


def test_profiles_file_while_it_exists_has_no_secret(leak_sandbox, isolated_dirs):
    assert run_cli("profiles", "add", "leaky", "--vendor", "amplitude", "--vendor", "mixpanel",
                   env=leak_env(leak_sandbox)).returncode == 0
    files = [p for d in isolated_dirs.values() for p in Path(d).rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["profiles.toml"]
    data = files[0].read_bytes()
    assert SA_USER.encode() in data  # the non-secret settings are there ...
    for needle in _needles():
        assert needle.encode() not in data  # ... and no secret


# -- a peer that echoes the credentials back (issue 8 point 7) -------------------------------------

ECHO_SECRETS = {
    "IDCONSOLE_AMPLITUDE_API_KEY": f"ak{MARK}{NASTY}1",
    "IDCONSOLE_AMPLITUDE_SECRET_KEY": f"sk{MARK}{NASTY_ASCII}2",   # also the Api-Key header: ASCII
    "IDCONSOLE_MIXPANEL_TOKEN": f"tk{MARK}{NASTY}3",
    "IDCONSOLE_MIXPANEL_SA_SECRET": f"sa{MARK}{NASTY}4",
}
ECHO_SA_USER = "svc1"   # 4 characters: its Basic base64 does not line up with that of ":secret"


@pytest.mark.parametrize("form", ["raw", "quote_plus", "json_ascii"])
def test_cli_output_hides_credentials_a_server_echoes(form, isolated_dirs):
    """`lookup` (Basic), `profile` (Api-Key) and a Mixpanel `profile` (service account Basic) against a
    real HTTP peer that answers with the Authorization header echoed in `form`: a clear error, exit 1,
    and nothing of any credential on stdout, stderr or in a file."""
    env = {**ECHO_SECRETS, "IDCONSOLE_MIXPANEL_SA_USERNAME": ECHO_SA_USER, "IDCONSOLE_MIXPANEL_PROJECT_ID": "7"}
    secrets = list(ECHO_SECRETS.values())
    pairs = [(ECHO_SECRETS["IDCONSOLE_AMPLITUDE_API_KEY"], ECHO_SECRETS["IDCONSOLE_AMPLITUDE_SECRET_KEY"]),
             (ECHO_SA_USER, ECHO_SECRETS["IDCONSOLE_MIXPANEL_SA_SECRET"])]
    commands = [("lookup", "u1"), ("profile", "u1", "--json"), ("profile", "d1", "--vendor", "mixpanel", "--json")]
    with EchoServer(form, "auth") as server:
        for args in commands:
            result = run_cli(*args, env={**env, "IDCONSOLE_BASE_URL": server.base_url})
            assert result.returncode == 1, (args, result.stdout, result.stderr)
            assert "rejected" in result.stderr or "Amplitude user profile" in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
            for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
                assert not leaks(text, secrets, pairs), f"{args} leaked on {name}: {text!r}"
    for path in [p for d in isolated_dirs.values() for p in Path(d).rglob("*") if p.is_file()]:
        assert not leaks(path.read_text("utf-8", "replace"), secrets, pairs), f"leaked into {path}"

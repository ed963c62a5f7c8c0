"""`idconsole lookup ID --after-staged` against the served sandbox: each user's identity after the staged
maps/unmaps (the console's `a` preview, identity.preview), added under `"after_staged"` without touching the
existing keys, and nothing sent."""

from __future__ import annotations

from cli_helpers import amplitude_env, json_out, run_cli

from idconsole.sandbox.demo import CHAIN, STORY_PHONE_USER, STORY_USER


def _ids(entries: list[dict]) -> list[str]:
    return [e["user_id"] for e in entries]


def _stage_the_fix(env: dict[str, str]) -> None:
    for args in (("unmap", STORY_USER), ("map", STORY_PHONE_USER, STORY_USER), ("set", STORY_USER, "plan=pro")):
        result = run_cli("stage", *args, env=env)
        assert result.returncode == 0, result.stderr


def test_after_staged_json_adds_the_after_state_and_sends_nothing(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    _stage_the_fix(env)
    result = run_cli("lookup", STORY_USER, STORY_PHONE_USER, CHAIN[0], "nobody-ever@example.com",
                     "--after-staged", "--json", env=env)
    assert result.returncode == 5, result.stderr  # the unknown id, as without the flag
    doc = json_out(result)
    hank, phone, chain, unknown = (doc[q] for q in (STORY_USER, STORY_PHONE_USER, CHAIN[0], "nobody-ever@example.com"))
    # the current state is what it was: nothing was sent
    assert _ids(hank["mapped_to"]) == [STORY_PHONE_USER] and hank["chain"] == [STORY_USER, STORY_PHONE_USER]
    after = hank["after_staged"]
    assert after["mapped_to"] == [] and _ids(after["mapped_from"]) == [STORY_PHONE_USER]
    assert after["chain"] == [STORY_USER] and after["cycle"] is False
    assert (after["staged"], after["held"], after["problems"], after["sent"]) == (3, 0, [], False)
    assert [(c["user_id"], c["change"], c["before"], c["after"]) for c in after["changes"]] == [
        (STORY_USER, "unmapped", STORY_PHONE_USER, None), (STORY_PHONE_USER, "added", None, STORY_USER)]
    assert phone["after_staged"]["chain"] == [STORY_PHONE_USER, STORY_USER]
    assert chain["after_staged"]["chain"] == list(CHAIN) and chain["after_staged"]["changes"] == []
    assert unknown["after_staged"] is None
    for entry in (hank, phone, chain):
        assert set(entry) == {"mapped_to", "mapped_from", "resolved", "chain", "cycle", "after_staged"}
    plain = json_out(run_cli("lookup", STORY_USER, "--json", env=env))
    assert "after_staged" not in plain[STORY_USER]  # the old shape without the flag
    assert plain[STORY_USER]["chain"] == [STORY_USER, STORY_PHONE_USER]


def test_after_staged_human_output(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    _stage_the_fix(env)
    result = run_cli("lookup", STORY_USER, "--after-staged", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("  after 3 staged changes (nothing sent):")
    assert lines[start + 1:] == [
        "    chain:       (none: maps into nothing)",
        "    mapped to:   (none)",
        f"    mapped from: {STORY_PHONE_USER}  (amplitude id 100000002)",
        f"    changes:     {STORY_USER}: unmapped (was → {STORY_PHONE_USER})",
        f"                 {STORY_PHONE_USER}: added into {STORY_USER}",
    ]
    assert f"  chain:       {STORY_USER} → {STORY_PHONE_USER}" in lines[:start]  # now, above it

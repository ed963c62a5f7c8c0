"""`idconsole stage|plan|apply|journal|undo` end to end: subprocesses against the sandbox server, state
persisting between commands (XDG dirs of the test, IDCONSOLE_* env, no keyring, no terminal)."""

from __future__ import annotations

from cli_helpers import amplitude_env, closed_port_url, json_out, run_cli, sandbox_env


def mapping(sandbox, user_id):
    mappings = sandbox.state()["amplitude"]["mappings"]
    return (mappings if isinstance(mappings, dict) else dict(mappings)).get(user_id)


def test_stage_plan_apply_journal_undo_round_trip(sandbox_clean, tmp_path):
    env = sandbox_env(sandbox_clean)
    sandbox_clean.seed_users([("cli-user-0001", "cli-global-old")],
                             [{"user_id": "cli-user-0002", "user_properties": {"logins": 1}}])
    assert run_cli("stage", "map", "cli-user-0001", "cli-global-new", env=env).returncode == 0
    assert run_cli("stage", "set", "cli-user-0002", "logins=2", "--op", "$add", env=env).returncode == 0
    assert run_cli("stage", "set", "cli-user-0002", "plan=pro", "age:=30", env=env).returncode == 0
    csv = tmp_path / "fix.csv"
    csv.write_text("op,user_id,global_user_id,key,value\nmap,cli-user-0003,cli-global-new\nunmap,cli-user-0004,\n")
    result = run_cli("stage", "import", str(csv), env=env)
    assert result.returncode == 0, result.stderr
    result = run_cli("stage", "drop", "4", env=env)   # the csv's map of cli-user-0003
    assert result.returncode == 0 and "cli-user-0003" in result.stderr

    listing = json_out(run_cli("stage", "list", "--json", env=env))
    assert [(item["n"], item["op"]) for item in listing] == [(1, "map"), (2, "identify"), (3, "identify"),
                                                            (4, "unmap")]
    assert listing[1]["operation"] == "$add" and listing[1]["properties"] == {"logins": 2}
    assert listing[2]["properties"] == {"plan": "pro", "age": 30}

    plan = json_out(run_cli("plan", "--json", env=env))
    assert {"changes", "warnings", "requests", "irreversible"} <= set(plan)
    assert plan["changes"][0]["effects"] == [{"user_id": "cli-user-0001", "before": "cli-global-old",
                                              "after": "cli-global-new"}]
    assert {w["code"] for w in plan["warnings"]} >= {"replaces_mapping", "non_idempotent"}

    # without --yes: the plan is printed, nothing is sent, exit 2
    sandbox_clean.clear_requests()
    result = run_cli("apply", env=env)
    assert result.returncode == 2
    assert "map cli-user-0001 → cli-global-new" in result.stdout and "--yes" in result.stderr
    assert [r for r in sandbox_clean.requests() if r["method"] == "POST"] == []

    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json_out(result)
    assert report["submitted"] == report["succeeded"] == 4 and report["failed"] == []
    assert report["verified"]["confirmed"] == 4
    assert "request" in result.stderr  # progress on stderr
    assert mapping(sandbox_clean, "cli-user-0001") == "cli-global-new"
    assert sandbox_clean.user("cli-user-0002")["user_properties"] == {"logins": 3, "plan": "pro", "age": 30}
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []

    journal = json_out(run_cli("journal", "--json", env=env))
    assert [e["journal_id"] for e in journal] == [report["journal_id"]]
    entry = json_out(run_cli("journal", "show", report["journal_id"], "--json", env=env))
    assert all(c["status"] == "acked" for c in entry["changes"])
    assert entry["pre_state"]["mappings"]["cli-user-0001"] == "cli-global-old"
    text = run_cli("journal", "show", report["journal_id"][:15], env=env)
    assert text.returncode == 0 and "acked" in text.stdout

    result = run_cli("undo", report["journal_id"], env=env)
    assert result.returncode == 0, result.stderr
    assert "map cli-user-0001 → cli-global-old" in result.stdout
    assert "$add logins=-2" in result.stdout
    result = run_cli("apply", "--yes", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert mapping(sandbox_clean, "cli-user-0001") == "cli-global-old"
    assert sandbox_clean.user("cli-user-0002")["user_properties"] == {"logins": 1}


def test_irreversible_needs_its_own_flag(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    assert run_cli("stage", "mp-merge", "cli-distinct-a", "cli-distinct-b", env=env).returncode == 0
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 2
    refused = json_out(result)
    assert refused["refused"] is True and any("irreversible" in r for r in refused["reasons"])
    result = run_cli("apply", "--yes", "--allow-irreversible", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json_out(result)["succeeded"] == 1


def test_bad_input_is_refused_and_loses_nothing(sandbox_clean, tmp_path):
    env = sandbox_env(sandbox_clean)
    assert run_cli("stage", "map", "cli-user-0001", "cli-global-0001", env=env).returncode == 0
    for args in (["stage", "set", "cli-user-0001", "logins=many", "--op", "$add"],
                 ["stage", "set", "cli-user-0001", "novalue"],
                 ["stage", "set", "cli-user-0001", "k=v", "--op", "$explode"],
                 ["stage", "map", "", "cli-global-0001"],
                 ["stage", "drop", "7"],
                 ["journal", "show", "no-such-entry"],
                 ["undo", "no-such-entry"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("map,cli-user-0002,cli-global-0001\nteleport,x,y\nadd,cli-user-0003,,n,lots\n")
    result = run_cli("stage", "import", str(bad), env=env)
    assert result.returncode == 2 and "line 2" in result.stderr and "line 3" in result.stderr
    listing = json_out(run_cli("stage", "list", "--json", env=env))
    assert [item["user_id"] for item in listing] == ["cli-user-0001"]


def test_blocking_problems_refuse_with_exit_2(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    sandbox_clean.seed_users([("cli-user-0002", "cli-user-0001")])
    assert run_cli("stage", "map", "cli-user-0001", "cli-user-0002", env=env).returncode == 0
    # `plan` says so with exit 2 too (the contract), and still prints the plan
    result = run_cli("plan", env=env)
    assert result.returncode == 2 and "cycle" in result.stdout and "blocking" in result.stderr
    result = run_cli("plan", "--json", env=env)
    assert result.returncode == 2
    assert any(w["code"] == "cycle" and w["severity"] == "blocking" for w in json_out(result)["warnings"])
    result = run_cli("apply", "--yes", env=env)
    assert result.returncode == 2 and "cycle" in result.stderr
    assert mapping(sandbox_clean, "cli-user-0001") is None


def test_hostile_ids_are_printed_visibly(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    hostile = "evil\x1b[31m-id\u202e"
    refused = run_cli("stage", "unmap", hostile, env=env)  # an ESC in an id is refused where it is staged
    assert refused.returncode == 2 and "\x1b" not in refused.stderr and "\\x1b" in refused.stderr
    # ...but a staged file written before that rule may hold it: it is still shown visibly
    from idconsole.changes import Change, StagedSet
    from idconsole.config.paths import state_dir

    StagedSet.load(state_dir("env") / "staged.json", "env").add(Change.from_json({"op": "unmap", "user_id": hostile}))
    listing = run_cli("stage", "list", env=env)
    assert "\x1b" not in listing.stdout and "\\x1b" in listing.stdout and "\\u202e" in listing.stdout
    plan = run_cli("plan", env=env)
    assert "\x1b" not in plan.stdout and "\\x1b" in plan.stdout
    assert json_out(run_cli("stage", "list", "--json", env=env))[0]["user_id"] == hostile


def test_rejected_credentials_exit_3_and_unreachable_exit_4(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    assert run_cli("stage", "map", "cli-user-0001", "cli-global-0001", env=env).returncode == 0
    bad = amplitude_env(sandbox_clean, IDCONSOLE_AMPLITUDE_SECRET_KEY="wrong-secret")
    result = run_cli("apply", "--yes", env=bad)
    assert result.returncode == 3, result.stderr
    assert "wrong-secret" not in result.stderr + result.stdout
    down = amplitude_env(sandbox_clean, IDCONSOLE_BASE_URL=closed_port_url())
    result = run_cli("apply", "--yes", env=down)
    assert result.returncode == 4, result.stderr
    # nothing was lost
    assert len(json_out(run_cli("stage", "list", "--json", env=env))) == 1


def test_a_rejected_batch_exits_1_with_the_reason(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    sandbox_clean.fault(path="/usermap", method="POST", status=400, body="mapping rejected: reason 42")
    assert run_cli("stage", "map", "cli-user-0001", "cli-global-0001", env=env).returncode == 0
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 1, result.stderr
    (failed,) = json_out(result)["failed"]
    assert failed["kind"] == "rejected" and "reason 42" in failed["error"]
    assert failed["change"]["user_id"] == "cli-user-0001"
    listing = json_out(run_cli("stage", "list", "--json", env=env))
    assert "reason 42" in listing[0]["note"]


def test_nothing_staged(sandbox_clean):
    env = sandbox_env(sandbox_clean)
    assert run_cli("plan", env=env).returncode == 0
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 0 and json_out(result)["submitted"] == 0
    result = run_cli("journal", env=env)
    assert result.returncode == 0 and "empty" in result.stderr


def test_move_reorders_and_resolve_decides_a_held_change(sandbox_clean):
    env = amplitude_env(sandbox_clean)
    assert run_cli("stage", "map", "cli-user-0001", "cli-global-0001", env=env).returncode == 0
    assert run_cli("stage", "set", "cli-user-0009", "logins=1", "--op", "$add", env=env).returncode == 0
    assert run_cli("stage", "move", "2", "1", env=env).returncode == 0
    assert [i["op"] for i in json_out(run_cli("stage", "list", "--json", env=env))] == ["identify", "map"]
    assert run_cli("stage", "move", "1", "9", env=env).returncode == 2  # out of range: clear error, kept
    assert len(json_out(run_cli("stage", "list", "--json", env=env))) == 2

    # the $add reaches the server but the answer is lost: its outcome is unknown, it is held, not resent
    sandbox_clean.fault(path="/identify", method="POST", reset=True, after_apply=True)
    result = run_cli("apply", "--yes", "--json", env=env)
    assert result.returncode == 1, result.stderr
    assert "HELD" in run_cli("stage", "list", env=env).stdout
    users = {u["user_id"]: u for u in sandbox_clean.state()["amplitude"]["users"]}
    assert users["cli-user-0009"]["user_properties"]["logins"] == 1

    # the engineer checked the profile: it took effect, so it is dropped (and the journal says so)
    result = run_cli("stage", "resolve", "1", "applied", env=env)
    assert result.returncode == 0 and "took effect" in result.stderr
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []
    assert run_cli("apply", "--yes", "--json", env=env).returncode == 0
    users = {u["user_id"]: u for u in sandbox_clean.state()["amplitude"]["users"]}
    assert users["cli-user-0009"]["user_properties"]["logins"] == 1  # never doubled


def test_journal_for_a_team_operator_ticket_note_user_filter_and_partial_undo(sandbox_clean):
    from idconsole.changes import Change, Journal
    from idconsole.config.paths import config_dir, state_dir
    from idconsole.sandbox.demo import STORY_PHONE_USER, STORY_USER

    env = amplitude_env(sandbox_clean)
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.toml").write_text('operator = "Ana (support)"\n', encoding="utf-8")
    # a journal line written before operator/ticket/note existed
    old = Change.map("cli-user-0old", "cli-global-0old")
    journal = Journal(state_dir("env") / "journal.jsonl")
    journal.append({"type": "begin", "journal_id": "20240101-000000-0ld0", "profile": "env", "region": "us",
                    "changes": [old.to_json()], "requests": [{"index": 1, "kind": "usermap", "changes": [old.id]}],
                    "pre_state": {"mappings": {"cli-user-0old": None}}})
    journal.append({"type": "end", "journal_id": "20240101-000000-0ld0", "summary": {}})
    assert run_cli("stage", "unmap", STORY_USER, env=env).returncode == 0
    assert run_cli("stage", "map", STORY_PHONE_USER, STORY_USER, env=env).returncode == 0

    # a bad ticket or note: one sentence, exit 2, nothing read or sent, nothing lost
    sandbox_clean.clear_requests()
    for flags, why in ((["--ticket", "SUP\x1b[2J"], "ticket reference contains a control character"),
                       (["--note", "x" * 2001], "note is 2001 characters long"),
                       (["--note", "two\nlines"], "note contains a control character")):
        result = run_cli("apply", "--yes", *flags, env=env)
        assert result.returncode == 2 and why in result.stderr, result.stderr
        assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        result = run_cli("apply", "--yes", "--json", *flags, env=env)
        assert result.returncode == 2 and why in json_out(result)["error"]["message"]
    assert sandbox_clean.requests() == []
    assert len(json_out(run_cli("stage", "list", "--json", env=env))) == 2

    note = "[bold]hank[/] phone $(rm -rf ~)"
    result = run_cli("apply", "--yes", "--ticket", "SUP-1234", "--note", note, env=env)
    assert result.returncode == 0, result.stderr
    assert "Recorded by Ana (support), ticket SUP-1234." in result.stdout
    listing = json_out(run_cli("journal", "--json", env=env))
    assert [(e["operator"], e["ticket"], e["note"]) for e in listing] == [("Ana (support)", "SUP-1234", note),
                                                                         (None, None, None)]
    jid = listing[0]["journal_id"]
    shown = json_out(run_cli("journal", "show", jid, "--json", env=env))
    assert (shown["operator"], shown["ticket"], shown["note"]) == ("Ana (support)", "SUP-1234", note)
    text = run_cli("journal", "show", jid, env=env).stdout
    assert f"operator: Ana (support)  ticket: SUP-1234  note: {note}" in text
    assert f"  1. unmap {STORY_USER}: acked" in text and f"  2. map {STORY_PHONE_USER} → {STORY_USER}: acked" in text
    old_text = run_cli("journal", "show", "20240101-000000-0ld0", env=env).stdout
    assert "operator: —  ticket: —  note: —" in old_text
    assert "by —  ticket —" in run_cli("journal", env=env).stdout

    # what did we do to hank? (the phone too: it is the global of the fix's map)
    for who in (STORY_USER, STORY_PHONE_USER):
        assert [e["journal_id"] for e in json_out(run_cli("journal", "--user", who, "--json", env=env))] == [jid]
    assert [e["journal_id"] for e in json_out(run_cli("journal", "--user", "cli-global-0old", "--json",
                                                      env=env))] == ["20240101-000000-0ld0"]
    result = run_cli("journal", "--user", "nobody\x1b[31m", env=env)
    assert result.returncode == 0 and result.stdout == "" and "nobody\\x1b[31m" in result.stderr

    # undo of change 2 only: bad numbers are one sentence and exit 2
    for bad, why in (("3", "has 2 change(s), numbered 1 to 2; there is no change 3"), ("x", "not a change number"),
                     ("", "at least one change number")):
        result = run_cli("undo", jid, "--changes", bad, env=env)
        assert result.returncode == 2 and why in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert json_out(run_cli("stage", "list", "--json", env=env)) == []
    result = run_cli("undo", jid, "--changes", "2", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Staged 1. unmap {STORY_PHONE_USER}"]
    assert "change(s) 2 of " in result.stderr
    assert run_cli("plan", env=env).returncode == 0  # plans clean
    assert run_cli("apply", "--yes", env=env).returncode == 0
    assert mapping(sandbox_clean, STORY_PHONE_USER) is None and mapping(sandbox_clean, STORY_USER) is None

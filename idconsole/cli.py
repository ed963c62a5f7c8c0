"""Command-line entry: the TUI by default, headless subcommands for scripts (see DESIGN.md's contract).

Handlers are imported lazily so `idconsole --demo` does not pay for modules the first screen never uses.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from idconsole import __version__
from idconsole.cli_examples import add_examples

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_NOT_FOUND = 0, 1, 2, 3, 4, 5

# subcommand -> "module:function"; each function takes the parsed namespace and returns an exit code
HANDLERS = {
    "lookup": "idconsole.headless.lookup:run",
    "activity": "idconsole.headless.activity:run",
    "report": "idconsole.headless.report:run",
    "profile": "idconsole.headless.profile:run",
    "stage": "idconsole.headless.changes_cmd:run_stage",
    "plan": "idconsole.headless.changes_cmd:run_plan",
    "apply": "idconsole.headless.changes_cmd:run_apply",
    "journal": "idconsole.headless.changes_cmd:run_journal",
    "undo": "idconsole.headless.changes_cmd:run_undo",
    "profiles": "idconsole.headless.profiles_cmd:run",
    "sandbox": "idconsole.headless.sandbox_cmd:run",
    "settings": "idconsole.headless.settings_cmd:run",
}


def _common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Subcommands repeat the global flags so they work in either position; their copies default to
    # SUPPRESS so `idconsole --profile x lookup a` keeps the value given before the subcommand.
    default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("--demo", action="store_true", help="use the embedded sandbox with demo data", **default)
    parser.add_argument("--profile", metavar="NAME", help="connection profile (default: the IDCONSOLE_* env)",
                        **default)
    parser.add_argument("--readonly", action="store_true", help="hide and refuse every way to change data",
                        **default)
    parser.add_argument("--log-file", metavar="PATH", help="append one redacted line per request to PATH "
                        "(no bodies; ids hashed)", **default)
    parser.add_argument("--log-ids", action="store_true", help="keep ids as sent in the --log-file lines",
                        **default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idconsole",
        description="Investigate and safely fix analytics user identities (Amplitude, Mixpanel).",
    )
    _common(parser, top=True)
    parser.add_argument("--version", action="version", version=f"idconsole {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("lookup", help="Amplitude mappings of one or more ids (or Mixpanel clusters)")
    _common(p)
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--by", choices=("user", "device", "amplitude", "search"), default=None,
                   help="force one method (default: mappings first, User search only when they say nothing)")
    p.add_argument("--vendor", choices=("amplitude", "mixpanel"), default=None,
                   help="mixpanel: canonical id, properties and the distinct ids observed in the cluster's events")
    p.add_argument("--after-staged", action="store_true",
                   help="also the identity after the staged maps/unmaps (the console's `a` preview; nothing is sent)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("profile", help="a user's profile (Amplitude or Mixpanel)")
    _common(p)
    p.add_argument("id", metavar="ID")
    p.add_argument("--device", action="store_true", help="ID is a device id")
    p.add_argument("--recs", metavar="REC_ID,...", help="recommendation ids to include")
    p.add_argument("--vendor", choices=("amplitude", "mixpanel"), default=None)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("activity", help="a user's events (with --all-ids: every id of its tree, merged)")
    _common(p)
    p.add_argument("id", metavar="ID")
    p.add_argument("--all-ids", action="store_true", help="every id of the identity tree (costs one request per id)")
    p.add_argument("--limit", type=int, metavar="N", default=None,
                   help="at most N events (default 1000); with it, ids the budget has no room for are skipped")
    p.add_argument("--vendor", choices=("amplitude", "mixpanel"), default=None)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("report", help="a redacted investigation summary (Markdown) to paste into a ticket")
    _common(p)
    p.add_argument("id", metavar="ID")
    p.add_argument("--journal", metavar="ID", default=None, help="include this journal entry instead of the plan")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("stage", help="stage a change (nothing is sent)")
    _common(p)
    stage = p.add_subparsers(dest="stage_command", metavar="KIND", required=True)
    s = stage.add_parser("map", help="map USER into GLOBAL")
    s.add_argument("user")
    s.add_argument("global_user")
    s = stage.add_parser("unmap", help="remove USER's mapping")
    s.add_argument("user")
    s = stage.add_parser("set", help="identify: user property operations")
    s.add_argument("user")
    s.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    s.add_argument("--op", default="$set", help="$set, $setOnce, $add, $append, $prepend, $unset, ...")
    s = stage.add_parser("mp-identify", help="Mixpanel: link an anonymous id to an identified id")
    s.add_argument("anon")
    s.add_argument("identified")
    s = stage.add_parser("mp-alias", help="Mixpanel: create alias ALIAS for DISTINCT")
    s.add_argument("alias")
    s.add_argument("distinct")
    s = stage.add_parser("mp-merge", help="Mixpanel: merge two ids (irreversible)")
    s.add_argument("a")
    s.add_argument("b")
    s = stage.add_parser("import", help="import changes from CSV: op,user_id,global_user_id[,key,value]")
    s.add_argument("file")
    s = stage.add_parser("list", help="the staged changes")
    s.add_argument("--json", action="store_true")
    s = stage.add_parser("drop", help="drop staged change N")
    s.add_argument("n", type=int)
    s = stage.add_parser("move", help="move staged change N to position TO")
    s.add_argument("n", type=int)
    s.add_argument("to", type=int)
    s = stage.add_parser("resolve", help="decide a held change whose outcome was unknown")
    s.add_argument("n", type=int)
    s.add_argument("decision", choices=("applied", "resend"),
                   help="applied: you checked, it took effect (dropped); resend: it did not (staged again)")
    stage.add_parser("clear", help="drop every staged change")
    for s in stage.choices.values():
        _common(s)
    for name in ("map", "unmap", "set", "mp-identify", "mp-alias", "mp-merge", "import"):
        stage.choices[name].add_argument("--json", action="store_true",
                                         help="print what was staged (or why not) as one JSON document")

    p = sub.add_parser("plan", help="what the staged changes would do and send")
    _common(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("apply", help="send the staged changes")
    _common(p)
    p.add_argument("--yes", action="store_true", help="confirm: I have read the plan")
    p.add_argument("--allow-irreversible", action="store_true", help="also confirm irreversible changes")
    p.add_argument("--ticket", metavar="REF", help="a ticket reference the journal records with this apply")
    p.add_argument("--note", metavar="TEXT", help="why: a note the journal records with this apply")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("journal", help="what was sent")
    _common(p)
    p.add_argument("action", nargs="?", choices=("show",), help="show one entry")
    p.add_argument("entry_id", nargs="?", metavar="ID")
    p.add_argument("--user", metavar="ID", help="only the entries whose changes touch this id")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("undo", help="stage the inverse of a journal entry")
    _common(p)
    p.add_argument("entry_id", metavar="ID")
    p.add_argument("--changes", metavar="N,...", help="only these changes, numbered as `journal show ID` lists them")

    p = sub.add_parser("profiles", help="connection profiles")
    _common(p)
    prof = p.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)
    prof.add_parser("list", help="the saved profiles and where their secrets live")
    for name, text in (("add", "add a profile (secrets from a prompt or the environment)"),
                       ("remove", "remove a profile and its secrets"),
                       ("test", "check a profile's credentials against the service")):
        s = prof.add_parser(name, help=text)
        s.add_argument("name")
        if name == "add":
            s.add_argument("--vendor", action="append", choices=("amplitude", "mixpanel"))
            s.add_argument("--region", choices=("us", "eu", "in"), default="us")
            s.add_argument("--base-url")
            s.add_argument("--sa-username")
            s.add_argument("--project-id")
            s.add_argument("--merge-mode", choices=("original", "simplified"), default="original")
    for s in prof.choices.values():
        _common(s)

    p = sub.add_parser("sandbox", help="the API emulator: serve it, or reset the demo world")
    _common(p)
    box = p.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    s = box.add_parser("serve", help="the sandbox as an HTTP server (`idconsole sandbox serve --help`)",
                       add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s = box.add_parser("reset", help="--demo: put the demo world back to its story, archive the demo journal")
    _common(s)
    s.add_argument("--json", action="store_true")

    p = sub.add_parser("settings", help="config.toml: keymap, theme, operator, default vendor, log file")
    _common(p)
    conf = p.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    _common(conf.add_parser("path", help="where the settings file is (it may not exist yet)"))
    s = conf.add_parser("show", help="every setting in effect, defaults marked; exit 2 if the file has problems")
    _common(s)
    s.add_argument("--file", metavar="PATH", help="check this file instead of the settings file")
    s.add_argument("--json", action="store_true")
    add_examples(parser)
    return parser


def _load(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point. Every failure ends in one sentence and an exit code, never a traceback: the
    handlers' errors are reported by `run_reporting_errors`; this last net catches what escapes even
    that (the TUI, `sandbox serve`, argument parsing) — exit 2 for input nested too deeply, 1 otherwise."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("idconsole: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort; the real causes are fixed where they arise
        from idconsole.headless.errors import translate

        error = translate(exc)
        try:
            print(f"idconsole: {error}", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return EXIT_USAGE if error.exit_code == EXIT_USAGE else EXIT_FAILED


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # `sandbox serve` owns its flags; hand them over untouched
    if args[:2] == ["sandbox", "serve"]:
        from idconsole.sandbox.serve import main as serve_main

        return serve_main(args[2:])
    parser = build_parser()
    ns = parser.parse_args(args)
    try:
        if ns.command is None:
            _start_request_log(ns)
            return _load("idconsole.tui.run:run")(ns)
        from idconsole.headless.errors import run_reporting_errors

        def handler(ns: Any) -> int:
            _start_request_log(ns)
            return _load(HANDLERS[ns.command])(ns)

        return run_reporting_errors(handler, ns)
    finally:
        if "idconsole.api.debug_log" in sys.modules:
            sys.modules["idconsole.api.debug_log"].stop()


def _start_request_log(ns: argparse.Namespace) -> None:
    """`--log-file` (else the `log_file` setting) starts the redacted request log for this run. The
    settings file's problems are said here for the headless commands (the console notifies them)."""
    from idconsole.config.settings import load_settings

    settings = load_settings()
    if settings.problems and ns.command not in (None, "settings"):
        from idconsole.untrusted import visible

        print(f"idconsole: {visible(settings.problem_text(), limit=1000)}", file=sys.stderr)
    path = getattr(ns, "log_file", None) or settings.log_file
    if path:
        from idconsole.api import debug_log

        debug_log.start(Path(path), keep_ids=bool(getattr(ns, "log_ids", False)), version=__version__)


if __name__ == "__main__":
    raise SystemExit(main())

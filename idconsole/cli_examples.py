"""The examples that end each command's `--help` (one or two, runnable against `--demo`).

Keyed by the command path as typed after `idconsole`; `add_examples(parser)` puts them in the epilog of
every parser of the tree. A command without examples fails tests/test_cli_settings.py.
"""

from __future__ import annotations

import argparse

EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("idconsole --demo", "idconsole --profile acme --readonly"),
    "lookup": ("idconsole lookup hank@globex.net --demo",
               "idconsole lookup chain-a@example.com chain-b@example.com --after-staged --json"),
    "profile": ("idconsole profile hank@globex.net --recs rec-home-feed --demo",
                "idconsole profile '$device:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D' --vendor mixpanel --json"),
    "activity": ("idconsole activity hank@globex.net --all-ids --demo", "idconsole activity 63629@hmail.com --limit 20 --json"),
    "report": ("idconsole report hank@globex.net --demo", "idconsole report hank@globex.net --json > ticket-1234.json"),
    "stage": ("idconsole stage unmap hank@globex.net --demo", "idconsole stage import assets/changes-clean.csv --demo"),
    "stage map": ("idconsole stage map 63629@hmail.com hank@globex.net --demo",),
    "stage unmap": ("idconsole stage unmap hank@globex.net --demo",),
    "stage set": ("idconsole stage set hank@globex.net plan=pro --demo",
                  "idconsole stage set hank@globex.net logins=1 --op '$add' --demo"),
    "stage mp-identify": ("idconsole stage mp-identify '$device:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D' hank@globex.net --demo",),
    "stage mp-alias": ("idconsole stage mp-alias legacy-88412 mia.wong@initech.io --demo",),
    "stage mp-merge": ("idconsole stage mp-merge hank@globex.net '$device:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D' --demo",),
    "stage import": ("idconsole stage import assets/changes-clean.csv --demo",
                     "idconsole stage import assets/changes-with-mistakes.csv --demo   # lists every bad line"),
    "stage list": ("idconsole stage list --demo", "idconsole stage list --json"),
    "stage drop": ("idconsole stage drop 2 --demo",),
    "stage move": ("idconsole stage move 3 1 --demo",),
    "stage resolve": ("idconsole stage resolve 1 applied --demo",),
    "stage clear": ("idconsole stage clear --demo",),
    "plan": ("idconsole plan --demo", "idconsole plan --json | jq .warnings"),
    "apply": ("idconsole apply --yes --demo", "idconsole apply --yes --allow-irreversible --json"),
    "journal": ("idconsole journal --demo", "idconsole journal show 20240611-101500-1a2b --json"),
    "undo": ("idconsole undo 20240611-101500-1a2b --demo",),
    "profiles": ("idconsole profiles list", "idconsole profiles add acme --vendor amplitude --region eu"),
    "profiles list": ("idconsole profiles list",),
    "profiles add": ("idconsole profiles add acme --vendor amplitude --region eu",
                     "idconsole profiles add acme-mp --vendor mixpanel --sa-username svc.acme --project-id 12345"),
    "profiles remove": ("idconsole profiles remove acme",),
    "profiles test": ("idconsole profiles test acme",),
    "sandbox": ("idconsole sandbox serve --port 8765", "idconsole sandbox reset --demo"),
    "sandbox reset": ("idconsole sandbox reset --demo",),
    "settings": ("idconsole settings path", "idconsole settings show --json"),
    "settings path": ("idconsole settings path",),
    "settings show": ("idconsole settings show", "idconsole settings show --file assets/config.example.toml"),
}

#: parsers whose help is not ours (`sandbox serve` hands its flags to the sandbox's own parser)
NOT_OURS = frozenset({"sandbox serve"})


def subcommands(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the tree with its command path ("" for the top)."""
    found = [(path, parser)]
    for action in parser._actions:  # argparse keeps subparsers only there
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += subcommands(sub, f"{path} {name}".strip())
    return found


def add_examples(parser: argparse.ArgumentParser) -> None:
    for path, sub in subcommands(parser):
        lines = EXAMPLES.get(path)
        if not lines or path in NOT_OURS:
            continue
        sub.formatter_class = argparse.RawDescriptionHelpFormatter  # keep one example per line
        examples = "\n".join(f"  {line}" for line in lines)
        sub.epilog = f"{sub.epilog}\n\n" if sub.epilog else ""
        sub.epilog += f"example{'s' if len(lines) > 1 else ''}:\n{examples}"

"""`idconsole profiles list | add NAME | remove NAME | test NAME`.

`add` takes secrets from a hidden prompt or from the IDCONSOLE_* environment — there are no secret
flags, so a secret never sits in argv or shell history. With no terminal and no environment value
for a required secret it fails (exit 2) before writing anything. Secrets go to the system keyring;
without one they live in memory for this process only (said in one sentence on stderr).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from typing import Any

from idconsole.api.errors import AuthError, BadInput, IdConsoleError, Throttled, Unavailable
from idconsole.api.probe import NO_ENTITLEMENT, check_vendor
from idconsole.config import secrets
from idconsole.config.errors import ConfigError
from idconsole.config.profiles import (
    Profile,
    load_profiles,
    remove_profile,
    save_profile,
    validate_profile_name,
)
from idconsole.config.resolve import (
    ENV_PROFILE,
    REQUIRED_FIELDS,
    VENDOR_FIELDS,
    effective_profile,
    env_profile,
    env_profile_active,
    env_vendors,
    resolve_profile,
    secret_sources,
)
from idconsole.config.secret import Secret
from idconsole.headless.output import configure_logging, note, visible, write

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


def run(ns: Any) -> int:
    action = {"list": _list, "add": _add, "remove": _remove, "test": _test}[ns.profiles_command]
    return action(ns)  # a ConfigError is an IdConsoleError: the CLI reports it with exit code 2


# --- list -----------------------------------------------------------------------------------------


def _profile_block(profile: Profile, title: str) -> list[str]:
    base = profile.base_url or "(vendor default)"
    lines = [
        title,
        f"  vendors:  {', '.join(profile.vendors)}",
        f"  region:   {profile.region}",
        f"  base URL: {visible(base)}",
    ]
    if profile.has_mixpanel:
        lines.append(f"  mixpanel: merge mode {profile.merge_mode}"
                     + (f", service account {visible(profile.sa_username)}" if profile.sa_username else "")
                     + (f", project {visible(profile.project_id)}" if profile.project_id else ""))
    lines.append("  secrets:")
    for field, source in secret_sources(profile).items():
        lines.append(f"    {field:<22}{source}")
    return lines


def _list(ns: Any) -> int:
    profiles = load_profiles()
    notice = secrets.keyring_notice()
    if notice:
        note(f"idconsole: {notice}")
    blocks: list[str] = []
    for name in profiles:
        # env variables override a saved profile at use time: show what would really be used
        blocks += _profile_block(effective_profile(name), name)
    if env_profile_active():
        try:
            blocks += _profile_block(env_profile(), f"{ENV_PROFILE}  (implicit: the IDCONSOLE_* variables)")
        except ConfigError as exc:  # show it, keep listing
            blocks.append(f"{ENV_PROFILE}  (implicit: the IDCONSOLE_* variables) — not usable: {visible(exc)}")
    if not blocks:
        write("No saved profiles. Add one with `idconsole profiles add NAME`.")
    for line in blocks:
        write(line)
    return EXIT_OK


# --- add ------------------------------------------------------------------------------------------


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(name: str, field: str, *, optional: bool) -> Secret | None:
    label = secrets.FIELD_LABELS[field]
    prompt = f"{label} for {name}{' (optional, Enter to skip)' if optional else ''}: "
    value = getpass.getpass(prompt)
    if not value.strip():
        if optional:
            return None
        raise BadInput(f"No {label} given.", hint="Nothing was saved.")
    return Secret(value.strip())


def _add(ns: Any) -> int:
    name = ns.name
    validate_profile_name(name, allow_reserved=False)
    vendors = tuple(dict.fromkeys(ns.vendor or env_vendors()))
    if not vendors:
        raise BadInput("Which vendor is this profile for?",
                       hint="Pass --vendor amplitude and/or --vendor mixpanel.")
    env = os.environ
    profile = Profile(
        name=name,
        region=ns.region,
        base_url=ns.base_url.rstrip("/") if ns.base_url else None,
        vendors=vendors,
        sa_username=ns.sa_username or env.get("IDCONSOLE_MIXPANEL_SA_USERNAME") or None,
        project_id=ns.project_id or env.get("IDCONSOLE_MIXPANEL_PROJECT_ID") or None,
        merge_mode=ns.merge_mode,
    )
    load_profiles()  # a malformed file fails here, before any prompt
    wanted: list[tuple[str, bool]] = []  # (field, optional)
    for vendor in vendors:
        for field in VENDOR_FIELDS[vendor]:
            required = field in REQUIRED_FIELDS[vendor] or (field == "mixpanel_sa_secret" and profile.sa_username)
            wanted.append((field, not required))

    # every value first (environment, else a hidden prompt); nothing is written until all are here
    interactive = _interactive()
    values: dict[str, tuple[Secret, str]] = {}
    missing: list[str] = []
    for field, optional in wanted:
        secret = secrets.env_secret(field)
        if secret is not None:
            values[field] = (secret, "environment")
        elif interactive:
            asked = _ask(name, field, optional=optional)
            if asked is not None:
                values[field] = (asked, "prompt")
        elif not optional:
            missing.append(field)
    if missing:
        needed = ", ".join(f"{secrets.FIELD_LABELS[f]} ({secrets.SECRET_ENV[f]})" for f in missing)
        raise BadInput(
            f"No terminal to ask for secrets and the environment does not hold: {needed}.",
            hint="Set those variables, or run `idconsole profiles add` in a terminal. Nothing was saved.",
        )
    if profile.has_mixpanel and "mixpanel_sa_secret" in values and not profile.sa_username:
        raise BadInput("A Mixpanel service account secret needs its username.",
                       hint="Pass --sa-username (or set IDCONSOLE_MIXPANEL_SA_USERNAME). Nothing was saved.")

    existed = name in load_profiles()
    save_profile(profile)
    # secrets of vendors this profile no longer has, or optional ones not given again, are forgotten
    for field in secrets.SECRET_FIELDS:
        if field not in values:
            secrets.delete_secret(name, field)
    stored = {field: secrets.store_secret(name, field, secret) for field, (secret, _) in values.items()}

    write(f"{'Updated' if existed else 'Saved'} profile {name} ({', '.join(vendors)}; region {profile.region}"
          + (f"; base URL {visible(profile.base_url)}" if profile.base_url else "") + ").")
    for field, where in stored.items():
        origin = values[field][1]
        write(f"  {field:<22}{where}" + (f" (taken from {secrets.SECRET_ENV[field]})" if origin == "environment" else ""))
    if any(where == secrets.SESSION for where in stored.values()):
        note(f"idconsole: {secrets.NO_KEYRING_MESSAGE}")
        note("idconsole: to use this profile later, provide its secrets with the IDCONSOLE_* variables "
             f"(for example {secrets.SECRET_ENV[next(iter(stored))]}).")
    return EXIT_OK


# --- remove ---------------------------------------------------------------------------------------


def _remove(ns: Any) -> int:
    name = ns.name
    validate_profile_name(name)
    if name == ENV_PROFILE:
        raise BadInput("The `env` profile is the IDCONSOLE_* environment variables; unset them to remove it.")
    removed_entry = remove_profile(name)
    removed_secrets = secrets.delete_secrets(name)
    if not removed_entry and not removed_secrets:
        raise BadInput(f"No profile named {name!r}.", hint="See `idconsole profiles list`.")
    where = "the keyring" if secrets.keyring_available() else "this session"
    write(f"Removed profile {name}" + (f" and {len(removed_secrets)} secret(s) from {where}" if removed_secrets else "")
          + ".")
    if not secrets.keyring_available():
        note(f"idconsole: {secrets.NO_KEYRING_MESSAGE}")
    return EXIT_OK


# --- test -----------------------------------------------------------------------------------------


def _describe(exc: IdConsoleError) -> tuple[str, int]:
    if isinstance(exc, AuthError):
        which = f" ({visible(exc.credential)})" if exc.credential else ""
        return f"credentials rejected{which}: {visible(exc)}", EXIT_AUTH
    if isinstance(exc, (Unavailable, Throttled)):
        return f"unreachable: {visible(exc)}", EXIT_UNREACHABLE
    if isinstance(exc, BadInput):
        return f"not usable: {visible(exc)}", EXIT_USAGE
    return f"error: {visible(exc)}", EXIT_FAILED


async def _test_connection(connection: Any) -> int:
    from idconsole.workspace import Workspace

    workspace = Workspace.open(connection, readonly=True)
    codes: list[int] = []
    try:
        target = visible(connection.base_url) if connection.base_url else f"{connection.region} vendor hosts"
        write(f"Testing profile {connection.name} against {target}")
        for vendor in connection.vendors:
            result = await check_vendor(workspace.client, vendor)
            if result.outcome == NO_ENTITLEMENT:
                # not a credentials problem: said apart from one, and counted as unusable (exit 2)
                codes.append(EXIT_USAGE)
                write(f"  {vendor:<10}{result.note}")
            elif result.error is not None:
                text, code = _describe(result.error)
                codes.append(code)
                write(f"  {vendor:<10}{text}")
            else:
                # a Mixpanel token alone cannot authenticate a read: said, not counted as a failure
                write(f"  {vendor:<10}{result.note or 'ok'}")
            if result.deprecation:
                write(f"  {'':<10}note: {result.deprecation}")
    finally:
        await workspace.aclose()
    # the most telling failure wins: credentials > unreachable > usage > other
    for code in (EXIT_AUTH, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_FAILED):
        if code in codes:
            return code
    return EXIT_OK


def _test(ns: Any) -> int:
    name = ns.name
    validate_profile_name(name)
    connection = resolve_profile(effective_profile(name))
    configure_logging()
    return asyncio.run(_test_connection(connection))

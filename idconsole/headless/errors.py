"""Turns every failure of a headless command into one clear line on stderr, the exit code of the CLI
contract (DESIGN.md) and, under `--json`, the one JSON document `{"error": {"kind", "message"}}`.

Our own errors (`IdConsoleError`) carry their message and exit code. The rest are translated here, once:
an OSError from a local file (read-only state directory, full disk) is bad local I/O (exit 2), a
RecursionError is input nested too deeply (exit 2), and anything else is an unexpected error (exit 1)
reported in one redacted sentence — the net under the real fixes, never a traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from idconsole.api.errors import BadInput, IdConsoleError
from idconsole.config import secrets
from idconsole.config.errors import LocalStorageError, local_io_error
from idconsole.headless import output
from idconsole.untrusted import visible

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_NOT_FOUND = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130

#: commands that send: after a failure, what was not sent yet is not sent
SENDING_COMMANDS = frozenset({"apply"})


class UnexpectedError(IdConsoleError):
    """A failure idconsole has no words for yet: reported in one redacted sentence, exit 1."""

    exit_code = 1
    kind = "unexpected"


class Interrupted(IdConsoleError):
    """Ctrl-C (a second one during an apply, which stops between requests on the first)."""

    exit_code = EXIT_INTERRUPTED
    kind = "interrupted"


class TooDeep(BadInput):
    """Input (JSON, TOML) nested too deeply to read."""

    kind = "too_deep"


def _leaf(exc: BaseException) -> BaseException:
    """An exception group (anyio, TaskGroup) stands for its most telling member: our own error when
    there is one, else the first leaf."""
    members = getattr(exc, "exceptions", None)  # BaseExceptionGroup (3.11+), duck-typed for 3.10
    if not isinstance(members, tuple) or not members or not all(isinstance(m, BaseException) for m in members):
        return exc
    leaves = [_leaf(e) for e in members]
    return next((e for e in leaves if isinstance(e, IdConsoleError)), leaves[0] if leaves else exc)


def env_redactor(env: Any = None) -> Callable[[str], str]:
    """Scrubs the raw values of the IDCONSOLE_* secret variables (the only secrets a failure outside a
    workspace can have seen)."""
    env = os.environ if env is None else env
    values = [v for var in secrets.SECRET_ENV.values() if len(v := env.get(var, "").strip()) >= 3]

    def redact(text: str) -> str:
        for value in sorted(values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text

    return redact


def chain(redactors: Iterable[Callable[[str], str]]) -> Callable[[str], str]:
    funcs = list(redactors)

    def redact(text: str) -> str:
        for func in funcs:
            text = func(text)
        return text

    return redact


def translate(
    exc: BaseException, *, redact: Callable[[str], str] | None = None, where: str = "a local file"
) -> IdConsoleError:
    """The IdConsoleError a failure is reported as. `where` names the place an OSError without a file
    name was about (a headless command's state directory); `redact` scrubs an unexpected error's text."""
    exc = _leaf(exc)
    if isinstance(exc, IdConsoleError):
        return exc
    if isinstance(exc, OSError):
        return local_io_error(exc, where=where)
    if isinstance(exc, RecursionError):
        return TooDeep("A value is nested too deeply to read (JSON or TOML nested hundreds of levels deep).",
                       hint="Flatten it, then run the command again.")
    scrub = redact or env_redactor()
    text = " ".join(scrub(str(exc)).split())[:300]
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return UnexpectedError(f"idconsole hit an unexpected error: {visible(detail, limit=320)}; nothing more was sent.",
                           hint="Please report it with the command you ran.")


def sentence(error: IdConsoleError, command: str | None) -> str:
    if isinstance(error, LocalStorageError):
        return error.sentence("nothing more was sent" if command in SENDING_COMMANDS else "")
    return str(error)


def report(error: IdConsoleError, ns: Any) -> int:
    """stderr gets `idconsole: <sentence>`; `--json` gets its one document if none was printed yet."""
    command = getattr(ns, "command", None)
    text = sentence(error, command)
    _safe_print(f"idconsole: {text}", sys.stderr)
    if getattr(ns, "json", False) and not output.json_printed():
        try:
            output.print_json({"error": {"kind": error.kind, "message": text}})
        except OSError:  # stdout itself is what failed: the stderr line has said it
            pass
    return error.exit_code


def _safe_print(text: str, stream: Any) -> None:
    try:
        output.write(text, stream)
    except (OSError, ValueError):  # a closed or full stderr: nothing left to tell
        pass


def run_reporting_errors(handler: Callable[[Any], int], ns: Any) -> int:
    output.reset_json_printed()
    try:
        return handler(ns)
    except KeyboardInterrupt:
        report(Interrupted("Interrupted; nothing more was sent."), ns)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of stdout went away (`idconsole journal | head -1`): not an error worth a sentence
        _quiet_stdout()
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the one place every failure is turned into words
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            _quiet_stdout()
            return EXIT_FAILED
        error = translate(exc)
        code = report(error, ns)
        if isinstance(error, LocalStorageError) and error.place == output.STDOUT_NAME:
            _quiet_stdout()  # else the interpreter's last flush of what is still buffered fails again
        return code


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass

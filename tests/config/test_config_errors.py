"""One error hierarchy, defined once in `idconsole.errors` (its docstring draws the tree) and re-exported
by config and api; config errors are IdConsoleErrors with the BadInput contract (exit 2, "bad_input")."""

from __future__ import annotations

import errno
import os
import resource

import pytest

from idconsole.api import errors as api
from idconsole.config.atomic import atomic_write
from idconsole.config.base_url import base_url_problem
from idconsole.config.errors import (
    ConfigError,
    IdConsoleError,
    MissingSecret,
    ProfileNotFound,
    local_io_error,
)
from idconsole.config.profiles import Profile
from idconsole.config.resolve import resolve_connection


def test_the_hierarchy_is_defined_once_and_drawn_in_its_docstring():
    import inspect

    from idconsole import errors

    defined = [obj for _, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, errors.IdConsoleError) and obj.__module__ == "idconsole.errors"]
    assert len(defined) >= 17
    tree = errors.__doc__ or ""
    for cls in defined:
        assert cls.__name__ in tree, f"{cls.__name__} is missing from the tree in idconsole/errors.py"
    for module in (api, __import__("idconsole.config.errors", fromlist=["x"])):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):  # a re-export, never a second definition
                assert obj.__module__ == "idconsole.errors", name


def test_one_base_shared_by_api_and_config():
    assert api.IdConsoleError is IdConsoleError
    assert issubclass(api.BadInput, IdConsoleError) and issubclass(ConfigError, IdConsoleError)
    assert not issubclass(ConfigError, api.BadInput)  # the TUI still titles it "Configuration problem"


def test_config_errors_keep_the_bad_input_contract():
    for exc in (ConfigError("Broken.", hint="Fix it."), ProfileNotFound("x", []),
                MissingSecret("No key.", fields=("amplitude_api_key",))):
        assert exc.exit_code == 2 and exc.kind == "bad_input"
    exc = ConfigError("Broken.", hint="Fix it.")
    assert (exc.message, exc.hint, str(exc)) == ("Broken.", "Fix it.", "Broken. Fix it.")
    assert str(ConfigError("Only a message.")) == "Only a message."


# --- a failed local write: one sentence naming the file, the cause and the remedy ---------------------

@pytest.mark.parametrize(
    ("code", "cause", "remedy"),
    [
        (errno.EROFS, "read-only file system", "make it writable"),
        (errno.ENOSPC, "the disk is full", "free some space"),
        (errno.EFBIG, "file size limit", "raise the limit"),
        (errno.EACCES, "permission denied", "fix its permissions"),
    ],
)
def test_local_io_error_names_the_file_the_cause_and_the_remedy(code, cause, remedy):
    error = local_io_error(OSError(code, os.strerror(code), "/state/env/staged.json"))
    assert isinstance(error, ConfigError) and error.exit_code == 2 and error.kind == "local_io"
    text = str(error)
    assert "/state/env/staged.json" in text and cause in text and remedy in text
    assert "\n" not in text and text.endswith("then run the command again.")
    assert "nothing more was sent" in error.sentence("nothing more was sent")


def test_local_io_error_without_a_file_name_says_where():
    # a write to an open descriptor (the journal's append) carries no file name
    text = str(local_io_error(OSError(errno.ENOSPC, "No space left on device"), where="a file in /state/env"))
    assert "a file in /state/env" in text and "None" not in text


def test_atomic_write_that_fails_names_the_target_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "staged.json"
    target.write_bytes(b"old")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, hard))  # a disk with 16 bytes left for any one file
    try:
        with pytest.raises(OSError) as caught:
            atomic_write(target, b"x" * 4096)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert caught.value.errno == errno.EFBIG and caught.value.filename == str(target)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["staged.json"]


# --- the one base URL check ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8765", None),
        ("https://proxy.example/base/", None),
        ("http://[::1]:80", None),
        ("http://x/[bold]path with spaces[/]", None),  # odd paths are the proxy's business
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:0", "port"),
        ("http://127.0.0.1:-1", "port"),
        ("http://host:abc", "port"),
        ("ftp://host", "http://"),
        ("http://:80", "host"),
        ("http://exa mple.com", "spaces"),
        ("http://user:pw@host", "password"),
        ("http://[zz]", "not a valid URL"),
        ("http://host?q=1", "query"),
    ],
)
def test_base_url_problem(url, problem):
    found = base_url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)
    assert found is None or "pw" not in found  # never echoes the URL (it may hold credentials)


def test_an_out_of_range_port_is_a_config_error_from_env_and_from_a_saved_profile():
    with pytest.raises(ConfigError, match="port"):
        resolve_connection(None, env={"IDCONSOLE_AMPLITUDE_API_KEY": "k", "IDCONSOLE_AMPLITUDE_SECRET_KEY": "s",
                                      "IDCONSOLE_BASE_URL": "http://127.0.0.1:99999"})
    with pytest.raises(ConfigError, match="port"):
        Profile(name="acme", base_url="http://127.0.0.1:99999")

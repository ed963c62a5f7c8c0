"""One error base: `IdConsoleError` is defined in config (the lowest layer) and re-exported by api;
config errors are IdConsoleErrors with the BadInput contract (exit code 2, kind "bad_input")."""

from __future__ import annotations

from idconsole.api import errors as api
from idconsole.config.errors import ConfigError, IdConsoleError, MissingSecret, ProfileNotFound


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

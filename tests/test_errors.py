"""The one error root: every family member reports itself the same way (one line, exit code, JSON object)."""

from __future__ import annotations

import pytest

from botticelli.config import ConfigError, KeySourceError
from botticelli.errors import BotticelliError, UsageError
from botticelli.providers.errors import ERROR_KINDS, AuthError, ProviderError, RateLimitError
from botticelli.sessions import SessionStoreError
from botticelli.targets import open_client

EXIT_CODES = {"auth": 3, "rate_limit": 4, "model_not_found": 5, "invalid_request": 6, "network": 7, "server": 8,
              "protocol": 9}
ERROR_KEYS = {"kind", "status", "code", "message", "retry_after_s"}


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("config.toml: profiles.x.timeout_s: must be a positive number", hint="write timeout_s = 60"),
        KeySourceError("groq", "the API key from GROQ_API_KEY contains a line break", hint="set GROQ_API_KEY again"),
        SessionStoreError("no session matches 'abc'", "list them with botticelli sessions list"),
        AuthError("Invalid API Key", provider="groq", status=401, code="invalid_api_key"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_is_one_line_an_exit_code_and_a_json_object(error: BotticelliError) -> None:
    assert isinstance(error, BotticelliError)
    line = error.one_line()
    assert line.startswith(f"error: {error.source}: ") and line.endswith(f"({error.hint})") and "\n" not in line
    assert error.message in line and error.hint not in error.message
    assert set(error.to_dict()) == ERROR_KEYS and error.to_dict()["kind"] == error.kind
    assert error.exit_code in {2, 3}


def test_the_sources_and_kinds_of_the_family() -> None:
    assert (ConfigError("x", hint="y").source, ConfigError("x", hint="y").kind) == ("config", "config")
    assert (SessionStoreError("x", "y").source, SessionStoreError("x", "y").kind) == ("sessions", "session")
    key = KeySourceError("groq", "x", hint="y", code="invalid_api_key")
    assert (key.source, key.kind, key.exit_code, key.code) == ("groq", "auth", 3, "invalid_api_key")


def test_a_usage_error_names_its_command_and_needs_no_hint() -> None:
    class AskError(UsageError):
        area = "ask"

    error = AskError("the prompt is empty (pass it as an argument)")
    assert error.one_line() == "error: ask: the prompt is empty (pass it as an argument)"
    assert (error.exit_code, error.to_dict()["kind"]) == (2, "usage")


def test_provider_errors_keep_their_exit_codes_under_the_root() -> None:
    assert {kind: cls.exit_code for kind, cls in ERROR_KINDS.items()} == EXIT_CODES
    assert all(issubclass(cls, ProviderError) and issubclass(cls, BotticelliError) for cls in ERROR_KINDS.values())
    limited = RateLimitError("slow down", provider="groq", status=429, retry_after_s=2.0)
    assert limited.to_dict() == {"kind": "rate_limit", "status": 429, "code": None, "message": "slow down",
                                 "retry_after_s": 2.0}


def test_a_key_source_failure_reaches_the_client_caller_as_an_auth_error_with_its_fields() -> None:
    """open_client turns KeySourceError into AuthError field by field: no hint parsed out of a message."""
    from botticelli.config import Profile

    profile = Profile(name="p", base_url="https://api.example.com/v1", api_key="${UNSET_FOR_THIS_TEST}")
    with pytest.raises(AuthError) as info:
        open_client(profile, env={})
    error = info.value
    assert (error.provider, error.code, error.exit_code) == ("p", "missing_api_key", 3)
    assert error.message == "api_key refers to ${UNSET_FOR_THIS_TEST}, which is not set"
    assert error.hint == "set UNSET_FOR_THIS_TEST or change api_key in config.toml"

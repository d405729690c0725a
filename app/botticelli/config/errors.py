"""Config errors: a bad `config.toml` (exit 2) and a key that cannot be used (exit 3)."""

from __future__ import annotations

from botticelli.errors import BotticelliError


class ConfigError(BotticelliError):
    """A configuration problem: the file, key or line and what is wrong (`message`), and the fix (`hint`)."""

    kind = "config"
    exit_code = 2
    area = "config"
    default_hint = "check config.toml (`botticelli config path` shows where it is)"


class KeySourceError(ConfigError):
    """A profile's key cannot be used: its source is unset or failed, or the key itself is malformed.

    Raised before any request is made; the message names where the key came from, never the key. Exit code 3,
    like a key the provider rejects. `code` is `missing_api_key` or `invalid_api_key`.
    """

    kind = "auth"
    exit_code = 3

    def __init__(self, profile: str, message: str, *, hint: str, code: str = "missing_api_key") -> None:
        super().__init__(message, hint=hint)
        self.profile = profile
        self.code = code

    @property
    def source(self) -> str:
        return self.profile

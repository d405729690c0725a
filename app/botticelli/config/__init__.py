"""The configuration API: profiles, keys, `config.toml` and targets. Everything other code needs is here.

- `profile`: the Profile data and the built-in profiles;
- `schema`: validation of the TOML file, with one-line messages that say how to fix;
- `keys`: where a profile's key comes from (the precedence, coded once), resolving it, where it may go;
- `loading`: loading and saving the file, the default profile;
- `errors`: ConfigError (exit 2) and KeySourceError (a key that cannot be used, exit 3).
"""

from __future__ import annotations

from botticelli.config.errors import ConfigError, KeySourceError
from botticelli.config.keys import (
    KEY_CMD_TIMEOUT_S,
    KeySource,
    KeyStatus,
    check_key_destination,
    has_key,
    is_loopback_host,
    key_source,
    key_status,
    resolve_api_key,
)
from botticelli.config.loading import (
    DEFAULT_ORDER,
    Config,
    load_config,
    parse_target,
    read_config_data,
    save_config,
)
from botticelli.config.profile import (
    BUILTIN_PROFILES,
    DEMO_PROFILE,
    FLAVORS,
    Profile,
    RateLimits,
    builtin_profiles,
)
from botticelli.config.schema import display_path

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_ORDER",
    "DEMO_PROFILE",
    "FLAVORS",
    "KEY_CMD_TIMEOUT_S",
    "Config",
    "ConfigError",
    "KeySource",
    "KeySourceError",
    "KeyStatus",
    "Profile",
    "RateLimits",
    "builtin_profiles",
    "check_key_destination",
    "display_path",
    "has_key",
    "is_loopback_host",
    "key_source",
    "key_status",
    "load_config",
    "parse_target",
    "read_config_data",
    "resolve_api_key",
    "save_config",
]

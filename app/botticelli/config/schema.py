"""Validation of `config.toml`: from parsed TOML to profiles, with one-line messages that say how to fix.

Every message names the file, the key (or the line and column of a syntax error), what is wrong, and the fix.
Values of secret fields (api_key, api_key_cmd, headers) are never quoted back.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import shlex
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from botticelli.config.errors import ConfigError
from botticelli.config.profile import FLAVORS, VAR_REF, Profile, RateLimits, builtin_profiles
from botticelli.safety import KEY_PREFIXES, mask_key

_BARE_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "proxy-authorization"})
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

MAX_RETRIES = 10
"""Retries per request: more would keep a rate-limited request waiting for hours."""
MAX_TIMEOUT_S = 3600.0
"""An hour between bytes (or to connect) is already far beyond any live server."""
MAX_TOTAL_TIMEOUT_S = 86400.0
"""A day for one request, however slowly it streams."""
MAX_ANSWER_MB = 1024.0
"""MiB of text one answer may be allowed to reach: more would not fit in memory next to its copies."""


def display_path(path: Path) -> str:
    """The path as a user would type it: `~/.config/botticelli/config.toml`."""
    try:
        return "~/" + str(path.expanduser().relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


@dataclass(frozen=True)
class Where:
    """A place in the file, for error messages."""

    file: str
    key: str

    def child(self, name: str) -> Where:
        return Where(self.file, f"{self.key}.{key_part(name)}" if self.key else key_part(name))

    def error(self, what: str, fix: str) -> ConfigError:
        place = f"{self.file}: {self.key}" if self.key else self.file
        return ConfigError(f"{place}: {what}", hint=fix)


def key_part(name: str) -> str:
    """A TOML key as written in a dotted path: bare when it can be, quoted otherwise."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def quote(value: str, limit: int = 40) -> str:
    """A user's value for a message: double-quoted, shortened, control characters escaped."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _describe(value: Any, secret: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "a string" if secret else quote(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """The fix for a misspelt name: `did you mean groq?`, or the list of known names when none is close."""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else f"known: {', '.join(names)}"


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; unreadable, non-UTF-8 or bad TOML raises ConfigError with the line and column."""
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{shown}: cannot read the file: {reason}", hint="check that it is a readable file") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{shown}: line {line}: not valid UTF-8 text", hint="save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        what = message[: position.start()] if position else message
        what = what[:1].lower() + what[1:]
        if position and position.group(1):
            place = f"line {position.group(1)}, column {position.group(2)}"
        else:
            place = f"line {text.count(chr(10)) + 1} (end of file)"
        raise ConfigError(f"{shown}: {place}: {what}", hint="fix the TOML syntax there") from None


# Field validators: each takes the TOML value and its place and returns the Profile field value.


def want_str(value: Any, at: Where, example: str, *, secret: bool = False) -> str:
    """A non-empty string, or a ConfigError whose fix is `write <example>`."""
    if not isinstance(value, str):
        raise at.error(f"expected a string, got {_describe(value, secret)}", f"write {example}")
    if not value.strip():
        raise at.error("must not be empty", f"write {example}")
    return value


def _want_number(value: Any, at: Where, example: str, *, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise at.error(f"expected a number, got {_describe(value)}", f"write {example}")
    if not math.isfinite(value) or value <= 0:
        raise at.error(f"must be a positive number, got {_describe(value)}", f"write {example}")
    if value > maximum:
        raise at.error(f"must be at most {maximum:g}, got {_describe(value)}", f"write {example}")
    return float(value)


def _want_int(value: Any, at: Where, example: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise at.error(f"expected a whole number, got {_describe(value)}", f"write {example}")
    if not minimum <= value <= maximum:
        what = "must not be negative" if minimum == 0 and value < 0 else f"must be from {minimum} to {maximum:,}"
        raise at.error(f"{what}, got {value}", f"write {example}")
    return value


def _want_bool(value: Any, at: Where, example: str) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"expected true or false, got {_describe(value)}", f"write {example}")
    return value


def _want_str_list(value: Any, at: Where, example: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        got = "a list with a non-string or empty item" if isinstance(value, list) else _describe(value)
        raise at.error(f"expected a list of strings, got {got}", f"write {example}")
    return tuple(value)


def _base_url(value: Any, at: Where) -> str:
    example = 'base_url = "https://api.example.com/v1"'
    url = want_str(value, at, example).strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise at.error(f"{quote(url)} is not an http(s) URL with a host", f"write {example}")
    if parts.username or parts.password:
        raise at.error("must not contain a user name or password", "put the key in api_key_env or api_key")
    if parts.query or parts.fragment:
        raise at.error(f"{quote(url)} must not have a query or fragment", f"write {example}")
    return url.rstrip("/")


def _flavor(value: Any, at: Where) -> str:
    flavor = want_str(value, at, 'flavor = "openai"')
    if flavor not in FLAVORS:
        raise at.error(f"unknown flavor {quote(flavor)}", f"use one of {', '.join(FLAVORS)}")
    return flavor


def _api_key_env(value: Any, at: Where) -> tuple[str, ...]:
    example = 'api_key_env = "MY_API_KEY" or ["FIRST_VAR", "SECOND_VAR"]'
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise at.error(f"expected a variable name or a list of them, got {_describe(value, True)}", f"write {example}")
    if not names:
        raise at.error("is empty", f"write {example}, or remove it")
    for name in names:
        if not _ENV_NAME.fullmatch(name) or _looks_like_key(name):
            shown = mask_key(name) if len(name) >= 16 else quote(name)
            raise at.error(
                f"{shown} is not an environment variable name",
                f'write {example}; to give the key itself use api_key = "${{MY_API_KEY}}"',
            )
    return tuple(names)


def _looks_like_key(name: str) -> bool:
    """A pasted key rather than a variable name: a provider's key prefix, or long, lower-case and digits."""
    if len(name) >= 20 and name.startswith(KEY_PREFIXES):
        return True
    return len(name) >= 32 and any(c.islower() for c in name) and any(c.isdigit() for c in name)


def _api_key(value: Any, at: Where) -> str:
    key = want_str(value, at, 'api_key = "${MY_API_KEY}"', secret=True).strip()
    bare = _BARE_VAR.fullmatch(key)
    if bare:
        raise at.error(
            f"{quote(key)} looks like a variable but is not expanded", f'write api_key = "${{{bare.group(1)}}}"'
        )
    return key


def _api_key_cmd(value: Any, at: Where) -> str:
    cmd = want_str(value, at, 'api_key_cmd = "pass show groq"', secret=True)
    try:
        shlex.split(cmd)
    except ValueError as exc:
        raise at.error(f"cannot be split into words: {exc}", "check its quotes") from None
    return cmd


def _headers(value: Any, at: Where) -> Mapping[str, str]:
    example = 'headers = { "X-Title" = "Botticelli" }'
    if not isinstance(value, dict):
        raise at.error(f"expected a table, got {_describe(value, True)}", f"write {example}")
    headers: dict[str, str] = {}
    for name, header in value.items():
        where = at.child(name)
        if not _HEADER_NAME.fullmatch(name):
            raise where.error("is not a valid HTTP header name", "use letters, digits and '-'")
        if not isinstance(header, str):
            raise where.error(f"expected a string, got {_describe(header, True)}", f"write {example}")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in header if c != "\t"):
            raise where.error("contains a control character or line break", "write the value on one line")
        headers[name] = header
    return MappingProxyType(headers)


_RATE_FIELDS = ("requests_per_minute", "requests_per_day", "tokens_per_minute")
MAX_RATE_LIMIT = 1_000_000_000
"""Above any provider's published limit; a larger number is a typo."""


def _rate_limits(value: Any, at: Where) -> RateLimits:
    if not isinstance(value, dict):
        raise at.error(
            f"expected a table, got {_describe(value)}",
            "write [profiles.NAME.rate_limits] with requests_per_minute = 30",
        )
    limits: dict[str, int] = {}
    for name, limit in value.items():
        where = at.child(name)
        if name not in _RATE_FIELDS:
            raise where.error("unknown rate limit", did_you_mean(name, _RATE_FIELDS))
        limits[name] = _want_int(limit, where, f"{name} = 30", minimum=1, maximum=MAX_RATE_LIMIT)
    return RateLimits(**limits)


MAX_PRICE = 10_000.0
"""US dollars per 1M tokens: above any published price; a larger number is a typo."""
_PRICE_FIELDS = ("input", "output")


def _price(value: Any, at: Where) -> float:
    example = "input = 0.15"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise at.error(f"expected a number, got {_describe(value)}", f"write {example}")
    if not math.isfinite(value) or not 0 <= value <= MAX_PRICE:
        raise at.error(f"must be from 0 to {MAX_PRICE:,.0f} dollars per 1M tokens, got {_describe(value)}",
                       f"write {example}")
    return float(value)


def _prices(value: Any, at: Where) -> Mapping[str, tuple[float, float]]:
    example = '[profiles.NAME.prices."MODEL-ID"] with input = 0.15 and output = 0.60 (dollars per 1M tokens)'
    if not isinstance(value, dict):
        raise at.error(f"expected a table, got {_describe(value)}", f"write {example}")
    prices: dict[str, tuple[float, float]] = {}
    for model, table in value.items():
        where = at.child(model)
        if not isinstance(table, dict):
            raise where.error(f"expected a table, got {_describe(table)}", "write { input = 0.15, output = 0.60 }")
        for name in table:
            if name not in _PRICE_FIELDS:
                raise where.child(name).error("unknown price field", did_you_mean(name, _PRICE_FIELDS))
        missing = [name for name in _PRICE_FIELDS if name not in table]
        if missing:
            raise where.error(f"needs {' and '.join(missing)}", "write { input = 0.15, output = 0.60 }")
        prices[model] = (_price(table["input"], where.child("input")), _price(table["output"], where.child("output")))
    return MappingProxyType(prices)


_FIELDS: dict[str, Callable[[Any, Where], Any]] = {
    "base_url": _base_url,
    "flavor": _flavor,
    "api_key_env": _api_key_env,
    "api_key": _api_key,
    "api_key_cmd": _api_key_cmd,
    "default_model": lambda v, at: want_str(v, at, 'default_model = "llama-3.1-8b-instant"'),
    "models": lambda v, at: _want_str_list(v, at, 'models = ["llama-3.1-8b-instant"]'),
    "timeout_s": lambda v, at: _want_number(v, at, "timeout_s = 60", maximum=MAX_TIMEOUT_S),
    "connect_timeout_s": lambda v, at: _want_number(v, at, "connect_timeout_s = 10", maximum=MAX_TIMEOUT_S),
    "max_retries": lambda v, at: _want_int(v, at, "max_retries = 2", minimum=0, maximum=MAX_RETRIES),
    "total_timeout_s": lambda v, at: _want_number(v, at, "total_timeout_s = 600", maximum=MAX_TOTAL_TIMEOUT_S),
    "max_answer_mb": lambda v, at: _want_number(v, at, "max_answer_mb = 16", maximum=MAX_ANSWER_MB),
    "headers": _headers,
    "rate_limits": _rate_limits,
    "prices": _prices,
    "simulated": lambda v, at: _want_bool(v, at, "simulated = true"),
    "allow_insecure": lambda v, at: _want_bool(v, at, "allow_insecure = true"),
    "description": lambda v, at: want_str(v, at, 'description = "my server"'),
}
_TOP_LEVEL = ("default_profile", "profiles", "ui")


def _profile_from_table(name: str, table: Any, base: Profile | None, at: Where) -> Profile:
    if not isinstance(table, dict):
        raise at.error(f"expected a table, got {_describe(table, True)}", f"write [profiles.{name}] and its fields")
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = at.child(key)
        check = _FIELDS.get(key)
        if check is None:
            raise where.error("unknown profile field", did_you_mean(key, _FIELDS))
        values[key] = check(value, where)
    if base is not None:
        return replace(base, **values, source="built-in + config.toml")
    if "base_url" not in values:
        raise at.error("a new profile needs base_url", 'add base_url = "http://127.0.0.1:8000/v1"')
    return Profile(name=name, **values, source="config.toml")


def profiles_from_data(data: Mapping[str, Any], shown: str) -> dict[str, Profile]:
    top = Where(shown, "")
    for key in data:
        if key not in _TOP_LEVEL:
            raise top.child(key).error("unknown setting", did_you_mean(key, _TOP_LEVEL))
    if "ui" in data and not isinstance(data["ui"], dict):
        raise top.child("ui").error(f"expected a table, got {_describe(data['ui'])}", "write [ui]")
    profiles = builtin_profiles()
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise top.child("profiles").error(
            f"expected a table, got {_describe(tables)}", "write [profiles.NAME] sections"
        )
    for name, table in tables.items():
        at = top.child("profiles").child(name)
        if not _PROFILE_NAME.fullmatch(name):
            raise at.error(
                "is not a usable profile name", "use letters, digits, '-', '_' and '.', e.g. [profiles.my-server]"
            )
        profiles[name] = _profile_from_table(name, table, profiles.get(name), at)
    return profiles


def plain_text_secret(profile: Profile) -> tuple[str, str] | None:
    """(field, what) for a secret written in clear in the file, e.g. ("api_key", "api_key"), or None."""
    if profile.api_key and not VAR_REF.fullmatch(profile.api_key):
        return "api_key", "api_key"
    for name in profile.headers:
        if name.lower() in _SECRET_HEADERS:
            return f"headers.{key_part(name)}", f"{name} header"
    return None

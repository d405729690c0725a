"""API keys: where a profile's key comes from, resolving it, checking it, and where it may be sent.

The precedence (`api_key`, literal or `${VAR}` → `api_key_cmd` → the first set `api_key_env` variable) is coded
once, in `key_source`; `key_status`, `has_key` and `resolve_api_key` all follow it. Keys are resolved only when
a request is about to be made, checked before any request (a control or non-ASCII character is refused, exit 3),
never printed, and only sent over https (or to loopback) under their own profile's base URL.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from botticelli.config.errors import ConfigError, KeySourceError
from botticelli.config.profile import VAR_REF, Profile, or_list
from botticelli.safety import install_redaction, mask_key

KEY_CMD_TIMEOUT_S = 10.0
_DEFAULT_PORTS = {"http": 80, "https": 443}

SourceKind = Literal["none", "config", "variable", "command", "env"]


@dataclass(frozen=True)
class KeySource:
    """Where a profile's key comes from, by precedence; `value` is None when unset or still to be run."""

    kind: SourceKind
    """`none` (no key needed), `config` (a literal api_key), `variable` (`${VAR}`), `command`, `env`."""
    name: str
    """For messages: `GROQ_API_KEY`, `${VAR}`, `api_key in config.toml`, `api_key_cmd`; the variables tried."""
    value: str | None


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def key_source(profile: Profile, env: Mapping[str, str] | None = None) -> KeySource:
    """The one place the precedence is coded: `api_key` (literal or `${VAR}`), `api_key_cmd`, `api_key_env`.

    Never runs `api_key_cmd`: a command source has `value` None.
    """
    env = os.environ if env is None else env
    if not profile.needs_key:
        return KeySource("none", "", None)
    if profile.api_key:
        ref = VAR_REF.fullmatch(profile.api_key)
        if ref:
            return KeySource("variable", f"${{{ref.group(1)}}}", _env_value(env, ref.group(1)))
        return KeySource("config", "api_key in config.toml", profile.api_key)
    if profile.api_key_cmd:
        return KeySource("command", "api_key_cmd", None)
    for name in profile.api_key_env:
        value = _env_value(env, name)
        if value:
            return KeySource("env", name, value)
    return KeySource("env", or_list(profile.api_key_env), None)


def key_problem(key: str) -> str | None:
    """What makes `key` unusable in an HTTP header, never quoting it: a line break, a control or non-ASCII
    character; None when it is fine."""
    if "\n" in key or "\r" in key:
        return "contains a line break (a control character)"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return "contains a control character"
    if not key.isascii():
        return "contains a non-ASCII character"
    return None


@dataclass(frozen=True)
class KeyStatus:
    """Where a profile's key comes from and whether it is there, without revealing it (commands are not run)."""

    needed: bool
    present: bool | None
    """True/False; None when the key comes from `api_key_cmd`, which is only run when the key is used."""
    source: str
    """`GROQ_API_KEY`, `${VAR}`, `api_key in config.toml, gsk_…abcd`, `api_key_cmd`, or "" when not needed."""
    hint: str
    problem: str | None = None
    """Why a present key cannot be used (`contains a line break`), or None."""

    def describe(self) -> str:
        """`set (GROQ_API_KEY)`, `missing: set GROQ_API_KEY`, `not needed` or `from api_key_cmd (not run)`."""
        if not self.needed:
            return "not needed"
        if self.present is None:
            return f"from {self.source} (not run)"
        if self.problem:
            return f"unusable ({self.source}): {self.problem}"
        return f"set ({self.source})" if self.present else f"missing: {self.hint}"


def key_status(profile: Profile, env: Mapping[str, str] | None = None) -> KeyStatus:
    """Where the key would come from and whether it is there and well formed (`key_source`'s precedence)."""
    hint = profile.missing_key_hint()
    source = key_source(profile, env)
    if source.kind == "none":
        return KeyStatus(needed=False, present=False, source="", hint=hint)
    if source.kind == "command":
        return KeyStatus(True, None, source.name, hint)
    present = source.value is not None
    shown = f"{source.name}, {mask_key(source.value)}" if source.kind == "config" and present else source.name
    problem = key_problem(source.value) if source.value is not None else None
    if problem:
        shown = source.name
    return KeyStatus(True, present, shown, hint, problem)


def has_key(profile: Profile, env: Mapping[str, str] | None = None) -> bool:
    """True when the profile needs no key or one can be found (an `api_key_cmd` counts as present).

    A malformed key counts as found: using it fails before any request with the message that says what is
    wrong with it (`resolve_api_key`), rather than a misleading "set GROQ_API_KEY".
    """
    status = key_status(profile, env)
    return not status.needed or status.present is not False


def resolve_api_key(
    profile: Profile, env: Mapping[str, str] | None = None, *, cmd_timeout_s: float = KEY_CMD_TIMEOUT_S
) -> str | None:
    """The profile's key, following `key_source`'s precedence; None when it needs none or none is set.

    Raises KeySourceError (exit 3) when the named source fails (`${VAR}` unset, `api_key_cmd` failing) or the
    key has a control or non-ASCII character: such a key is refused before any request.
    """
    env = os.environ if env is None else env
    source = key_source(profile, env)
    value = source.value
    if source.kind == "command":
        value = _run_key_command(profile, env, cmd_timeout_s)
    elif source.kind == "variable" and value is None:
        var = source.name[2:-1]
        raise KeySourceError(
            profile.name,
            f"api_key refers to {source.name}, which is not set",
            hint=f"set {var} or change api_key in config.toml",
        )
    if value is None:
        return None
    problem = key_problem(value)
    if problem:
        install_redaction([value])  # should anything ever log it, in any of its escaped forms
        raise KeySourceError(
            profile.name,
            f"the API key from {source.name} {problem}",
            hint=_malformed_key_fix(profile, source),
            code="invalid_api_key",
        )
    return value


def _malformed_key_fix(profile: Profile, source: KeySource) -> str:
    if source.kind == "command":
        return f"make api_key_cmd for [profiles.{profile.name}] print only the key"
    if source.kind == "config":
        return f"correct api_key for [profiles.{profile.name}] in config.toml"
    return f"set {source.name[2:-1] if source.kind == 'variable' else source.name} again, to the key alone"


def _run_key_command(profile: Profile, env: Mapping[str, str], timeout_s: float) -> str:
    """Run `api_key_cmd`; its output may be secret, so no error message ever includes it."""
    argv = shlex.split(profile.api_key_cmd or "")
    fix = f"run it yourself to see why, or fix api_key_cmd for [profiles.{profile.name}]"

    def failed(what: str) -> KeySourceError:
        return KeySourceError(profile.name, f"api_key_cmd{what}", hint=fix)

    if not argv:
        raise failed(" is empty")
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            env={**os.environ, **env},
            check=False,
        )
    except FileNotFoundError:
        raise failed(f": command not found: {json.dumps(argv[0])}") from None
    except subprocess.TimeoutExpired:
        raise failed(f" did not finish within {timeout_s:g} s") from None
    except OSError as exc:
        raise failed(f" could not be started: {exc.strerror or type(exc).__name__}") from None
    if done.returncode != 0:
        raise failed(f" failed with exit status {done.returncode}")
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise failed(" printed nothing")
    return key


def is_loopback_host(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").rstrip("."), port


def check_key_destination(profile: Profile, key: str | None, url: str | None = None) -> None:
    """Refuse to send `key` anywhere but over https (or to loopback) under the profile's own base_url.

    `url` is the request URL (default: the base URL). Plain http to another host needs `allow_insecure`.
    """
    if not key or profile.simulated:
        return
    base = urlsplit(profile.base_url)
    target = urlsplit(url) if url else base
    if url is not None:
        same_origin = _origin(target) == _origin(base)
        base_path = base.path.rstrip("/")
        if not same_origin or not (target.path == base_path or target.path.startswith(base_path + "/")):
            raise ConfigError(
                f"profile {profile.name}: refusing to send its API key to {target.scheme}://{target.netloc}"
                f"{target.path}, outside its base_url {profile.base_url}",
                hint="keys go only to their own profile",
            )
    host = target.hostname or ""
    if target.scheme == "https" or (target.scheme == "http" and (is_loopback_host(host) or profile.allow_insecure)):
        return
    raise ConfigError(
        f"profile {profile.name}: would send the API key unencrypted to {target.scheme}://{target.netloc}",
        hint=f"use https or set allow_insecure = true in [profiles.{profile.name}]",
    )

"""API keys: where a profile's key comes from, resolving it, and where it may be sent.

Keys are resolved only when a request is about to be made, never printed, and only sent over https (or to
loopback) under their own profile's base URL.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from botticelli.profile import VAR_REF, ConfigError, Profile, or_list
from botticelli.safety import mask_key

KEY_CMD_TIMEOUT_S = 10.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class KeyStatus:
    """Where a profile's key comes from and whether it is there, without revealing it (commands are not run)."""

    needed: bool
    present: bool | None
    """True/False; None when the key comes from `api_key_cmd`, which is only run when the key is used."""
    source: str
    """`GROQ_API_KEY`, `${VAR}`, `api_key in config.toml, gsk_…abcd`, `api_key_cmd`, or "" when not needed."""
    hint: str

    def describe(self) -> str:
        """`set (GROQ_API_KEY)`, `missing: set GROQ_API_KEY`, `not needed` or `from api_key_cmd (not run)`."""
        if not self.needed:
            return "not needed"
        if self.present is None:
            return f"from {self.source} (not run)"
        return f"set ({self.source})" if self.present else f"missing: {self.hint}"


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def key_status(profile: Profile, env: Mapping[str, str] | None = None) -> KeyStatus:
    """Where the key would come from and whether it is there, following `resolve_api_key`'s precedence."""
    env = os.environ if env is None else env
    hint = profile.missing_key_hint()
    if not profile.needs_key:
        return KeyStatus(needed=False, present=False, source="", hint=hint)
    if profile.api_key:
        ref = VAR_REF.fullmatch(profile.api_key)
        if ref:
            return KeyStatus(True, _env_value(env, ref.group(1)) is not None, f"${{{ref.group(1)}}}", hint)
        return KeyStatus(True, True, f"api_key in config.toml, {mask_key(profile.api_key)}", hint)
    if profile.api_key_cmd:
        return KeyStatus(True, None, "api_key_cmd", hint)
    for name in profile.api_key_env:
        if _env_value(env, name):
            return KeyStatus(True, True, name, hint)
    return KeyStatus(True, False, or_list(profile.api_key_env), hint)


def key_source_hint(profile: Profile, env: Mapping[str, str] | None = None) -> str:
    """One phrase for where the key comes from, never the key: `set (GROQ_API_KEY)`, `missing: set HF_TOKEN ...`."""
    return key_status(profile, env).describe()


def resolve_api_key(
    profile: Profile, env: Mapping[str, str] | None = None, *, cmd_timeout_s: float = KEY_CMD_TIMEOUT_S
) -> str | None:
    """The profile's key: `api_key` (literal or `${VAR}`), else `api_key_cmd`'s output, else the first set
    variable of `api_key_env`; None when there is none. Raises ConfigError when a named source fails.
    """
    env = os.environ if env is None else env
    if profile.simulated:
        return None
    if profile.api_key:
        ref = VAR_REF.fullmatch(profile.api_key)
        if not ref:
            return profile.api_key
        value = _env_value(env, ref.group(1))
        if value is None:
            raise ConfigError(
                f"profile {profile.name}: api_key refers to ${{{ref.group(1)}}}, which is not set "
                f"(set {ref.group(1)} or change api_key in config.toml)"
            )
        return value
    if profile.api_key_cmd:
        return _run_key_command(profile, env, cmd_timeout_s)
    for name in profile.api_key_env:
        value = _env_value(env, name)
        if value:
            return value
    return None


def _run_key_command(profile: Profile, env: Mapping[str, str], timeout_s: float) -> str:
    """Run `api_key_cmd`; its output may be secret, so no error message ever includes it."""
    argv = shlex.split(profile.api_key_cmd or "")
    where = f"profile {profile.name}: api_key_cmd"
    fix = f"run it yourself to see why, or fix api_key_cmd for [profiles.{profile.name}]"
    if not argv:
        raise ConfigError(f"{where} is empty ({fix})")
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
        raise ConfigError(f"{where}: command not found: {json.dumps(argv[0])} ({fix})") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{where} did not finish within {timeout_s:g} s ({fix})") from None
    except OSError as exc:
        raise ConfigError(f"{where} could not be started: {exc.strerror or type(exc).__name__} ({fix})") from None
    if done.returncode != 0:
        raise ConfigError(f"{where} failed with exit status {done.returncode} ({fix})")
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise ConfigError(f"{where} printed nothing ({fix})")
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
                f"{target.path}, outside its base_url {profile.base_url} (keys go only to their own profile)"
            )
    host = target.hostname or ""
    if target.scheme == "https" or (target.scheme == "http" and (is_loopback_host(host) or profile.allow_insecure)):
        return
    raise ConfigError(
        f"profile {profile.name}: would send the API key unencrypted to {target.scheme}://{target.netloc} "
        f"(use https or set allow_insecure = true in [profiles.{profile.name}])"
    )

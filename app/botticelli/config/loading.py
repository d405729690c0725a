"""Loading and saving `config.toml`: built-in profiles merged with the file, and the default profile.

`load_config` never writes the file; `save_config` writes it atomically with mode 0600.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from botticelli import paths
from botticelli.config.errors import ConfigError
from botticelli.config.keys import key_status
from botticelli.config.profile import BUILTIN_PROFILES, DEMO_PROFILE, Profile
from botticelli.config.schema import (
    Where,
    did_you_mean,
    display_path,
    key_part,
    plain_text_secret,
    profiles_from_data,
    quote,
    read_toml,
    want_str,
)

DEFAULT_ORDER = ("groq", "huggingface", "openai", "together", "openrouter")
"""Built-ins tried, in this order, for the default profile when the file names none."""


@dataclass
class Config:
    """The effective configuration: built-in profiles merged with the file."""

    path: Path
    profiles: dict[str, Profile]
    default_profile: str
    exists: bool = False
    """Whether the file was there; without it only the built-ins exist."""
    ui: dict[str, Any] = field(default_factory=dict)
    """The free-form `[ui]` table the TUI keeps its preferences in."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The file's parsed contents, for a read-modify-`save_config` cycle."""

    @property
    def default(self) -> Profile:
        return self.profiles[self.default_profile]

    def profile(self, name: str | None = None) -> Profile:
        """The named profile (None: the default one), or a ConfigError naming the closest or the known ones."""
        chosen = name or self.default_profile
        try:
            return self.profiles[chosen]
        except KeyError:
            raise ConfigError(
                f"unknown profile {quote(chosen)}",
                hint=f"known: {', '.join(sorted(self.profiles))}; add one to {self.path}",
            ) from None


def _check_permissions(path: Path, profiles: Mapping[str, Profile], shown: str) -> None:
    """Refuse, like CPython's netrc, a file holding a secret that others may read."""
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    for profile in profiles.values():
        secret = plain_text_secret(profile)
        if secret:
            where, what = secret
            raise ConfigError(
                f"{shown}: profiles.{key_part(profile.name)}.{where}: the file contains a plain-text {what} "
                "but is readable by others",
                hint=f"run: chmod 600 {shown}",
            )


def _choose_default(
    data: Mapping[str, Any], profiles: Mapping[str, Profile], env: Mapping[str, str], shown: str
) -> str:
    if "default_profile" in data:
        at = Where(shown, "default_profile")
        name = want_str(data["default_profile"], at, 'default_profile = "groq"')
        if name not in profiles:
            raise at.error(
                f"no profile named {quote(name)}",
                did_you_mean(name, profiles),
            )
        return name
    builtin_names = {p.name for p in BUILTIN_PROFILES}
    candidates = [*DEFAULT_ORDER, *(n for n in profiles if n not in builtin_names)]
    for name in candidates:
        status = key_status(profiles[name], env)
        if status.needed and status.present is not False:
            return name
    return DEMO_PROFILE


def read_config_data(path: Path | None = None) -> dict[str, Any]:
    """The file's parsed TOML ({} when it does not exist), not validated; for read-modify-save."""
    path = path or paths.config_file()
    return read_toml(path) if path.exists() else {}


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Built-in profiles merged with `config.toml` (a missing file means built-ins only).

    Raises ConfigError with a one-line message for any problem. Never writes the file.
    """
    path = path or paths.config_file()
    env = os.environ if env is None else env
    shown = display_path(path)
    exists = path.exists()
    data = read_toml(path) if exists else {}
    profiles = profiles_from_data(data, shown)
    if exists:
        _check_permissions(path, profiles, shown)
    default = _choose_default(data, profiles, env, shown)
    return Config(
        path=path,
        profiles=profiles,
        default_profile=default,
        exists=exists,
        ui=dict(data.get("ui", {})),
        raw=data,
    )


def save_config(data: Mapping[str, Any], path: Path | None = None) -> None:
    """Write `data` as the TOML file, atomically and readable by the owner only (0600).

    The data is validated first, so a bad value raises ConfigError and leaves the old file as it was.
    Comments in the old file are not kept.
    """
    path = path or paths.config_file()
    if path.is_symlink():
        path = path.resolve()
    shown = display_path(path)
    profiles_from_data(data, shown)
    try:
        text = tomli_w.dumps(dict(data))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{shown}: cannot be written as TOML: {exc}", hint="use strings, numbers, lists and tables"
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def parse_target(text: str) -> tuple[str, str]:
    """`PROFILE:MODEL`, split at the first colon: `huggingface:org/m:novita` -> (`huggingface`, `org/m:novita`).

    Raises ConfigError when either part is missing.
    """
    profile, sep, model = text.partition(":")
    if not sep or not profile.strip() or not model.strip():
        raise ConfigError(f"expected PROFILE:MODEL, got {quote(text)}", hint="e.g. groq:llama-3.1-8b-instant")
    return profile.strip(), model.strip()

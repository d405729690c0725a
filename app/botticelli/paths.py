"""Where Botticelli keeps its files: platformdirs locations, overridable by environment variables."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs

APP_NAME = "botticelli"
CONFIG_DIR_ENV = "BOTTICELLI_CONFIG_DIR"
DATA_DIR_ENV = "BOTTICELLI_DATA_DIR"


def config_dir() -> Path:
    """The folder holding `config.toml` (`BOTTICELLI_CONFIG_DIR` overrides)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    """The folder holding the sessions database (`BOTTICELLI_DATA_DIR` overrides)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))


def sessions_db() -> Path:
    return data_dir() / "sessions.db"


def screenshot_folders() -> list[Path]:
    """Where a TUI screenshot may go, best first: the user's Downloads folder if it exists (many servers have
    none), then `screenshots/` in the data folder (created when used)."""
    downloads = platformdirs.user_downloads_path()
    return [*([downloads] if downloads.is_dir() else []), data_dir() / "screenshots"]


def screenshot_name(now: datetime | None = None) -> str:
    """`botticelli-2026-12-04_17-30-05.svg`: sorts by time, no characters that need quoting."""
    return f"{APP_NAME}-{(now or datetime.now()):%Y-%m-%d_%H-%M-%S}.svg"


def save_screenshot(svg: str, folders: list[Path] | None = None, name: str | None = None) -> Path:
    """Write `svg` into the first folder that takes it (see `screenshot_folders`); the file's path.
    Raises OSError, naming every folder tried, if none does."""
    name = name or screenshot_name()
    problems: list[str] = []
    for folder in folders if folders is not None else screenshot_folders():
        target = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(svg, encoding="utf-8")
        except OSError as error:
            problems.append(f"{folder}: {error.strerror or error}")
            continue
        return target
    raise OSError("; ".join(problems) or "no folder to save in")

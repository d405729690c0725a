"""Where Botticelli keeps its files: platformdirs locations, overridable by environment variables."""

from __future__ import annotations

import os
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

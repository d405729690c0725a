"""Shared test setup: every test runs with its own config and data folders and no provider keys."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recorded"  # copied from shared/fixtures
KEY_VARS = (
    "GROQ_API_KEY",
    "HF_TOKEN",
    "HUGGINGFACE_API_KEY",
    "OPENAI_API_KEY",
    "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY",
)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """Point config and data at a temp folder; drop real keys unless the test is marked live."""
    monkeypatch.setenv("BOTTICELLI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("BOTTICELLI_DATA_DIR", str(tmp_path / "data"))
    if request.node.get_closest_marker("live") is None:
        for name in KEY_VARS:
            monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES

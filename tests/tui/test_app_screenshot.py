"""Palette → Screenshot: saved in Downloads when it exists, else in the data folder's screenshots/ (item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList

from botticelli import paths
from botticelli.tui.app import BotticelliApp

from .app_helpers import wait_until, when_ready

SIZE = (100, 30)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder without Downloads (as on most servers) and without a user-dirs.dirs."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return home


async def screenshot_from_palette(app: BotticelliApp, folder: Path) -> Path:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await when_ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Screenshot")
        hits = lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count  # noqa: E731
        await wait_until(pilot, hits, "the palette's hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: list(folder.glob("*.svg")), f"a screenshot in {folder}")
        [saved] = folder.glob("*.svg")
        await wait_until(pilot, lambda: any(str(saved) in n.message for n in app._notifications), "the toast")
    assert saved.read_text(encoding="utf-8").lstrip().startswith("<svg")
    return saved


async def test_without_downloads_the_screenshot_goes_to_the_data_folder(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "screenshots"
    assert not folder.exists()
    saved = await screenshot_from_palette(BotticelliApp(), folder)
    assert saved.parent == folder and not (home / "Downloads").exists()


async def test_with_downloads_the_screenshot_goes_there(home: Path) -> None:
    (home / "Downloads").mkdir()
    saved = await screenshot_from_palette(BotticelliApp(), home / "Downloads")
    assert saved.name.startswith("botticelli-") and saved.suffix == ".svg"


def test_a_folder_that_refuses_the_file_falls_back_and_none_is_one_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "Downloads"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    saved = paths.save_screenshot("<svg/>", [blocked, tmp_path / "screenshots"], "shot.svg")
    assert saved == tmp_path / "screenshots" / "shot.svg" and saved.read_text(encoding="utf-8") == "<svg/>"
    with pytest.raises(OSError, match="Downloads"):
        paths.save_screenshot("<svg/>", [blocked], "shot.svg")

"""TUI tests never reach the desktop's clipboard: no X11 or Wayland display is visible to them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_desktop_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)

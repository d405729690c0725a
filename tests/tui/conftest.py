"""TUI tests never reach the desktop's clipboard (no X11 or Wayland display is visible to them), and the
built-in ollama profile reads as not running whatever runs on this machine's port 11434 (the pictures stay
the same everywhere; the picker's own tests use real sockets on other ports)."""

from __future__ import annotations

import pytest

from botticelli import reachability

OLLAMA = ("localhost", 11434)


@pytest.fixture(autouse=True)
def no_desktop_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def ollama_not_running(monkeypatch: pytest.MonkeyPatch) -> None:
    real = reachability.probe

    def probe(host: str, port: int, timeout: float = reachability.TIMEOUT_S) -> reachability.Reach:
        if (host, port) == OLLAMA:
            return reachability.Reach(False, "not running")
        return real(host, port, timeout)

    reachability.forget()
    monkeypatch.setattr(reachability, "probe", probe)

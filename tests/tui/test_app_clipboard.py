"""ctrl+y / ctrl+k: the system clipboard tool when there is one, and a toast that says what really happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from botticelli.tui.app import BotticelliApp
from helpers_clipboard import fake_tool

from .app_helpers import log_of, send, wait_until

SIZE = (120, 36)


def toasts(app: BotticelliApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_ctrl_y_uses_xclip_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "xclip")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    app = BotticelliApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "show me some code")
        await pilot.press("ctrl+y")
        answer = app.chat.exchanges[-1].answer
        await wait_until(pilot, lambda: any("with xclip" in t for t in toasts(app)), "the xclip toast")
        assert (bin_dir / "xclip.out").read_text(encoding="utf-8") == answer
        assert app.clipboard == answer  # and the terminal's clipboard (OSC 52)
        await pilot.press("ctrl+k")
        code = log_of(app).last_code_block()
        await wait_until(pilot, lambda: any(t.startswith("Copied the last code block") for t in toasts(app)),
                         "the code toast")
        assert code and (bin_dir / "xclip.out").read_text(encoding="utf-8") == code


async def test_without_a_tool_the_toast_does_not_claim_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing in it
    app = BotticelliApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "hello")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any("OSC 52" in t for t in toasts(app)), "the OSC 52 toast")
        assert not any(t.startswith("Copied") for t in toasts(app))
        assert app.clipboard == app.chat.exchanges[-1].answer

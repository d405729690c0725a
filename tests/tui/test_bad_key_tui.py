"""A malformed key in the TUI: the answer fails inline saying what is wrong with the key, never showing it."""

from __future__ import annotations

import pytest

from botticelli.tui.app import BotticelliApp

from .app_helpers import last_message, prompt_of, send

KEY = "gsk_BADKEYsecret1234567890\nx"


async def test_a_key_with_a_line_break_fails_inline_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    app = BotticelliApp(profile="groq")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        exchange = app.chat.exchanges[-1]
        assert exchange.error is not None and (exchange.error.kind, exchange.error.code) == ("auth", "invalid_api_key")
        message = last_message(app)
        assert message is not None and "GROQ_API_KEY contains a line break" in (message.error or "")
        assert prompt_of(app).text == "hello"
        shown = [message.error or "", *(n.message for n in app._notifications)]
        assert not any("BADKEYsecret" in text for text in shown)

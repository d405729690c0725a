"""Every provider error shows inline where the answer would be, with a notification; the prompt is never lost."""

from __future__ import annotations

import pytest

from botticelli.config import load_config
from botticelli.providers.errors import ERROR_KINDS
from botticelli.tui.app import BotticelliApp
from botticelli.tui.widgets.stats_bar import StatsBar

from .app_helpers import last_message, log_of, prompt_of, send, wait_until

SIZE = (120, 40)

BEFORE_ANSWER = [
    ("[[fault:401]] hello", "auth", "HTTP 401"),
    ("[[fault:429 retry_after=31]] hello", "rate_limit", "HTTP 429"),
    ("[[fault:404]] hello", "model_not_found", "HTTP 404"),
    ("[[fault:context_length]] hello", "invalid_request", "HTTP 400"),
    ("[[fault:500 times=3]] hello", "server", "HTTP 500"),
]
MID_STREAM = [
    ("[[fault:cut after=5]] hello", "network", "stream_cut"),
    ("[[fault:malformed after=5]] hello", "protocol", "malformed"),
]


@pytest.mark.parametrize(("prompt", "kind", "summary"), BEFORE_ANSWER, ids=[k for _, k, _ in BEFORE_ANSWER])
async def test_error_before_the_answer_is_inline_and_the_prompt_is_back(prompt: str, kind: str, summary: str) -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, prompt)
        exchange = app.chat.exchanges[-1]
        assert exchange.error is not None and exchange.error.kind == kind
        message = last_message(app)
        assert message is not None and message.role == "assistant"
        assert message.error and summary in message.error
        assert exchange.error.hint.split("(")[0].strip() in message.error
        assert [m.role for m in log_of(app).messages] == ["user", "assistant"]
        assert log_of(app).messages[0].text == prompt
        assert prompt_of(app).text == prompt
        stats = app.chat.query_one(StatsBar)
        assert stats.state == "error" and kind.replace("_", " ") in stats.render_content().plain
        notification = list(app._notifications)[-1]
        assert notification.severity == "error" and not notification.markup
        # A failed exchange adds nothing to what the next request carries.
        assert exchange.wire() == []


async def test_rate_limit_shows_the_wait() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[fault:429 retry_after=31]] hello")
        message = last_message(app)
        assert message is not None and "31s" in (message.error or "")


@pytest.mark.parametrize(("prompt", "kind", "code"), MID_STREAM, ids=[k for _, k, _ in MID_STREAM])
async def test_error_mid_stream_keeps_the_partial_answer(prompt: str, kind: str, code: str) -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, prompt)
        exchange = app.chat.exchanges[-1]
        assert exchange.error is not None and exchange.error.kind == kind
        assert code in (exchange.error.code or "")
        message = last_message(app)
        assert message is not None and message.error and message.text == exchange.answer != ""
        # The answer had started, so the prompt stays in the transcript and history rather than the input.
        assert prompt_of(app).text == ""
        assert prompt_of(app).prompt_history[-1] == prompt


async def test_every_error_kind_is_covered() -> None:
    covered = {kind for _, kind, _ in BEFORE_ANSWER + MID_STREAM}
    assert covered == set(ERROR_KINDS)


async def test_profile_without_key_fails_inline_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    app = BotticelliApp(profile="groq")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("GROQ_API_KEY" in n.message for n in app._notifications)
        assert "GROQ_API_KEY" in str(app.chat.hint.render())
        await send(pilot, "hello")
        message = last_message(app)
        assert message is not None and "GROQ_API_KEY" in (message.error or "")
        assert prompt_of(app).text == "hello"


async def test_an_unreachable_server_is_a_network_error(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.local]\nbase_url = "http://127.0.0.1:9/v1"\ndefault_model = "m"\nmax_retries = 0\n'
        "connect_timeout_s = 2\n",
        encoding="utf-8",
    )
    app = BotticelliApp(load_config(path), profile="local")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "anyone there?")
        exchange = app.chat.exchanges[-1]
        assert exchange.error is not None and exchange.error.kind == "network"
        assert prompt_of(app).text == "anyone there?"


async def test_unexpected_exception_is_shown_not_raised() -> None:
    def broken_factory(profile):
        raise RuntimeError("boom [bold]x[/]")

    app = BotticelliApp(client_factory=broken_factory)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        message = last_message(app)
        assert message is not None and "boom [bold]x[/]" in (message.error or "")
        assert prompt_of(app).text == "hello"
        await wait_until(pilot, lambda: app.is_running, "the app to keep running")

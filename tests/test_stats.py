"""Speed figures with a fake clock: one definition everywhere (docs/ARCHITECTURE.md), estimates marked."""

from __future__ import annotations

import httpx
import pytest

from botticelli.providers.errors import NetworkError
from botticelli.providers.types import ContentDelta, ReasoningDelta, Usage, UsageUpdate
from botticelli.stats import DEFAULT_CHARS_PER_TOKEN, SpeedFigures, SpeedMeter, TokenRatios
from helpers_client import (
    FIXTURES,
    FakeClock,
    Server,
    chat_request,
    fixture_headers,
    make_client,
    response,
    split_events,
)


def test_figures_from_a_fake_clock() -> None:
    clock = FakeClock(10.0)
    meter = SpeedMeter(clock=clock)
    meter.request_sent()  # t = 10.0
    clock.advance(0.25)
    meter.on_text("Hello")  # first token at 10.25
    for _ in range(9):
        clock.advance(0.01)
        meter.on_text(" x")  # last at 10.34
    meter.on_usage(Usage(prompt_tokens=5, completion_tokens=10, total_tokens=15, queue_time=0.02,
                         completion_time=0.005))
    clock.advance(0.06)
    figures = meter.finish()  # t = 10.40
    assert figures.ttft_s == pytest.approx(0.25)
    assert figures.total_s == pytest.approx(0.40)
    assert figures.completion_tokens == 10
    assert figures.tokens_exact is True
    assert figures.decode_tps == pytest.approx((10 - 1) / 0.09)  # 100 tok/s, TTFT excluded
    assert figures.e2e_tps == pytest.approx(10 / 0.34)
    assert figures.server_tps == pytest.approx(10 / 0.005)
    assert figures.queue_s == pytest.approx(0.02)
    assert figures.tokens_label() == "10"
    # finishing later does not move the token timings
    clock.advance(5)
    assert meter.figures().decode_tps == pytest.approx(100.0)
    assert meter.figures().total_s == pytest.approx(0.40)


def test_estimate_before_usage_then_exact_after() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(1.0)
    meter.on_text("abcdefgh")  # 8 chars
    clock.advance(1.0)
    meter.on_text("ijklmnop")  # 16 chars: ~4 tokens at 4 chars per token
    live = meter.figures()
    assert live.tokens_exact is False
    assert live.completion_tokens == 4
    assert live.tokens_label() == "~4"
    assert live.decode_tps == pytest.approx((4 - 1) / 1.0)
    meter.on_usage(Usage(completion_tokens=7))
    exact = meter.figures()
    assert exact.tokens_exact is True
    assert exact.completion_tokens == 7
    assert exact.tokens_label() == "7"
    assert exact.decode_tps == pytest.approx((7 - 1) / 1.0)
    assert exact.server_tps is None  # no completion_time from this provider


def test_usage_without_completion_tokens_stays_an_estimate() -> None:
    meter = SpeedMeter(clock=FakeClock())
    meter.request_sent()
    meter.on_text("abcd")
    meter.on_usage(Usage(prompt_tokens=3))
    assert meter.figures().tokens_exact is False
    assert meter.figures().tokens_label() == "~1"


def test_empty_deltas_do_not_start_the_clock() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(0.1)
    meter.on_text("")  # the role-only first chunk
    clock.advance(0.4)
    meter.on_text("First")
    assert meter.figures().ttft_s == pytest.approx(0.5)
    assert meter.deltas == 1


def test_nothing_received_has_no_speeds() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(2)
    figures = meter.finish()
    assert figures.ttft_s is None
    assert figures.completion_tokens is None
    assert figures.decode_tps is None and figures.e2e_tps is None
    assert figures.tokens_label() == "—"
    assert figures.total_s == pytest.approx(2.0)


def test_single_token_has_no_decode_speed() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(0.2)
    meter.on_text("Paris")
    meter.on_usage(Usage(completion_tokens=1))
    figures = meter.finish()
    assert figures.decode_tps is None
    assert figures.e2e_tps == pytest.approx(1 / 0.2)


def test_a_batch_too_short_to_time_has_no_decode_speed() -> None:
    """Tokens that arrive together (a cut stream, a proxy's buffer) would give an absurd rate: none is shown."""
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(0.2)
    for _ in range(6):
        meter.on_text("word ")
        clock.advance(0.0005)
    meter.on_usage(Usage(completion_tokens=6))
    figures = meter.finish()
    assert figures.decode_tps is None
    assert figures.e2e_tps is not None and figures.ttft_s == pytest.approx(0.2)


def test_a_new_request_resets_the_meter() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(1)
    meter.on_text("old")
    meter.on_usage(Usage(completion_tokens=1))
    clock.advance(1)
    meter.request_sent()  # a retry
    assert meter.figures().ttft_s is None
    assert meter.usage is None and meter.chars == 0


def test_live_decode_speed_is_measured_to_now() -> None:
    clock = FakeClock()
    meter = SpeedMeter(clock=clock)
    meter.request_sent()
    clock.advance(0.5)
    meter.on_text("a" * 4)
    clock.advance(1.0)
    meter.on_text("b" * 36)  # 40 chars ~ 10 tokens
    clock.advance(1.0)  # nothing for a second: the live speed falls
    live = meter.live()
    assert live.tokens_exact is False
    assert live.decode_tps == pytest.approx((10 - 1) / 2.0)


def test_speed_figures_round_trip() -> None:
    figures = SpeedFigures(ttft_s=0.2, total_s=0.3, completion_tokens=8, tokens_exact=True, decode_tps=840.0,
                           e2e_tps=32.0, server_tps=1000.0, queue_s=0.17)
    assert SpeedFigures.from_dict(figures.to_dict()) == figures
    assert set(figures.to_dict()) == {"ttft_s", "total_s", "completion_tokens", "tokens_exact", "decode_tps",
                                      "e2e_tps", "server_tps", "queue_s"}


def test_token_ratios_ema() -> None:
    ratios = TokenRatios(alpha=0.3)
    key = ("groq", "m")
    assert ratios.get(key) == DEFAULT_CHARS_PER_TOKEN == 4.0
    ratios.learn(key, chars=50, tokens=10)  # first observation taken as is
    assert ratios.get(key) == pytest.approx(5.0)
    ratios.learn(key, chars=30, tokens=10)  # 3.0 observed: 5 + 0.3 * (3 - 5)
    assert ratios.get(key) == pytest.approx(4.4)
    ratios.learn(key, chars=0, tokens=10)  # nothing to learn from
    ratios.learn(key, chars=10, tokens=0)
    assert ratios.get(key) == pytest.approx(4.4)
    assert ratios.get(("groq", "other")) == 4.0  # per model
    assert ratios.get(("hf", "m")) == 4.0  # and per profile


# ---------------------------------------------------------------------------------------------------------
# Through the client: a recorded stream, a clock moved as the chunks arrive
# ---------------------------------------------------------------------------------------------------------


def timed_fixture(name: str, clock: FakeClock, first_at: float, step: float):  # type: ignore[no-untyped-def]
    """The fixture, one event per chunk; chunk i arrives at first_at + i * step."""
    raw = (FIXTURES / name).read_bytes()
    status, headers = fixture_headers(name)

    def tick(i: int) -> None:
        clock.now = first_at + i * step

    return response(status or 200, headers=headers or [("content-type", "text/event-stream")],
                    chunks=split_events(raw), on_chunk=tick)


async def test_groq_stream_figures_through_the_client() -> None:
    """groq_stream_basic: chunk 0 is the empty role chunk (t=0.25), "The".."!" are chunks 1-8 (t=0.26..0.33)."""
    clock = FakeClock(0.0)
    server = Server(timed_fixture("groq_stream_basic.sse", clock, first_at=0.25, step=0.01))
    client, _ = make_client(server, clock=clock)
    seen_estimate = None
    async with client, client.stream(chat_request()) as stream:
        async for event in stream:
            if isinstance(event, ContentDelta) and event.text == " Thursday":
                seen_estimate = stream.figures()
    assert seen_estimate is not None
    assert seen_estimate.tokens_exact is False
    assert seen_estimate.tokens_label().startswith("~")
    figures = stream.figures()
    assert figures.tokens_exact is True
    assert figures.completion_tokens == 8
    assert figures.ttft_s == pytest.approx(0.26)  # not 0.25: the empty first delta does not count
    assert figures.decode_tps == pytest.approx(7 / 0.07)
    assert figures.e2e_tps == pytest.approx(8 / 0.33)
    assert figures.server_tps == pytest.approx(1000.0)
    assert figures.queue_s == pytest.approx(0.173082861)


async def test_reasoning_counts_as_the_first_token() -> None:
    """groq_stream_gpt_oss: the first non-empty delta is reasoning (chunk 1); the answer starts much later."""
    clock = FakeClock(0.0)
    server = Server(timed_fixture("groq_stream_gpt_oss.sse", clock, first_at=0.5, step=0.1))
    client, _ = make_client(server, clock=clock)
    first_content_at = None
    async with client, client.stream(chat_request()) as stream:
        async for event in stream:
            if isinstance(event, ContentDelta) and first_content_at is None:
                first_content_at = clock.now
            assert not isinstance(event, ReasoningDelta) or first_content_at is None
    assert first_content_at is not None and first_content_at > 1.0
    assert stream.figures().ttft_s == pytest.approx(0.6)


async def test_learned_ratio_is_used_for_the_next_answer_of_the_same_model() -> None:
    """An exact answer teaches chars per token; the next stream without usage estimates with it (marked ~)."""
    with_usage = [
        b'data: {"choices":[{"index":0,"delta":{"content":"' + b"x" * 60 + b'"},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":10,"total_tokens":11}}\n\n',
        b"data: [DONE]\n\n",
    ]
    without_usage = [
        b'data: {"choices":[{"index":0,"delta":{"content":"' + b"y" * 120 + b'"},"finish_reason":"stop"}]}\n\n',
        b"data: [DONE]\n\n",
    ]
    sse = [("content-type", "text/event-stream")]
    server = Server(response(200, headers=sse, chunks=with_usage), response(200, headers=sse, chunks=without_usage),
                    response(200, headers=sse, chunks=without_usage))
    client, _ = make_client(server)
    async with client:
        async with client.stream(chat_request("model-a")) as first:
            events = [e async for e in first]
        assert any(isinstance(e, UsageUpdate) for e in events)
        assert client.ratios.get(("testprov", "model-a")) == pytest.approx(6.0)

        async with client.stream(chat_request("model-a")) as second:
            _ = [e async for e in second]
        figures = second.figures()
        assert figures.tokens_exact is False
        assert figures.completion_tokens == 20  # 120 chars / 6 learned, not 120 / 4
        assert figures.tokens_label() == "~20"

        async with client.stream(chat_request("model-b")) as other:
            _ = [e async for e in other]
        assert other.figures().completion_tokens == 30  # another model starts at 4 chars per token


async def test_a_failed_stream_teaches_nothing() -> None:
    chunks = [b'data: {"choices":[{"index":0,"delta":{"content":"' + b"z" * 80 + b'"}}],'
              b'"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n']
    server = Server(response(200, headers=[("content-type", "text/event-stream")], chunks=chunks,
                             error=httpx.RemoteProtocolError("cut")))
    client, _ = make_client(server)
    async with client:
        with pytest.raises(NetworkError) as caught:
            async with client.stream(chat_request("model-a")) as stream:
                async for _ in stream:
                    pass
    assert caught.value.code == "stream_cut"
    assert client.ratios.get(("testprov", "model-a")) == 4.0

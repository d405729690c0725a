"""Rate-limit headers (Go durations, retry-after) and client-side pacing with an injected clock and sleep."""

from __future__ import annotations

import email.utils

import pytest

from botticelli.providers.errors import RateLimitError
from botticelli.providers.ratelimit import (
    PacingExceeded,
    PacingLimits,
    RequestPacer,
    parse_go_duration,
    parse_rate_limit_headers,
    parse_retry_after,
    retry_after_from_message,
)
from helpers_client import FakeClock, Server, SleepRecorder, chat_request, make_client, ok_json_response


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("70ms", 0.07),
        ("60ms", 0.06),
        ("1m16.032s", 76.032),
        ("6s", 6.0),
        ("1.559999999s", 1.559999999),
        ("7.66s", 7.66),
        ("1m26.4s", 86.4),
        ("9m38.016s", 578.016),
        ("1m0.363142857s", 60.363142857),
        ("1h2m3s", 3723.0),
        ("500us", 0.0005),
        ("2", 2.0),
        ("33.9336953163147", 33.9336953163147),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("junk", [None, "", "   ", "soon", "5x", "2m junk", "m5", "1m-2s", "s", "1.2.3s", "2s2"])
def test_go_duration_junk_is_none(junk: str | None) -> None:
    assert parse_go_duration(junk) is None


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("... Requested 1. Please try again in 2s. Need more tokens? Upgrade ...", 2.0),
        ("... Requested ~12903. Please try again in 50.597142857s. Visit https://console.groq.com/docs", 50.597142857),
        ("Please try again in 1m16.032s.", 76.032),
        ("please TRY AGAIN IN 5.289s", 5.289),
        ("Please try again in 9m38.016s. Visit", 578.016),
        ("Please try again in 130ms.", 0.13),
        ("Rate limit reached. Please try again later.", None),
    ],
)
def test_retry_after_from_groq_message(message: str, seconds: float | None) -> None:
    got = retry_after_from_message(message)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


def test_retry_after_seconds_ms_and_date() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "300"}) == pytest.approx(0.3)
    assert parse_retry_after({"retry-after-ms": "300", "retry-after": "9"}) == pytest.approx(0.3)
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "whenever"}) is None
    assert parse_retry_after({"retry-after": "-5"}) is None  # nonsense is absent, not "wait 0s"
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 42, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


def test_rate_limit_headers_groq_429_docs_values() -> None:
    info = parse_rate_limit_headers({
        "retry-after": "2",
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-limit-tokens": "18000",
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-remaining-tokens": "17997",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-reset-tokens": "7.66s",
    })
    assert info is not None
    assert (info.limit_requests, info.limit_tokens) == (14400, 18000)
    assert (info.remaining_requests, info.remaining_tokens) == (14370, 17997)
    assert info.reset_requests_s == pytest.approx(179.56)
    assert info.reset_tokens_s == pytest.approx(7.66)
    assert info.retry_after_s == 2.0


def test_no_rate_limit_headers_is_none() -> None:
    assert parse_rate_limit_headers({"content-type": "application/json"}) is None
    partial = parse_rate_limit_headers({"x-ratelimit-remaining-tokens": "junk", "x-ratelimit-reset-tokens": "70ms"})
    assert partial is not None
    assert partial.remaining_tokens is None and partial.reset_tokens_s == pytest.approx(0.07)


# ---------------------------------------------------------------------------------------------------------
# RequestPacer
# ---------------------------------------------------------------------------------------------------------


def pacer(limits: PacingLimits, max_wait_s: float = 120.0) -> tuple[RequestPacer, FakeClock, SleepRecorder]:
    clock = FakeClock(1000.0)
    sleeper = SleepRecorder(clock)
    return RequestPacer(limits, clock=clock, sleep=sleeper, max_wait_s=max_wait_s), clock, sleeper


async def test_rpm_third_request_waits_until_the_first_leaves_the_window() -> None:
    p, clock, sleeper = pacer(PacingLimits(requests_per_minute=2))
    assert await p.acquire() == 0.0
    clock.advance(10)
    assert await p.acquire() == 0.0
    clock.advance(10)  # t = 1020; the first request (t = 1000) leaves the window at 1060
    waited = await p.acquire()
    assert waited == pytest.approx(40.0)
    assert sleeper.waits == [pytest.approx(40.0)]
    assert clock.now == pytest.approx(1060.0)
    # the fourth waits for the second (t = 1010) to leave: until 1070
    assert await p.acquire() == pytest.approx(10.0)


async def test_rpm_requests_spread_out_do_not_wait() -> None:
    p, clock, sleeper = pacer(PacingLimits(requests_per_minute=2))
    for _ in range(5):
        await p.acquire()
        clock.advance(30)
    assert sleeper.waits == []


async def test_tpm_waits_until_enough_tokens_are_free() -> None:
    p, clock, sleeper = pacer(PacingLimits(tokens_per_minute=1000))
    assert await p.acquire(600) == 0.0
    clock.advance(5)
    assert await p.acquire(300) == 0.0  # 900 of 1000
    clock.advance(5)  # t = 1010
    waited = await p.acquire(600)  # needs the first (600, at t = 1000) gone: until 1060
    assert waited == pytest.approx(50.0)
    assert sleeper.waits == [pytest.approx(50.0)]


async def test_a_single_request_bigger_than_tpm_is_not_blocked_forever() -> None:
    p, _, sleeper = pacer(PacingLimits(tokens_per_minute=1000))
    assert await p.acquire(5000) == 0.0
    assert sleeper.waits == []


async def test_rpd_beyond_max_wait_raises_pacing_exceeded() -> None:
    p, clock, sleeper = pacer(PacingLimits(requests_per_day=2), max_wait_s=120)
    await p.acquire()
    clock.advance(3600)
    await p.acquire()
    clock.advance(3600)
    with pytest.raises(PacingExceeded) as caught:
        await p.acquire()
    assert caught.value.wait_s == pytest.approx(86400 - 7200)
    assert sleeper.waits == []
    assert p.wait_needed() == pytest.approx(86400 - 7200)
    # a refused request is not counted: a day after the first, one fits again
    clock.advance(86400 - 7200)
    assert await p.acquire() == 0.0


async def test_client_turns_pacing_exceeded_into_rate_limit_error() -> None:
    limiter, clock, _ = pacer(PacingLimits(requests_per_day=1), max_wait_s=120)
    server = Server(ok_json_response(), ok_json_response())
    client, _ = make_client(server, pacer=limiter)
    async with client:
        answer = await client.generate(chat_request())
        assert answer.text == "fine"
        clock.advance(400)
        with pytest.raises(RateLimitError) as caught:
            await client.generate(chat_request())
    error = caught.value
    assert error.code == "client_rate_limit"
    assert error.retry_after_s == pytest.approx(86000.0)
    assert error.status is None
    assert "in 24 h" in error.message  # 86,000 s, said in the units a person uses
    assert "wait 24 h" in error.one_line()
    assert server.count == 1  # the refused request never went out


async def test_client_pacing_waits_through_the_injected_sleep() -> None:
    limiter, clock, pacer_sleeps = pacer(PacingLimits(requests_per_minute=1))
    server = Server(ok_json_response(), ok_json_response())
    client, _ = make_client(server, pacer=limiter)
    async with client:
        await client.generate(chat_request())
        clock.advance(15)
        await client.generate(chat_request())
    assert pacer_sleeps.waits == [pytest.approx(45.0)]
    assert server.count == 2

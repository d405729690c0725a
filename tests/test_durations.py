"""Long waits in human units (issue 13 item 21): "allow the next request in 24 h", not "86399s"."""

from __future__ import annotations

import asyncio

import pytest

from botticelli.format import wait as say_duration
from botticelli.providers.client import OpenAICompatibleClient
from botticelli.providers.errors import RateLimitError
from botticelli.providers.ratelimit import PacingLimits, RequestPacer
from botticelli.providers.types import ChatMessage, ChatRequest
from helpers_hostile import HostileServer, json_answer


@pytest.mark.parametrize("seconds, said", [
    (0.25, "0.2 s"), (1.0, "1 s"), (1.5, "1.5 s"), (9.96, "10 s"), (45.4, "45 s"), (59.7, "1 min"),
    (90, "1 min 30 s"), (599.6, "10 min"), (3599, "1 h"), (3660, "1 h 1 min"), (5400, "1 h 30 min"),
    (35999, "10 h"), (86399, "24 h"), (86400 * 3 + 100, "3 d"),
])
def test_say_duration(seconds: float, said: str) -> None:
    assert say_duration(seconds) == said


def test_the_daily_pacing_limit_says_hours() -> None:
    answer = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}

    async def go() -> RateLimitError:
        pacer = RequestPacer(PacingLimits(requests_per_day=1))
        async with OpenAICompatibleClient(server.base_url, provider="p", pacer=pacer) as client:
            request = ChatRequest("m", [ChatMessage("user", "hi")])
            await client.generate(request)
            with pytest.raises(RateLimitError) as caught:
                await client.generate(request)
            return caught.value

    with HostileServer(json_answer(answer)) as server:
        error = asyncio.run(go())
    assert "allow the next request in 24 h" in error.one_line()
    assert "wait 24 h and try again" in error.one_line()
    assert len(server.requests) == 1


def test_a_server_directed_wait_is_said_in_human_units() -> None:
    error = RateLimitError("slow down", provider="p", status=429, retry_after_s=5400.0)
    assert error.hint == "wait 1 h 30 min and try again"

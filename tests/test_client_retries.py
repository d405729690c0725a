"""Retries before a response starts, never after; every way a stream can end badly; responses always closed.

Requests are counted in the MockTransport handler and the waits are recorded by an injected sleep.
"""

from __future__ import annotations

import json
import random

import httpx
import pytest

from botticelli.providers.client import RetryPolicy
from botticelli.providers.errors import (
    InvalidRequestError,
    NetworkError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from botticelli.providers.types import ContentDelta, Finish, ReasoningDelta, UsageUpdate
from helpers_client import (
    JSON_HEADERS,
    SSE_HEADERS,
    FakeClock,
    Server,
    SleepRecorder,
    chat_request,
    collect,
    fixture_response,
    make_client,
    response,
)


def chunk(content: str | None = None, finish: str | None = None, **extra: object) -> bytes:
    delta = {} if content is None else {"content": content}
    payload = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(payload)}\n\n".encode()


OK_STREAM = [chunk("Hi"), chunk(" there"), chunk(finish="stop"), b"data: [DONE]\n\n"]
OK_JSON = json.dumps({
    "id": "x", "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
})


def ok_stream():  # type: ignore[no-untyped-def]
    return response(200, headers=SSE_HEADERS, chunks=OK_STREAM)


def error_body(status: int, code: str = "x") -> bytes:
    return json.dumps({"error": {"message": f"failure {status}", "type": "t", "code": code}}).encode()


async def run_stream(client):  # type: ignore[no-untyped-def]
    """Stream to the end; returns (stream, events, error or None)."""
    stream = client.stream(chat_request())
    events: list[object] = []
    try:
        async with stream:
            async for event in stream:
                events.append(event)
    except ProviderError as exc:
        return stream, events, exc
    return stream, events, None


# ---------------------------------------------------------------------------------------------------------
# Before the response: what is retried, how many times, how long the waits are
# ---------------------------------------------------------------------------------------------------------


async def test_connect_error_retried_max_retries_times_then_network_error() -> None:
    server = Server(httpx.ConnectError("connection refused"))
    client, sleeper = make_client(server, max_retries=3)
    async with client:
        _, events, error = await run_stream(client)
    assert isinstance(error, NetworkError)
    assert error.code == "connect_error"
    assert error.exit_code == 7
    assert "api.example.test" in error.message
    assert server.count == 4
    assert len(sleeper.waits) == 3
    assert events == []


async def test_connect_error_then_success() -> None:
    server = Server(httpx.ConnectError("refused"), ok_stream())
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None
    assert stream.text == "Hi there"
    assert stream.retries == 1
    assert server.count == 2 and len(sleeper.waits) == 1


async def test_read_timeout_before_headers_is_retried_then_network_error() -> None:
    server = Server(httpx.ReadTimeout("no headers"))
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        with pytest.raises(NetworkError) as caught:
            await client.generate(chat_request())
    assert caught.value.code == "read_timeout"
    assert server.count == 3 and len(sleeper.waits) == 2


@pytest.mark.parametrize("status", [408, 409, 429, 498, 500, 502, 503])
async def test_retryable_statuses_are_retried(status: int) -> None:
    server = Server(response(status, error_body(status), JSON_HEADERS), ok_stream())
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None
    assert stream.text == "Hi there"
    assert server.count == 2
    assert len(sleeper.waits) == 1
    assert all(s.closed for s in server.streams)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(409, "invalid_request"), (429, "rate_limit"), (498, "rate_limit"), (500, "server"), (503, "server")],
)
async def test_retryable_status_gives_up_after_max_retries(status: int, kind: str) -> None:
    server = Server(response(status, error_body(status), JSON_HEADERS))
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        with pytest.raises(ProviderError) as caught:
            await client.generate(chat_request())
    assert caught.value.kind == kind
    assert caught.value.status == status
    assert server.count == 3
    assert len(sleeper.waits) == 2
    assert all(s.closed for s in server.streams)


async def test_498_is_capacity_rate_limit() -> None:
    body = json.dumps({"error": {"message": "flex tier at capacity", "type": "capacity"}}).encode()
    server = Server(response(498, body, JSON_HEADERS))
    client, _ = make_client(server, max_retries=0)
    async with client:
        with pytest.raises(RateLimitError) as caught:
            await client.generate(chat_request())
    assert caught.value.code == "capacity_exceeded"
    assert "capacity" in caught.value.hint


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    headers = [*JSON_HEADERS, ("retry-after", "19")]  # a 413 with retry-after was seen: retrying cannot help
    server = Server(response(status, error_body(status), headers), ok_stream())
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        _, _, error = await run_stream(client)
    assert error is not None and error.status == status
    assert server.count == 1
    assert sleeper.waits == []
    assert server.streams[0].closed


async def test_429_retry_after_seconds_waits_exactly_that() -> None:
    server = Server(response(429, error_body(429), [*JSON_HEADERS, ("retry-after", "2")]), ok_stream())
    client, sleeper = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None and stream.text == "Hi there"
    assert sleeper.waits == [2.0]
    assert server.count == 2


async def test_429_retry_after_ms_wins() -> None:
    headers = [*JSON_HEADERS, ("retry-after-ms", "300"), ("retry-after", "5")]
    server = Server(response(429, error_body(429), headers), response(429, error_body(429), headers), ok_stream())
    client, sleeper = make_client(server)
    async with client:
        _, _, error = await run_stream(client)
    assert error is None
    assert sleeper.waits == [pytest.approx(0.3), pytest.approx(0.3)]
    assert server.count == 3


async def test_groq_429_without_header_waits_what_the_message_says() -> None:
    """groq_error_429_rpm.json: "Please try again in 2s." and no retry-after header."""
    server = Server(fixture_response("groq_error_429_rpm.json", status=429), ok_stream())
    client, sleeper = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None and stream.text == "Hi there"
    assert sleeper.waits == [2.0]


async def test_5xx_retry_after_header_is_honoured() -> None:
    """hf_router_error_500_together: a 500 with `retry-after: 1` waits 1s, not the short backoff."""
    server = Server(fixture_response("hf_router_error_500_together.reserialized.json"))
    client, sleeper = make_client(server, max_retries=2)
    async with client:
        with pytest.raises(ServerError) as caught:
            await client.generate(chat_request())
    assert caught.value.message == "Internal server error"
    assert server.count == 3
    assert sleeper.waits == [1.0, 1.0]
    assert all(s.closed for s in server.streams)


async def test_retry_after_above_the_cap_raises_at_once_with_the_wait() -> None:
    server = Server(response(429, error_body(429, "rate_limit_exceeded"), [*JSON_HEADERS, ("retry-after", "200")]))
    client, sleeper = make_client(server, max_retries=2, max_retry_after_s=30.0)
    async with client:
        _, _, error = await run_stream(client)
    assert isinstance(error, RateLimitError)
    assert error.retry_after_s == 200.0
    assert "3 min 20 s" in error.hint
    assert "wait 3 min 20 s" in error.one_line()
    assert error.to_dict()["retry_after_s"] == 200.0
    assert server.count == 1
    assert sleeper.waits == []


async def test_backoff_without_header_is_exponential_with_jitter() -> None:
    server = Server(response(500, error_body(500), JSON_HEADERS))
    client, sleeper = make_client(server, max_retries=6)
    async with client:
        with pytest.raises(ServerError):
            await client.generate(chat_request())
    assert server.count == 7
    assert len(sleeper.waits) == 6
    for k, wait in enumerate(sleeper.waits):
        base = min(0.5 * 2**k, 8.0)
        assert 0.75 * base <= wait <= base, (k, wait)


async def test_backoff_values_with_a_fixed_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.5)  # jitter factor 1 - 0.25 * 0.5 = 0.875
    server = Server(response(503, b"busy", [("content-type", "text/plain")]))
    client, sleeper = make_client(server, max_retries=6)
    async with client:
        with pytest.raises(ServerError):
            await client.generate(chat_request())
    assert sleeper.waits == pytest.approx([0.4375, 0.875, 1.75, 3.5, 7.0, 7.0])


def test_retry_policy_backoff_bounds_with_seeded_rng() -> None:
    policy = RetryPolicy()
    rng = random.Random(1234)
    waits = [policy.backoff(k, rng) for k in range(8) for _ in range(50)]
    for i, wait in enumerate(waits):
        base = min(0.5 * 2 ** (i // 50), 8.0)
        assert 0.75 * base < wait <= base
    assert len({round(w, 6) for w in waits[:50]}) > 1  # there is jitter


async def test_x_should_retry_false_stops() -> None:
    server = Server(response(503, error_body(503), [*JSON_HEADERS, ("x-should-retry", "false")]), ok_stream())
    client, sleeper = make_client(server)
    async with client:
        _, _, error = await run_stream(client)
    assert isinstance(error, ServerError)
    assert server.count == 1 and sleeper.waits == []


async def test_x_should_retry_true_retries_even_a_400() -> None:
    server = Server(response(400, error_body(400), [*JSON_HEADERS, ("x-should-retry", "true")]), ok_stream())
    client, sleeper = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None and stream.text == "Hi there"
    assert server.count == 2 and len(sleeper.waits) == 1


async def test_retries_reset_the_speed_clock() -> None:
    """The meter's request time is the attempt that answered, not the first failed one."""
    clock = FakeClock(100.0)
    sleeper = SleepRecorder(clock)
    server = Server(response(429, error_body(429), [*JSON_HEADERS, ("retry-after", "2")]), ok_stream())
    client, _ = make_client(server, clock=clock, sleep=sleeper)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None
    assert stream.meter.t_sent == 102.0


# ---------------------------------------------------------------------------------------------------------
# After the response started: never retried; the partial answer is kept
# ---------------------------------------------------------------------------------------------------------


async def test_stream_cut_mid_answer_is_not_retried() -> None:
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("Partial"), chunk(" answer")], error=cut),
                    ok_stream())
    client, sleeper = make_client(server)
    async with client:
        stream, events, error = await run_stream(client)
    assert isinstance(error, NetworkError)
    assert error.code == "stream_cut"
    assert "partial answer is kept" in error.hint
    assert stream.text == "Partial answer"
    assert [e.text for e in events if isinstance(e, ContentDelta)] == ["Partial", " answer"]
    assert server.count == 1
    assert sleeper.waits == []
    assert server.streams[0].closed


async def test_read_timeout_mid_stream_is_stalled() -> None:
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("Slow")], error=httpx.ReadTimeout("stall")))
    client, sleeper = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert isinstance(error, NetworkError)
    assert error.code == "stream_stalled"
    assert stream.text == "Slow"
    assert server.count == 1 and sleeper.waits == []
    assert server.streams[0].closed


async def test_eof_without_done_or_finish_is_truncated() -> None:
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("Half"), chunk(" a")]))
    client, sleeper = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert isinstance(error, NetworkError)
    assert error.code == "stream_truncated"
    assert stream.text == "Half a"
    assert stream.finish_reason is None
    assert server.count == 1 and sleeper.waits == []
    assert server.streams[0].closed


async def test_eof_after_finish_without_done_is_fine() -> None:
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("Done"), chunk(finish="length")]))
    client, _ = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is None
    assert stream.text == "Done" and stream.finish_reason == "length"


async def test_malformed_chunk_is_a_protocol_error_keeping_the_text_before() -> None:
    server = Server(response(200, headers=SSE_HEADERS,
                             chunks=[chunk("Before"), b'data: {"choices": [{"delta": {"content": "x"\n\n',
                                     chunk("after")]))
    client, _ = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert isinstance(error, ProtocolError)
    assert error.code == "malformed_chunk"
    assert error.exit_code == 9
    assert stream.text == "Before"
    assert server.count == 1
    assert server.streams[0].closed


async def test_x_groq_error_in_a_chunk_raises() -> None:
    bad = chunk(x_groq={"id": "req_1", "error": "stream stopped: the model is over capacity"})
    server = Server(response(200, headers=SSE_HEADERS,
                             chunks=[chunk("Some"), bad, chunk(" more"), chunk(finish="stop")]))
    client, _ = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is not None
    assert error.message == "stream stopped: the model is over capacity"
    assert stream.text == "Some"
    assert server.count == 1
    assert server.streams[0].closed


async def test_inband_error_object_raises() -> None:
    bad = b'data: {"error": {"message": "Internal error while streaming", "type": "server_error"}}\n\n'
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("Start"), bad]))
    client, _ = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert isinstance(error, ServerError)
    assert error.message == "Internal error while streaming"
    assert stream.text == "Start"


async def test_event_error_with_plain_text_data_raises() -> None:
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("A"), b"event: error\ndata: overloaded\n\n"]))
    client, _ = make_client(server)
    async with client:
        stream, _, error = await run_stream(client)
    assert error is not None and "overloaded" in error.message
    assert stream.text == "A"


async def test_json_body_to_a_stream_request_is_replayed_as_events() -> None:
    body = json.dumps({
        "id": "cmpl-1", "model": "served-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Whole answer", "reasoning": "Hmm",
                                             "tool_calls": [{"id": "call_1", "type": "function",
                                                             "function": {"name": "f", "arguments": "{}"}}]},
                     "finish_reason": "length"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
    })
    server = Server(response(200, body, JSON_HEADERS))
    client, _ = make_client(server)
    async with client:
        stream, events = await collect(client)
    assert [type(e) for e in events] == [ReasoningDelta, ContentDelta, UsageUpdate, Finish]
    assert events[1] == ContentDelta("Whole answer")
    assert events[-1] == Finish("length")
    assert stream.text == "Whole answer"
    assert stream.reasoning == "Hmm"
    assert stream.finish_reason == "length"
    assert stream.usage is not None and stream.usage.completion_tokens == 2
    assert [c.name for c in stream.tool_calls] == ["f"]
    assert stream.result().model == "served-model"
    assert stream.figures().tokens_exact is True
    assert server.count == 1
    assert server.streams[0].closed


async def test_non_json_200_to_a_stream_request_is_a_protocol_error() -> None:
    server = Server(response(200, b"<html>hello</html>", [("content-type", "text/html")]))
    client, _ = make_client(server)
    async with client:
        _, _, error = await run_stream(client)
    assert isinstance(error, ProtocolError)
    assert server.count == 1
    assert server.streams[0].closed


async def test_consumer_stopping_early_closes_the_response() -> None:
    server = Server(response(200, headers=SSE_HEADERS, chunks=[chunk("one"), chunk(" two"), chunk(finish="stop")]))
    client, _ = make_client(server)
    async with client, client.stream(chat_request()) as stream:
        async for _ in stream:
            break
    assert server.streams[0].closed
    assert stream.text == "one"


async def test_an_error_classified_on_an_unexpected_status_is_still_closed() -> None:
    server = Server(response(302, b"", [("location", "https://elsewhere.test/")]))
    client, _ = make_client(server)
    async with client:
        with pytest.raises(ProviderError):
            await client.generate(chat_request())
    assert server.count == 1
    assert server.streams[0].closed


async def test_generate_retries_then_returns() -> None:
    server = Server(response(500, error_body(500), JSON_HEADERS), response(200, OK_JSON, JSON_HEADERS))
    client, sleeper = make_client(server)
    async with client:
        answer = await client.generate(chat_request())
    assert answer.text == "fine"
    assert server.count == 2 and len(sleeper.waits) == 1
    assert all(s.closed for s in server.streams)


async def test_invalid_request_error_body_from_a_stream_request() -> None:
    server = Server(response(400, error_body(400, "bad_param"), JSON_HEADERS))
    client, _ = make_client(server)
    async with client:
        _, _, error = await run_stream(client)
    assert isinstance(error, InvalidRequestError)
    assert error.code == "bad_param" and error.message == "failure 400"

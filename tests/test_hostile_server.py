"""A broken or hostile server, over a real loopback socket: never a traceback, the partial answer kept everywhere.

Each case runs through `botticelli ask` (in this process, so the exit code, stdout and stderr are what a user
sees) and, with `--session new`, checks the stored answer too: text intact, finished, with its error.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest
from botticelli.sessions import SessionStore
from faults import CliResult, cli_inprocess, sim_profile, write_config
from helpers_hostile import Answer, HostileServer, chunk, endless, finish, json_answer, sse, sse_answer

PROFILE = "sim"


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> Iterator[type]:
    """`serve(script)` starts a hostile server behind the profile `sim` (no retries) for this test."""
    started: list[HostileServer] = []

    def start(script: Answer | object, extra: str = "", max_retries: int = 0) -> HostileServer:
        server = HostileServer(script)  # type: ignore[arg-type]
        server.__enter__()
        started.append(server)
        write_config(sim_profile(PROFILE, server.base_url, read_timeout_s=5, max_retries=max_retries, extra=extra))
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.__exit__()


def ask(capsys: pytest.CaptureFixture[str], *extra: str) -> CliResult:
    return cli_inprocess(["ask", *extra, "hi"], capsys)


def one_line(result: CliResult) -> str:
    assert len(result.err_lines) == 1, result.err
    assert "Traceback" not in result.err
    return result.err_lines[0]


def stored_answer() -> dict:
    with SessionStore.open() as store:
        session = store.list_sessions()[0]
        message = store.messages(session.id)[-1]
    return {"content": message.content, "finish_reason": message.finish_reason, "error": message.error}


# -- item 3: lone surrogates ----------------------------------------------------------------------------------

SURROGATE_CHUNK = '{"choices":[{"index":0,"delta":{"content":"X\\ud800Y"}}]}'


def test_a_lone_surrogate_in_a_stream_becomes_a_replacement_character(serve, capsys) -> None:
    serve(sse_answer(chunk("a "), SURROGATE_CHUNK, chunk(" b"), finish()))
    result = ask(capsys, "--session", "new", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["text"] == "a X\ufffdY b"
    stored = stored_answer()
    assert stored["content"] == "a X\ufffdY b" and stored["finish_reason"] == "stop"


def test_a_lone_surrogate_in_plain_output_and_in_an_error_message(serve, capsys) -> None:
    serve(sse_answer(chunk("a "), SURROGATE_CHUNK, '{"error":{"message":"bad \\udfff thing"}}', done=False))
    result = ask(capsys, "--session", "new")
    assert result.out == "a X\ufffdY\n"
    assert "bad \ufffd thing" in one_line(result)
    assert result.code == 8
    stored = stored_answer()
    assert stored["content"] == "a X\ufffdY" and stored["finish_reason"] == "error"
    assert "\ufffd" in stored["error"]["message"]


def test_a_lone_surrogate_in_a_non_streamed_answer(serve, capsys) -> None:
    body = b'{"choices":[{"message":{"content":"X\\udc00Y"},"finish_reason":"stop"}]}'
    serve(json_answer(body))
    result = ask(capsys)
    assert result.code == 0, result.err
    assert result.out == "X\ufffdY\n"


# -- item 4: malformed 200 bodies -----------------------------------------------------------------------------


def completion(message: object, **extra: object) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}


def test_a_message_that_is_a_string_is_a_bad_response_error(serve, capsys) -> None:
    serve(json_answer({"choices": [{"message": "just a string"}]}))
    result = ask(capsys, "--session", "new")
    line = one_line(result)
    assert result.code == 9 and line.startswith("error: sim: ") and "message" in line
    stored = stored_answer()
    assert stored["finish_reason"] == "error" and stored["error"]["kind"] == "protocol"


@pytest.mark.parametrize("body, text", [
    (completion({"content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}]}),
     "Hello world"),
    (completion({"content": "ok", "tool_calls": ["not a call", {"function": "nor this"}, {"function": {
        "name": 7, "arguments": ["x"]}}]}), "ok"),
    (completion({"content": "ok"}, usage={"prompt_tokens": "12", "completion_tokens": [1], "total_tokens": {},
                                          "completion_tokens_details": "none"}), "ok"),
    (completion({"content": "ok"}, usage="lots", model=["m"], id={"a": 1}), "ok"),
    ({"choices": [{"message": {"content": "ok"}, "finish_reason": {"why": "done"}}]}, "ok"),
], ids=["content parts", "tool_calls of the wrong types", "usage of the wrong types", "usage not an object",
        "finish_reason not a string"])
def test_malformed_parts_of_a_completion_are_skipped(serve, capsys, body: dict, text: str) -> None:
    serve(json_answer(body))
    result = ask(capsys, "--json", "--session", "new")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["text"] == text and data["error"] is None
    assert stored_answer()["content"] == text


def test_content_parts_in_a_stream_are_read_as_text(serve, capsys) -> None:
    parts = {"choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "Hi "},
                                                          {"type": "image_url", "image_url": {}},
                                                          {"type": "text", "text": "there"}]}}]}
    serve(sse_answer(parts, {"choices": [{"delta": "junk"}]}, {"choices": {"0": 1}},
                     {"choices": [{"delta": {"content": "!", "tool_calls": ["x", {"index": "1", "function": 5}]}}]},
                     finish()))
    result = ask(capsys)
    assert result.code == 0, result.err
    assert result.out == "Hi there!\n"


# -- item 5: absurd numbers -----------------------------------------------------------------------------------


def test_huge_negative_and_non_finite_usage_is_treated_as_absent(serve, capsys) -> None:
    usage = ('{"choices":[],"usage":{"prompt_tokens":1e400,"completion_tokens":-5,"total_tokens":NaN,'
             '"queue_time":Infinity,"completion_time":-1}}')
    serve(sse_answer(chunk("fine"), finish(), usage))
    result = ask(capsys, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["text"] == "fine"
    assert data["usage"] == {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None}
    assert data["stats"]["server_tps"] is None


@pytest.mark.parametrize("headers", [
    {"retry-after-ms": "1e999"}, {"retry-after": "-5"}, {"retry-after": "nan"},
    {"retry-after": "inf", "x-ratelimit-remaining-requests": "1e999", "x-ratelimit-reset-requests": "-3s"},
], ids=["retry-after-ms 1e999", "retry-after -5", "retry-after nan", "infinite rate-limit headers"])
def test_non_finite_or_negative_rate_limit_headers_are_treated_as_absent(serve, capsys, headers) -> None:
    serve(json_answer({"error": {"message": "slow down", "type": "requests"}}, 429, headers))
    result = ask(capsys, "--json")
    assert result.code == 4
    line = one_line(result)
    assert line.endswith("(wait a little and try again)"), line
    data = json.loads(result.out)
    assert data["error"]["retry_after_s"] is None
    assert data["rate_limit"] is None or data["rate_limit"]["remaining_requests"] is None


# -- item 10: error summaries ---------------------------------------------------------------------------------

LLAMA_CONTEXT = {"error": {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 9000,
                           "n_ctx": 4096, "message": "the request exceeds the available context size"}}
OPENAI_CONTEXT = {"error": {"message": "This model's maximum context length is 8192 tokens.",
                            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}


@pytest.mark.parametrize("body", [LLAMA_CONTEXT, OPENAI_CONTEXT], ids=["llama.cpp", "openai"])
def test_context_errors_get_the_context_hint_and_no_repeated_status(serve, capsys, body) -> None:
    serve(json_answer(body, 400))
    result = ask(capsys, "--json")
    line = one_line(result)
    assert result.code == 6
    assert "HTTP 400 400" not in line and "HTTP 400" in line
    assert "too long for this model" in line
    assert json.loads(result.out)["error"]["kind"] == "invalid_request"


def test_a_code_different_from_the_status_is_still_shown(serve, capsys) -> None:
    serve(json_answer({"error": {"code": "bad_thing", "message": "nope"}}, 400))
    assert "HTTP 400 bad_thing: nope" in one_line(ask(capsys))


# -- item 6: unbounded bodies and endless streams (client level: the server counts what it had to send) -----------

def run_client(base_url: str, *, timeout_s: float = 20.0, **client: object):
    """Stream one answer with `OpenAICompatibleClient(**client)`; (text, error, seconds). Never hangs the suite."""
    client.setdefault("retry", RetryPolicy(max_retries=0))

    async def go():
        async with OpenAICompatibleClient(base_url, provider="h", timeout_s=5.0, **client) as api:
            stream = api.stream(ChatRequest("m", [ChatMessage("user", "hi")]))
            try:
                async with stream:
                    async for _ in stream:
                        pass
            except ProviderError as exc:
                return stream.text, exc
            return stream.text, None

    start = time.monotonic()
    text, error = asyncio.run(asyncio.wait_for(go(), timeout_s))
    return text, error, time.monotonic() - start


MIB = 1024 * 1024


def test_an_endless_error_body_is_read_up_to_the_cap_on_each_attempt() -> None:
    endless_500 = Answer(500, {"content-type": "text/plain"}, endless(b"x" * 65536))
    with HostileServer(lambda path, n: endless_500) as server:
        _, error, _ = run_client(server.base_url, retry=RetryPolicy(max_retries=1, initial_delay_s=0.01))
    assert error is not None and error.kind == "server" and error.status == 500
    assert len(server.requests) == 2  # retried once, as a 500 should be
    assert len(error.message) <= 400
    # What the server managed to push: the 1 MiB cap on each of two attempts, plus socket buffers.
    assert server.bytes_sent < 2 * MIB + 16 * MIB


def test_an_endless_content_stream_stops_at_the_answer_cap_with_the_text_so_far() -> None:
    piece = sse(*[chunk("abcd")] * 256, done=False)
    with HostileServer(Answer(200, {"content-type": "text/event-stream"}, endless(piece))) as server:
        text, error, _ = run_client(server.base_url, max_answer_chars=200_000)
    assert error is not None and error.code == "answer_too_large" and error.kind == "protocol"
    assert "answer too large" in error.one_line() and "max_answer_mb" in error.one_line()
    assert 200_000 < len(text) <= 200_000 + 4 * 256 and set(text) == set("abcd")


def test_an_endless_line_is_capped_too() -> None:
    body = endless(b"a" * 65536, first=b"data: ")  # one `data:` line that never ends
    with HostileServer(Answer(200, {"content-type": "text/event-stream"}, body)) as server:
        _, error, _ = run_client(server.base_url, max_answer_chars=100_000)
    assert error is not None and error.code == "answer_too_large"


def test_keep_alive_comments_do_not_extend_the_total_time_limit() -> None:
    def trickle():
        yield sse(chunk("partial "), done=False)
        yield from endless(b": keep-alive\n\n", every_s=0.05)

    with HostileServer(Answer(200, {"content-type": "text/event-stream"}, trickle())) as server:
        text, error, took = run_client(server.base_url, total_timeout_s=1.0)
    assert error is not None and error.code == "total_timeout" and error.kind == "network"
    assert text == "partial "
    assert 0.9 < took < 3.0


def test_a_silent_stream_ends_at_the_total_time_limit_not_the_read_timeout() -> None:
    def then_silence():
        yield sse(chunk("partial "), done=False)
        time.sleep(8)

    with HostileServer(Answer(200, {"content-type": "text/event-stream"}, then_silence())) as server:
        text, error, took = run_client(server.base_url, total_timeout_s=1.0)  # read timeout: 5 s
    assert error is not None and error.code == "total_timeout"
    assert text == "partial " and took < 2.5


def test_headers_that_never_come_end_at_the_total_time_limit() -> None:
    def slow(path: str, attempt: int) -> Answer:
        time.sleep(3)
        return sse_answer(chunk("late"), finish())

    with HostileServer(slow) as server:
        _, error, took = run_client(server.base_url, total_timeout_s=1.0)
    assert error is not None and error.code == "total_timeout" and took < 2.5


def test_ask_keeps_the_text_so_far_when_the_answer_cap_of_the_profile_is_passed(serve, capsys) -> None:
    serve(Answer(200, {"content-type": "text/event-stream"}, endless(sse(*[chunk("abcd")] * 256, done=False))),
          extra="max_answer_mb = 0.1\n")
    result = ask(capsys, "--session", "new")
    assert result.code == 9
    assert "answer too large" in one_line(result)
    printed = result.out.rstrip("\n")
    assert len(printed) > 100_000 and set(printed) == set("abcd")
    stored = stored_answer()
    assert stored["content"] == printed
    assert stored["finish_reason"] == "error" and stored["error"]["code"] == "answer_too_large"


def test_ask_ends_at_the_total_time_limit_of_the_profile(serve, capsys) -> None:
    def trickle():
        yield sse(chunk("partial "), done=False)
        yield from endless(b": ping\n\n", every_s=0.05)

    serve(Answer(200, {"content-type": "text/event-stream"}, trickle()), extra="total_timeout_s = 0.5\n")
    start = time.monotonic()
    result = ask(capsys)
    assert time.monotonic() - start < 3
    assert result.code == 7 and result.out == "partial \n"
    assert "longer than 0.5s" in one_line(result)


@pytest.mark.parametrize("setting, says", [
    ("total_timeout_s = 0", "total_timeout_s: must be a positive number"),
    ("max_answer_mb = -1", "max_answer_mb: must be a positive number"),
    ('max_answer_mb = "lots"', "max_answer_mb: expected a number"),
])
def test_the_limits_are_validated_in_the_config(serve, capsys, setting: str, says: str) -> None:
    server = serve(sse_answer(chunk("never"), finish()), extra=setting + "\n")
    result = ask(capsys)
    assert result.code == 2 and says in one_line(result)
    assert server.requests == []

"""A broken or hostile server, over a real loopback socket: never a traceback, the partial answer kept everywhere.

Each case runs through `botticelli ask` (in this process, so the exit code, stdout and stderr are what a user
sees) and, with `--session new`, checks the stored answer too: text intact, finished, with its error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from botticelli.sessions import SessionStore
from faults import CliResult, cli_inprocess, sim_profile, write_config
from helpers_hostile import Answer, HostileServer, chunk, finish, json_answer, sse_answer

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

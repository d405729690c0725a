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

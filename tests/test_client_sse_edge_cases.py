"""sse_edge_cases.json: every case, fed as its exact byte chunks, at the SSE level (httpx-sse, which the client
uses) and, with the same byte-level tricks applied to real chat chunks, through the client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource
from httpx_sse._decoders import SSELineDecoder  # the line splitter EventSource uses

from botticelli.providers.errors import NetworkError
from helpers_client import (
    FIXTURES,
    SSE_HEADERS,
    Server,
    chat_request,
    collect,
    make_client,
    response,
)

EDGE = json.loads((FIXTURES / "sse_edge_cases.json").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = {case["name"]: case for case in EDGE["cases"]}
EVENT_CASES = sorted(name for name, case in CASES.items() if isinstance(case["expected"], list))
LINE_CASES = sorted(name for name, case in CASES.items() if isinstance(case["expected"], dict))


def chunks_of(name: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in CASES[name]["chunks_hex"]]


async def body_response(chunks: list[bytes], headers: list[tuple[str, str]] | None = None) -> httpx.Response:
    """A streamed response whose body arrives as exactly these transport chunks."""
    server = Server(response(200, headers=headers or SSE_HEADERS, chunks=chunks))
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    request = http.build_request("GET", "https://sse.example.test/stream")
    return await http.send(request, stream=True)


def test_the_json_has_every_case_of_the_reference() -> None:
    assert len(EVENT_CASES) == 20
    assert len(LINE_CASES) == 12
    for case in EDGE["cases"]:
        assert [bytes.fromhex(h) for h in case["chunks_hex"]], case["name"]


@pytest.mark.parametrize("name", EVENT_CASES)
async def test_event_case_with_httpx_sse(name: str) -> None:
    case = CASES[name]
    resp = await body_response(chunks_of(name))
    try:
        events = [sse async for sse in EventSource(resp).aiter_sse()]
    finally:
        await resp.aclose()
    expected = case["expected"]
    assert len(events) == len(expected), [e.data for e in events]
    for got, want in zip(events, expected, strict=True):
        # openai-python's parser says None where httpx-sse (WHATWG) says "message" for an unnamed event
        assert got.event == (want["event"] or "message")
        assert got.data == want["data"]
        if "id" in want:
            assert got.id == want["id"]
        if "retry" in want:
            assert got.retry == want["retry"]


@pytest.mark.parametrize("name", LINE_CASES)
async def test_line_case_with_the_sse_line_decoder(name: str) -> None:
    """The line layer, fed the text as httpx decodes the exact byte chunks (incrementally, as EventSource does)."""
    resp = await body_response(chunks_of(name))
    decoder = SSELineDecoder()
    lines: list[str] = []
    try:
        async for text in resp.aiter_text():
            lines.extend(decoder.decode(text))
        lines.extend(decoder.flush())
    finally:
        await resp.aclose()
    assert lines == CASES[name]["expected"]["lines"]


# ---------------------------------------------------------------------------------------------------------
# The same tricks on real chat chunks, through the client
# ---------------------------------------------------------------------------------------------------------


def chunk_json(content: str | None = None, finish: str | None = None, usage: dict[str, int] | None = None) -> str:
    delta = {} if content is None else {"content": content}
    payload: dict[str, Any] = {
        "id": "chatcmpl-edge",
        "object": "chat.completion.chunk",
        "model": "edge-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        payload["usage"] = usage
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def event(data: str, newline: str = "\n") -> bytes:
    return f"data: {data}{newline}{newline}".encode()


FINISH = event(chunk_json(finish="stop", usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}))
DONE = b"data: [DONE]\n\n"


async def through_client(chunks: list[bytes]):  # type: ignore[no-untyped-def]
    server = Server(response(200, headers=SSE_HEADERS, chunks=chunks))
    client, _ = make_client(server)
    async with client:
        stream, _ = await collect(client, chat_request())
    assert server.streams[0].closed
    return stream


async def test_client_utf8_split_across_chunks_uses_the_exact_bytes() -> None:
    """multi_byte_character_multiple_chunks: the Cyrillic bytes cut mid-character, inside a chat chunk."""
    raw = chunks_of("multi_byte_character_multiple_chunks")
    assert raw[0] == b'data: {"content":"'
    middle = raw[1:4]  # b"\xd0", b"\xb8\xd0\xb7\xd0", b"\xb2\xd0\xb5..."
    head = b'data: {"choices":[{"index":0,"delta":{"content":"'
    tail = b'"},"finish_reason":null}]}\n'
    stream = await through_client([head, *middle, tail, b"\n", FINISH, DONE])
    assert stream.text == "известни"


async def test_client_u2028_inside_content_does_not_split_the_line() -> None:
    raw = chunks_of("special_new_line_character_U+2028")
    assert b"\xe2\x80\xa8" in raw[2]
    stream = await through_client([
        event(chunk_json(" culpa")),
        event(chunk_json(" \u2028")),
        event(chunk_json("foo")),
        FINISH,
        DONE,
    ])
    assert stream.text == " culpa \u2028foo"


async def test_client_escaped_newlines_with_terminator_in_the_next_chunk() -> None:
    """data_json_escaped_double_new_line: a backslash-n pair inside the JSON, the blank line in a later chunk."""
    assert CASES["data_json_escaped_double_new_line"]["chunks_repr"][2] == "\\n\\n"
    body = json.dumps({"choices": [{"index": 0, "delta": {"content": "my long\n\ncontent"}, "finish_reason": None}]})
    assert "\\n\\n" in body and "\n" not in body  # the JSON carries the escape, not a real newline
    stream = await through_client([f"data: {body}".encode(), b"\n\n", FINISH, DONE])
    assert stream.text == "my long\n\ncontent"


@pytest.mark.parametrize(
    "newlines",
    [("\r\n",) * 4, ("\r",) * 4, ("\n",) * 4, ("\r\n", "\n", "\r", "\r\n")],
    ids=["lines_crlf", "lines_cr_only", "lf", "lines_mixed"],
)
async def test_client_line_endings(newlines: tuple[str, ...]) -> None:
    """CRLF (from a proxy), CR only, LF, or a mix: the same answer."""
    words = ("Hello", ",", " world")
    chunks = [event(chunk_json(word), nl) for word, nl in zip(words, newlines, strict=False)]
    last = newlines[-1].encode()
    stream = await through_client([*chunks, FINISH.replace(b"\n", last), DONE.replace(b"\n", last)])
    assert stream.text == "Hello, world"
    assert stream.usage is not None and stream.usage.total_tokens == 8


async def test_client_crlf_split_across_chunks() -> None:
    """lines_crlf_split_across_chunks: `\\r` ends one chunk, `\\n` starts the next: one line break, not two."""
    first = f"data: {chunk_json('Hello')}\r".encode()
    stream = await through_client([first, b"\n\r", b"\n", event(chunk_json(" there")), FINISH, DONE])
    assert stream.text == "Hello there"


async def test_client_single_character_chunks() -> None:
    raw = event(chunk_json("héllo")) + event(chunk_json(" wörld")) + FINISH + DONE
    stream = await through_client([raw[i : i + 1] for i in range(len(raw))])
    assert stream.text == "héllo wörld"
    assert stream.usage is not None and stream.usage.completion_tokens == 3


async def test_client_ignores_comments_ids_retry_and_unknown_fields() -> None:
    """whatwg_example2 (comments, ids), retry_field, unknown_field, event_missing_data: keep-alives between chunks."""
    stream = await through_client([
        b": test stream\n\n",
        b": ping\n\n",
        event(chunk_json("A")),
        b"id: 1\n\n",
        b"retry: 10000\n\n",
        b"something: ignore\n\n",
        b"event: ping\n\n",
        b"data:" + chunk_json("B").encode() + b"\n\n",  # whatwg_example4: no space after the colon
        event(chunk_json("C")),
        FINISH,
        DONE,
    ])
    assert stream.text == "ABC"
    assert stream.finish_reason == "stop"


async def test_client_multi_line_data_is_joined_with_newlines() -> None:
    """multiple_data_lines: a JSON object over several `data:` lines is one chunk (`\\n` is JSON whitespace)."""
    body = chunk_json("joined")
    cut = body.index('"choices"')
    stream = await through_client([
        f"data: {body[:cut]}\n".encode(),
        f"data: {body[cut:]}\n".encode(),
        b"\n\n",
        FINISH,
        DONE,
    ])
    assert stream.text == "joined"


async def test_client_done_with_trailing_bytes_stops_there() -> None:
    stream = await through_client([event(chunk_json("ok")), FINISH, b"data: [DONE]\n\ndata: {not json}\n\n"])
    assert stream.text == "ok"


async def test_client_event_not_finished_at_eof_is_not_dispatched() -> None:
    """whatwg_example3: a last event without its blank line is dropped; with no finish, the stream is truncated."""
    assert CASES["whatwg_example3_field_without_colon_and_eof"]["chunks_repr"][-1] == "data:\\n"
    server = Server(response(200, headers=SSE_HEADERS, chunks=[
        event(chunk_json("kept")),
        f"data: {chunk_json(' lost', finish='stop')}\n".encode(),
    ]))
    client, _ = make_client(server)
    stream = client.stream(chat_request())
    async with client:
        with pytest.raises(NetworkError) as caught:
            async with stream:
                async for _ in stream:
                    pass
    assert caught.value.code == "stream_truncated"
    assert stream.text == "kept"
    assert stream.finish_reason is None
    assert server.count == 1
    assert server.streams[0].closed


@pytest.mark.parametrize(
    "content_type", ["text/event-stream", "text/event-stream; charset=utf-8", "text/event-stream;charset=utf-8"]
)
async def test_client_accepts_every_event_stream_content_type(content_type: str) -> None:
    server = Server(response(200, headers=[("content-type", content_type)],
                             chunks=[event(chunk_json("yes")), FINISH, DONE]))
    client, _ = make_client(server)
    async with client:
        stream, _ = await collect(client)
    assert stream.text == "yes"

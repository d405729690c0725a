"""A minimal OpenAI-compatible streaming server that paces one-token chunks on an absolute schedule.

Used by the real-terminal chat benchmarks and the blank-view regression test. Run in its own process:

    python benchmarks/pace_server.py [--port 0]

It prints `PORT <n>` on stdout once it listens, then one JSON line per finished stream:
`{"id", "tokens", "tps", "first", "last", "rate"}` where first/last are `time.monotonic()` (the same clock in
every process on Linux) when the first and last content chunk were written, and rate is (n - 1) / (last - first).

A request is steered by words in its last user message: `tokens=N` (default 1,000), `tps=R` (0: flat out)
and `id=WORD`. The answer is Markdown made of one-token chunks: words, `**bold**`, `` `code` ``, paragraph
breaks and "- item" lines; its last token is the end marker `ENDMARK-<id>`. Token i is written at
`start + i / tps`, so a late wake-up sends everything due at once and the schedule never drifts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time

WORDS = ("the", "quick", "stream", "of", "tokens", "reaches", "a", "terminal", "while", "fast", "models",
         "answer", "every", "question", "with", "latency", "and", "throughput", "numbers", "render")
DEFAULT_TOKENS = 1_000
MAX_TOKENS = 200_000
_PARAM = re.compile(r"\b(tokens|tps|id|shape)=([\w.]+)")


def end_marker(ident: str) -> str:
    """The last token of an answer (what a test or benchmark waits for on screen)."""
    return f"ENDMARK-{ident}"


def make_tokens(count: int, ident: str, shape: str = "mixed", seed: int = 12) -> list[str]:
    """`count` one-token chunks of Markdown, ending with the end marker. `shape`: "mixed" (paragraphs and
    short lists), "paragraph" (one paragraph, no break), "list" (one list of short items) or "code" (one fenced
    code block)."""
    rnd = random.Random(seed)
    tokens: list[str] = []
    body = max(0, count - 2)
    while len(tokens) < body:
        if shape == "paragraph":
            tokens.append(_word(rnd))
        elif shape == "code":
            if not tokens:
                tokens.append("```python\n")
            tokens.extend(f"{_word(rnd).strip('*` ')}_{n} = " if n == 0 else f" {rnd.choice(WORDS)}" for n in range(6))
            tokens.append("\n")
        elif shape == "list":
            tokens.append("\n- ")
            tokens.extend(_word(rnd) for _ in range(rnd.randint(4, 10)))
        elif rnd.random() < 0.3:  # a list of 3-6 items
            for _ in range(rnd.randint(3, 6)):
                tokens.append("\n- ")
                tokens.extend(_word(rnd) for _ in range(rnd.randint(4, 10)))
            tokens.append("\n\n")
        else:
            tokens.extend(_word(rnd) for _ in range(rnd.randint(30, 80)))
            tokens.append("\n\n")
    del tokens[body:]
    if count >= 2:
        tokens.append("\n```\n\n" if shape == "code" else "\n\n")
    tokens.append(end_marker(ident))
    return tokens[-count:] if count else []


def _word(rnd: random.Random) -> str:
    word = rnd.choice(WORDS)
    roll = rnd.random()
    if roll < 0.05:
        return f" **{word}**"
    if roll < 0.09:
        return f" `{word}`"
    return f" {word}"


def _chunk(ident: str, content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {"id": f"pace-{ident}", "object": "chat.completion.chunk", "created": 0, "model": "pace",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _usage(ident: str, tokens: int) -> bytes:
    body = {"id": f"pace-{ident}", "object": "chat.completion.chunk", "created": 0, "model": "pace", "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}}
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def parse_request(body: bytes) -> tuple[int, float, str, str]:
    """(tokens, tps, id, shape) from the last user message of a chat request."""
    try:
        messages = json.loads(body).get("messages") or []
        text = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
    except (ValueError, AttributeError):
        text = ""
    params = dict(_PARAM.findall(text))
    tokens = min(MAX_TOKENS, max(1, int(params.get("tokens", DEFAULT_TOKENS))))
    return tokens, max(0.0, float(params.get("tps", 0))), params.get("id", "x"), params.get("shape", "mixed")


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return method, path, body


async def _stream(writer: asyncio.StreamWriter, tokens: int, tps: float, ident: str, shape: str) -> None:
    chunks = [_chunk(ident, token) for token in make_tokens(tokens, ident, shape)]
    role = _chunk(ident, None).replace(b'"delta":{}', b'"delta":{"role":"assistant"}')
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                 b"connection: close\r\n\r\n" + role)
    await writer.drain()
    first = last = 0.0
    start = time.monotonic()
    sent = 0
    while sent < len(chunks):
        if tps > 0:
            due = min(len(chunks), int((time.monotonic() - start) * tps) + 1)
            if due <= sent:
                await asyncio.sleep(max(0.0, start + sent / tps - time.monotonic()))
                continue
        else:
            due = min(len(chunks), sent + 64)
        writer.write(b"".join(chunks[sent:due]))
        now = time.monotonic()
        if sent == 0:
            first = now
        last = now
        sent = due
        await writer.drain()
    writer.write(_chunk(ident, None, "stop") + _usage(ident, tokens) + b"data: [DONE]\n\n")
    await writer.drain()
    rate = (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0
    print(json.dumps({"id": ident, "tokens": tokens, "tps": tps, "first": first, "last": last, "rate": rate}),
          flush=True)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        method, path, body = await _read_request(reader)
        if method == "GET" and path.rstrip("/").endswith("/models"):
            payload = json.dumps({"object": "list", "data": [{"id": "pace", "object": "model"}]}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                         b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        elif method == "POST" and path.rstrip("/").endswith("/chat/completions"):
            await _stream(writer, *parse_request(body))
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

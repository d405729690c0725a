"""A scripted hostile HTTP server on loopback: it answers every request with exactly the bytes a test gives it.

Where the simulator answers like a real provider, this one answers like a broken or malicious one: a 500 whose
body never ends, a 200 stream that never finishes, JSON with lone surrogates or absurd numbers. The body is
sent without a length (`connection: close`), so an iterator body can be endless; the server stops writing when
the client hangs up.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted response: status, headers, and a body (bytes, or an iterator of byte pieces)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


def sse(*chunks: Any, done: bool = True) -> bytes:
    """An SSE body: each chunk JSON-encoded (a str is sent as written), then `[DONE]`."""
    lines = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def sse_answer(*chunks: Any, done: bool = True, headers: dict[str, str] | None = None) -> Answer:
    return Answer(200, {"content-type": "text/event-stream", **(headers or {})}, sse(*chunks, done=done))


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Answer(status, {"content-type": "application/json", **(headers or {})}, body)


def endless(piece: bytes, *, every_s: float = 0.0, first: bytes = b"") -> Iterator[bytes]:
    """`first`, then `piece` forever (with a pause between pieces, if asked)."""
    if first:
        yield first
    while True:
        yield piece
        if every_s:
            time.sleep(every_s)


def chunk(text: str, **extra: Any) -> dict[str, Any]:
    """A `chat.completion.chunk` carrying `text` (and any extra top-level fields)."""
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}], **extra}


def finish(reason: str = "stop", **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": reason}], **extra}


class HostileServer:
    """`with HostileServer(script) as server:` serves `script(path, attempt)` for every request on 127.0.0.1."""

    def __init__(self, script: Callable[[str, int], Answer] | Answer) -> None:
        self.script = script if callable(script) else (lambda path, attempt: script)
        self.requests: list[str] = []
        self.bytes_sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append(self.path)
                answer = server.script(self.path, len(server.requests))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("connection", "close")
                self.end_headers()
                pieces = [answer.body] if isinstance(answer.body, bytes) else answer.body
                try:
                    for piece in pieces:
                        self.wfile.write(piece)
                        server.bytes_sent += len(piece)
                    self.wfile.flush()
                except OSError:  # the client hung up: what a hostile server cannot prevent
                    pass
                self.close_connection = True

            do_GET = do_POST = _handle

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

"""Helpers for the provider-client tests: recorded fixtures as httpx responses, scripted streams, fake time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import httpx

from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
from botticelli.providers.types import ChatMessage, ChatRequest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recorded"
SSE_HEADERS = [("content-type", "text/event-stream")]
JSON_HEADERS = [("content-type", "application/json")]


def read_headers_file(path: Path) -> tuple[int, list[tuple[str, str]]]:
    """A `*.headers.txt` file: `HTTP/1.1 429 Too Many Requests`, then `name: value` lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return status, headers


def fixture_headers(name: str) -> tuple[int | None, list[tuple[str, str]]]:
    """Status and headers of the fixture's `.headers.txt` (by body file name), or (None, []) if there is none."""
    stem = name
    for suffix in (".reserialized.json", ".inner.json", ".json", ".sse", ".txt"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    path = FIXTURES / f"{stem}.headers.txt"
    if not path.exists():
        return None, []
    return read_headers_file(path)


def split_events(raw: bytes) -> list[bytes]:
    """The body cut after every blank line: one transport chunk per SSE event (as a server flushes them)."""
    parts = raw.split(b"\n\n")
    chunks = [part + b"\n\n" for part in parts[:-1]]
    if parts[-1]:
        chunks.append(parts[-1])
    return chunks


class ScriptedStream(httpx.AsyncByteStream):
    """A response body delivered chunk by chunk; optionally raises after the chunks; records `aclose()`.

    `on_chunk(i)` runs before chunk i is handed over (tests move a fake clock there).
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        error: BaseException | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self.chunks = list(chunks)
        self.error = error
        self.on_chunk = on_chunk
        self.closed = False
        self.delivered = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if self.on_chunk is not None:
                self.on_chunk(i)
            self.delivered += 1
            yield chunk
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        self.closed = True


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SleepRecorder:
    """An async sleep that records the waits instead of sleeping (and moves a FakeClock if given)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.waits: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


class Server:
    """A MockTransport handler that answers with scripted responses and counts the requests."""

    def __init__(self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response] | BaseException):
        self.script = list(responses)
        self.requests: list[httpx.Request] = []
        self.streams: list[ScriptedStream] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.script)) - 1
        item = self.script[index]
        if isinstance(item, BaseException):
            raise item
        response = item(request) if callable(item) and not isinstance(item, httpx.Response) else item
        stream = response.stream
        if isinstance(stream, ScriptedStream):
            self.streams.append(stream)
        return response

    @property
    def count(self) -> int:
        return len(self.requests)


def response(
    status: int,
    body: bytes | str = b"",
    headers: list[tuple[str, str]] | None = None,
    *,
    chunks: list[bytes] | None = None,
    error: BaseException | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A factory (a new body stream per request) for a scripted response."""
    raw = body.encode("utf-8") if isinstance(body, str) else body

    def make(request: httpx.Request) -> httpx.Response:
        stream = ScriptedStream(chunks if chunks is not None else [raw], error=error, on_chunk=on_chunk)
        return httpx.Response(status, headers=list(headers or []), stream=stream, request=request)

    return make


def fixture_response(
    name: str,
    *,
    status: int | None = None,
    per_event: bool = True,
    extra_headers: list[tuple[str, str]] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A recorded fixture as a response: its `.headers.txt` headers and status where one exists."""
    raw = (FIXTURES / name).read_bytes()
    file_status, headers = fixture_headers(name)
    if not headers:
        headers = list(SSE_HEADERS if name.endswith(".sse") else JSON_HEADERS)
    headers = headers + list(extra_headers or [])
    chunks = split_events(raw) if name.endswith(".sse") and per_event else [raw]
    return response(status or file_status or 200, headers=headers, chunks=chunks, on_chunk=on_chunk)


def make_client(
    server: Server,
    *,
    max_retries: int = 2,
    max_retry_after_s: float = 30.0,
    clock: Callable[[], float] | None = None,
    sleep: SleepRecorder | None = None,
    **kwargs: object,
) -> tuple[OpenAICompatibleClient, SleepRecorder]:
    sleeper = sleep or SleepRecorder()
    client = OpenAICompatibleClient(
        "https://api.example.test/v1",
        api_key="sk-test",
        provider="testprov",
        retry=RetryPolicy(max_retries=max_retries, max_retry_after_s=max_retry_after_s),
        transport=httpx.MockTransport(server),
        sleep=sleeper,
        clock=clock or FakeClock(),
        **kwargs,  # type: ignore[arg-type]
    )
    return client, sleeper


def chat_request(model: str = "test-model") -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage("user", "hello")])


async def collect(client: OpenAICompatibleClient, request: ChatRequest | None = None):  # type: ignore[no-untyped-def]
    """Stream to the end and return (stream, events); errors propagate."""
    events = []
    stream = client.stream(request or chat_request())
    async with stream:
        async for event in stream:
            events.append(event)
    return stream, events


OK_COMPLETION = (
    b'{"id":"chatcmpl-ok","object":"chat.completion","model":"test-model","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}'
)


def ok_json_response() -> Callable[[httpx.Request], httpx.Response]:
    """A plain successful non-streamed answer: text "fine"."""
    return response(200, OK_COMPLETION, JSON_HEADERS)

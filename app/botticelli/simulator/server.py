"""A minimal HTTP/1.1 server for the simulator on `asyncio.start_server` (stdlib only, loopback by default).

Request line, headers, `Content-Length` (or chunked) request bodies and keep-alive; streamed responses use
`Transfer-Encoding: chunked`, fixed ones `Content-Length`. A body raising `ConnectionCut` aborts the socket
with no terminating chunk. Writes are batched and only drained when the send buffer is high, so 20,000 SSE
chunks cross loopback quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import traceback
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from typing import Any

from botticelli.simulator.engine import ConnectionCut, SimEngine, SimRequest, SimResponse
from botticelli.simulator.settings import SimSettings
from botticelli.simulator.state import SimState

HEADER_LIMIT = 1 << 20
MAX_BODY = 64 << 20
DRAIN_ABOVE = 1 << 19
_REASONS = {498: "Capacity Exceeded"}


class _BadRequest(Exception):
    pass


def _internal_error(exc: Exception) -> SimResponse:
    body = f"simulator internal error: {type(exc).__name__}: {exc}".encode()

    async def once() -> AsyncIterator[bytes]:
        yield body

    return SimResponse(500, [("content-type", "text/plain"), ("content-length", str(len(body)))], once())


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _REASONS.get(status, "Unknown")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest("bad chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise _BadRequest(f"request body over {MAX_BODY} bytes")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_request(reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop
                        ) -> tuple[SimRequest, bool] | None:
    """The next request and whether the connection may be kept alive; None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest("incomplete request head") from None
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        raise _BadRequest(f"bad request line {lines[0]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest("bad content-length") from None
        if length > MAX_BODY:
            raise _BadRequest(f"request body over {MAX_BODY} bytes")
        body = await reader.readexactly(length) if length > 0 else b""
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (version.strip() == "HTTP/1.1" or "keep-alive" in connection)
    return SimRequest(method, target, headers, body, received_at=loop.time()), keep_alive


class SimServer:
    """A running simulator: `.base_url`, `.root_url`, `.state`; stop it with `close()` or `aclose()`."""

    def __init__(self, settings: SimSettings, host: str, state: SimState | None = None) -> None:
        self.settings = settings
        self.host = host
        self.port = 0
        self.state = state or SimState()
        self.engine = SimEngine(settings, self.state)
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:PORT` (no path)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, `http://127.0.0.1:PORT/v1` (the groq flavour also serves `/openai/v1`)."""
        return f"{self.root_url}/v1"

    async def start(self, port: int = 0) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._connection, self.host, port, limit=HEADER_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        """Stop listening and abort every open connection."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    def close(self) -> None:
        """Like `aclose()`, callable from any thread (blocks until done when called from another thread)."""
        loop = self._loop
        if loop is None or self._server is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(self.aclose())
        else:
            asyncio.run_coroutine_threadsafe(self.aclose(), loop).result(timeout=10)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        conn_id = next(self._ids)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.state.open_connections += 1
        self._writers.add(writer)
        writer.transport.set_write_buffer_limits(high=4 * DRAIN_ABOVE)
        try:
            while True:
                try:
                    parsed = await _read_request(reader, loop)
                except (_BadRequest, asyncio.LimitOverrunError, ValueError):
                    writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    await writer.drain()
                    return
                if parsed is None:
                    return
                request, keep_alive = parsed
                request.connection_id = conn_id
                try:
                    response = await self.engine.handle(request)
                except Exception as exc:  # a simulator bug: answer 500 and say what it was
                    traceback.print_exc()
                    response = _internal_error(exc)
                if not await self._send(reader, writer, response, keep_alive, request.method == "HEAD"):
                    return
                if not keep_alive:
                    return
        except ConnectionCut:
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.transport.abort()
        except asyncio.CancelledError:
            # Only aclose() cancels handlers; ending quietly keeps asyncio from logging the cancelled task.
            writer.transport.abort()
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._writers.discard(writer)
            self.state.open_connections -= 1
            if not writer.transport.is_closing():
                writer.close()

    async def _send(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, response: SimResponse,
                    keep_alive: bool, head_only: bool) -> bool:
        """Write one response; False when the connection must not be reused."""
        fixed = response.header("content-length") is not None
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if not fixed:
            lines.append("transfer-encoding: chunked")
        lines.append(f"connection: {'keep-alive' if keep_alive else 'close'}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        body: AsyncIterator[Any] = response.body
        pieces: Any = None
        try:
            if head_only:
                return True
            transport = writer.transport
            pieces = _until_cut(body, transport)
            async for piece in pieces:
                if not piece:
                    continue
                if fixed:
                    writer.write(piece)
                else:
                    writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                if transport.is_closing() or reader.at_eof():
                    transport.abort()  # the client went away: stop producing
                    return False
                if transport.get_write_buffer_size() > DRAIN_ABOVE:
                    await writer.drain()
            if not fixed:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        finally:
            if pieces is not None:
                await pieces.aclose()
            await body.aclose()  # type: ignore[attr-defined]


async def _until_cut(body: AsyncIterator[bytes], transport: asyncio.WriteTransport) -> AsyncIterator[bytes]:
    """Pass `body` through; on `ConnectionCut`, let what was written reach the socket before re-raising."""
    try:
        async for piece in body:
            yield piece
    except ConnectionCut:
        for _ in range(500):
            if transport.is_closing() or transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.01)
        raise


async def serve(settings: SimSettings | None = None, host: str = "127.0.0.1", port: int = 0,
                state: SimState | None = None) -> SimServer:
    """Start a simulator on `host:port` (0: an ephemeral port) in the running loop; return its handle."""
    server = SimServer(settings or SimSettings(), host, state)
    await server.start(port)
    return server


@contextlib.contextmanager
def running_simulator(settings: SimSettings | None = None, *, host: str = "127.0.0.1", port: int = 0,
                      **settings_kw: Any) -> Iterator[SimServer]:
    """Run a simulator in a background thread with its own event loop for the duration of the block.

    `settings_kw` (`flavor="openai"`, `tps=800`, ...) build the `SimSettings` when `settings` is None.
    """
    if settings is None:
        settings = SimSettings(**settings_kw)
    elif settings_kw:
        raise TypeError("pass either settings or SimSettings keyword arguments, not both")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["server"] = loop.run_until_complete(serve(settings, host, port))
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc
            loop.close()
            started.set()
            return
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="botticelli-simulator", daemon=True)
    thread.start()
    started.wait()
    if "error" in box:
        thread.join()
        raise box["error"]
    server: SimServer = box["server"]
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.aclose(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

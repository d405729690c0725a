"""The one async OpenAI-compatible client: `generate()`, `stream()` and `list_models()` for any provider.

Retries happen only before a response starts (connect errors, timeouts waiting for headers, 408, 409, 429,
498, 5xx), with exponential backoff and jitter, honouring `retry-after`/`retry-after-ms` up to a cap; a stream
that has started is never retried. Every failure is raised as a member of `botticelli.providers.errors`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from botticelli import __version__
from botticelli import format as fmt
from botticelli.providers.chunks import ChunkReader, content_text, text_or_none
from botticelli.providers.classify import classify_http_error, classify_inband_error
from botticelli.providers.errors import NetworkError, ProtocolError, ProviderError, RateLimitError
from botticelli.providers.models import parse_models
from botticelli.providers.ratelimit import (
    PacingExceeded,
    RequestPacer,
    parse_rate_limit_headers,
    parse_retry_after,
)
from botticelli.providers.sse import EventTooLarge, iter_sse
from botticelli.providers.timings import reply_usage
from botticelli.providers.types import (
    ChatRequest,
    ChatResponse,
    ContentDelta,
    Finish,
    ModelInfo,
    RateLimitInfo,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
    Usage,
    UsageUpdate,
)
from botticelli.safety import RedactingFilter
from botticelli.stats import SpeedFigures, SpeedMeter, TokenRatios
from botticelli.untrusted_json import loads as json_loads
from botticelli.untrusted_json import repaired, replace_surrogates

log = logging.getLogger("botticelli.providers")

RetryHook = Callable[[float, int, int], None]
"""`on_retry(wait_s, attempt, of)`: a retry is scheduled after `wait_s`; it will be attempt `attempt` of `of`."""
RETRY_STATUSES = frozenset({408, 409, 429, 498})
DRAIN_AFTER_DONE_S = 0.25
MAX_ERROR_BODY = 1024 * 1024
"""Bytes of an error body read; the rest is discarded unread (the connection is closed)."""
DEFAULT_MAX_ANSWER_CHARS = 16 * 1024 * 1024
"""An answer (text, reasoning and tool-call arguments) longer than this ends with "answer too large"."""
DEFAULT_TOTAL_TIMEOUT_S = 600.0
"""The longest one request may take, from sending to the last byte, however the server trickles bytes."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try before a response starts (the official SDKs' constants, with a lower retry-after cap)."""

    max_retries: int = 2
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer server-directed wait is not waited: the error says how long

    def backoff(self, retries_taken: int, rng: random.Random | None = None) -> float:
        jitter = 1 - 0.25 * (rng or random).random()
        return min(self.initial_delay_s * 2**retries_taken, self.max_delay_s) * jitter


def _is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def _network_error(exc: Exception, provider: str, url: httpx.URL, timeout: httpx.Timeout) -> NetworkError:
    where = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(f"timed out connecting to {where} after {timeout.connect:g}s",
                            provider=provider, code="connect_timeout")
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        return NetworkError(f"could not connect to {where}: {reason}", provider=provider, code="connect_error")
    if isinstance(exc, httpx.ReadTimeout):
        return NetworkError(f"no response from {where} within {timeout.read:g}s",
                            provider=provider, code="read_timeout")
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"timed out talking to {where}", provider=provider, code="timeout")
    return NetworkError(f"connection to {where} failed: {exc}", provider=provider, code="transport_error")


class OpenAICompatibleClient:
    """An async client for one provider (one base URL and key) speaking the OpenAI chat-completions protocol."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        provider: str = "custom",
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        pacer: RequestPacer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        key_hint: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS,
        total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_answer_chars = max_answer_chars
        self.total_timeout_s = total_timeout_s
        self.provider = provider
        self.retry = retry or RetryPolicy()
        self.pacer = pacer
        self.key_hint = key_hint
        self.clock = clock
        self._sleep = sleep
        self.ratios = TokenRatios()
        self.timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s, write=30.0, pool=10.0)
        base_headers = {"User-Agent": f"botticelli/{__version__}", **(dict(headers or {}))}
        if api_key:
            base_headers["Authorization"] = f"Bearer {api_key}"
        self._redactor = RedactingFilter([api_key]) if api_key else None
        self._http = httpx.AsyncClient(
            headers=base_headers,
            timeout=self.timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    async def __aenter__(self) -> OpenAICompatibleClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- public API --------------------------------------------------------------------------------------

    def stream(
        self, request: ChatRequest, *, meter: SpeedMeter | None = None, on_retry: RetryHook | None = None
    ) -> ChatStream:
        """Stream an answer: `async with client.stream(req) as s: async for event in s: ...`.

        `on_retry(wait_s, attempt, of)` is told of every retry scheduled before the answer starts.
        """
        return ChatStream(self, request, meter, on_retry)

    async def generate(self, request: ChatRequest) -> ChatResponse:
        """A whole answer in one response (no streaming)."""
        deadline = self.deadline()
        response, _ = await self.send("POST", "/chat/completions", json_body=request.to_body(stream=False),
                                       deadline=deadline)
        try:
            payload = await self.read_json(response, deadline)
        finally:
            await response.aclose()
        try:
            result = parse_completion(payload, provider=self.provider)
        except ProviderError as exc:
            self.scrub(exc)
            raise
        result.rate_limit = parse_rate_limit_headers(response.headers)
        result.request_id = response.headers.get("x-request-id")
        return result

    async def list_models(self) -> list[ModelInfo]:
        """Every model `GET /models` lists (see `models.chat_models` to keep the chat ones)."""
        deadline = self.deadline()
        response, _ = await self.send("GET", "/models", deadline=deadline)
        try:
            payload = await self.read_json(response, deadline)
        finally:
            await response.aclose()
        return parse_models(payload)

    # -- plumbing ------------------------------------------------------------------------------------------

    def deadline(self) -> float:
        """The event-loop time by which a request starting now must be done (`total_timeout_s`)."""
        return asyncio.get_running_loop().time() + self.total_timeout_s

    def total_timeout_error(self, code: str = "total_timeout") -> NetworkError:
        return NetworkError(
            f"the answer took longer than {self.total_timeout_s:g}s, the profile's total_timeout_s",
            provider=self.provider,
            code=code,
            hint="the partial answer is kept; raise total_timeout_s for longer answers",
        )

    def answer_too_large_error(self) -> ProtocolError:
        return ProtocolError(
            f"answer too large: over {self.max_answer_chars:,} characters, the profile's max_answer_mb",
            provider=self.provider,
            code="answer_too_large",
            hint="the text so far is kept; ask for a shorter answer or raise max_answer_mb",
        )

    async def read_json(self, response: httpx.Response, deadline: float) -> Any:
        try:
            async with asyncio.timeout_at(deadline):
                body, more = await _read_capped(response, self.max_answer_chars + MAX_ERROR_BODY)
        except TimeoutError as exc:
            raise self.total_timeout_error() from exc
        except httpx.TransportError as exc:
            raise _network_error(exc, self.provider, response.request.url, self.timeout) from exc
        if more:
            raise self.answer_too_large_error()
        try:
            return json_loads(body)
        except ValueError as exc:
            snippet = body[:120].decode("utf-8", "replace")
            raise self.scrub(ProtocolError(f"the response is not JSON: {snippet!r}", provider=self.provider,
                                            status=response.status_code)) from exc

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        stream: bool = False,
        on_attempt: Callable[[], None] | None = None,
        on_retry: RetryHook | None = None,
        estimated_tokens: int = 0,
        deadline: float | None = None,
    ) -> tuple[httpx.Response, int]:
        """Send with retries until a 2xx response starts; returns it (body unread) and the retries taken.

        All of it, retries and waits included, must end by `deadline` (default: `total_timeout_s` from now).
        `on_attempt()` is called as each attempt goes out; `on_retry(wait_s, attempt, of)` before each wait, with
        the number of the attempt that follows it and the most attempts there can be.
        """
        if self.pacer is not None:
            try:
                await self.pacer.acquire(estimated_tokens)
            except PacingExceeded as exc:
                raise RateLimitError(
                    f"this profile's own rate_limits allow the next request in {fmt.wait(exc.wait_s)}",
                    provider=self.provider,
                    code="client_rate_limit",
                    retry_after_s=round(exc.wait_s, 1),
                ) from exc
        try:
            async with asyncio.timeout_at(self.deadline() if deadline is None else deadline):
                return await self._send_with_retries(method, path, json_body, stream, on_attempt, on_retry)
        except TimeoutError as exc:
            raise self.total_timeout_error() from exc

    async def _send_with_retries(
        self,
        method: str,
        path: str,
        json_body: dict[str, Any] | None,
        stream: bool,
        on_attempt: Callable[[], None] | None,
        on_retry: RetryHook | None,
    ) -> tuple[httpx.Response, int]:
        headers = {"Accept": "text/event-stream"} if stream else {"Accept": "application/json"}
        url = f"{self.base_url}{path}"
        retries = 0
        while True:
            request = self._http.build_request(method, url, json=json_body, headers=headers)
            if on_attempt is not None:
                on_attempt()
            try:
                response = await self._http.send(request, stream=True)
            except httpx.UnsupportedProtocol as exc:
                raise NetworkError(f"cannot use {url!r}: {exc}", provider=self.provider, code="bad_url",
                                   hint="check the profile's base_url") from exc
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = _network_error(exc, self.provider, request.url, self.timeout)
                if retries < self.retry.max_retries:
                    await self._wait_to_retry(self.retry.backoff(retries), retries, on_retry)
                    retries += 1
                    continue
                if retries:
                    error.message += f" ({retries + 1} attempts)"
                    error.args = (error.message,)
                raise error from exc
            if response.is_success:
                return response, retries
            error = await self._error_from(response)
            wait = self._retry_wait(response, error, retries)
            if wait is None:
                error.retries = retries
                raise error
            log.debug("%s: HTTP %s, retrying in %.2fs", self.provider, response.status_code, wait)
            await self._wait_to_retry(wait, retries, on_retry)
            retries += 1

    async def _wait_to_retry(self, wait_s: float, retries: int, on_retry: RetryHook | None) -> None:
        if on_retry is not None:
            on_retry(wait_s, retries + 2, self.retry.max_retries + 1)
        await self._sleep(wait_s)

    async def _error_from(self, response: httpx.Response) -> ProviderError:
        try:
            body, _ = await _read_capped(response, MAX_ERROR_BODY)  # the rest is never read
        except httpx.TransportError:
            body = b""
        finally:
            await response.aclose()
        error = classify_http_error(
            response.status_code, response.headers, body, provider=self.provider, key_hint=self.key_hint
        )
        error.rate_limit = parse_rate_limit_headers(response.headers)
        return self.scrub(error)

    def scrub(self, error: ProviderError) -> ProviderError:
        """`error` with this client's key masked wherever the provider's text echoed it back (in place)."""
        if self._redactor is not None:
            error.message = self._redactor.redact(error.message)
            error.args = (error.message,)
        return error

    def _retry_wait(self, response: httpx.Response, error: ProviderError, retries: int) -> float | None:
        """Seconds to wait before retrying, or None to give up now."""
        should = response.headers.get("x-should-retry")
        if should == "false" or retries >= self.retry.max_retries:
            return None
        if should != "true" and not _is_retryable_status(response.status_code):
            return None
        # A server-directed wait counts on any retried status (a 503 or HF's 500 with `retry-after: 1` too).
        retry_after = error.retry_after_s
        if retry_after is None:
            retry_after = parse_retry_after(response.headers)
        if retry_after is not None and retry_after > 0:
            if retry_after > self.retry.max_retry_after_s:
                return None
            return retry_after
        return self.retry.backoff(retries)


class ChatStream:
    """One streamed answer. Iterate it for events; afterwards (or after an error) read what arrived.

    `text`, `reasoning`, `usage`, `finish_reason`, `tool_calls` hold what the stream delivered so far, so a
    caller keeps the partial answer when a `ProviderError` ends the stream. `figures()` gives the speed.
    """

    def __init__(
        self,
        client: OpenAICompatibleClient,
        request: ChatRequest,
        meter: SpeedMeter | None,
        on_retry: RetryHook | None = None,
    ) -> None:
        self._client = client
        self._on_retry = on_retry
        self.request = request
        self.meter = meter or SpeedMeter(
            clock=client.clock, chars_per_token=client.ratios.get((client.provider, request.model))
        )
        self.reader = ChunkReader(provider=client.provider)
        self.response: httpx.Response | None = None
        self.retries = 0
        self.rate_limit: RateLimitInfo | None = None
        self.request_id: str | None = None
        self.done = False
        self.deadline: float | None = None
        self._fallback: ChatResponse | None = None
        self._sse: AsyncIterator[Any] | None = None

    async def __aenter__(self) -> ChatStream:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        prompt_chars = sum(len(m.content) for m in self.request.messages)
        estimate = prompt_chars // 4 + (self.request.max_tokens or 0)
        self.deadline = self._client.deadline()
        self.response, self.retries = await self._client.send(
            "POST",
            "/chat/completions",
            json_body=self.request.to_body(stream=True),
            stream=True,
            on_attempt=self.meter.request_sent,
            on_retry=self._on_retry,
            estimated_tokens=estimate,
            deadline=self.deadline,
        )
        self.rate_limit = parse_rate_limit_headers(self.response.headers)
        self.request_id = self.response.headers.get("x-request-id")
        content_type = self.response.headers.get("content-type", "").lower()
        if "text/event-stream" not in content_type:
            # Some servers ignore `stream: true` and answer with one JSON body.
            payload = await self._client.read_json(self.response, self.deadline)
            try:
                self._fallback = parse_completion(payload, provider=self._client.provider)
            except ProviderError as exc:
                self._client.scrub(exc)
                raise

    async def aclose(self) -> None:
        if self.response is None:
            return
        try:
            if self.done and self._sse is not None:
                await self._drain_after_done()
        finally:
            await self.response.aclose()

    async def _drain_after_done(self) -> None:
        """Read what follows `[DONE]` (normally just the chunked terminator) so the connection goes back to the
        pool; closing a response with unread bytes closes its connection, and the next request pays a new
        TCP (and TLS) handshake. Bounded: a server that keeps the response open is simply disconnected."""
        sse, self._sse = self._sse, None
        try:
            async with asyncio.timeout(DRAIN_AFTER_DONE_S):
                async for _ in sse:  # type: ignore[union-attr]
                    pass
        except Exception:  # a late error after a finished answer changes nothing: the connection is dropped
            pass

    # What has arrived so far -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return self.reader.text

    @property
    def reasoning(self) -> str:
        return self.reader.reasoning

    @property
    def usage(self) -> Usage | None:
        return self.reader.usage

    @property
    def finish_reason(self) -> str | None:
        return self.reader.finish_reason

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self.reader.tool_calls

    def figures(self) -> SpeedFigures:
        return self.meter.figures()

    def result(self) -> ChatResponse:
        return ChatResponse(
            text=self.text,
            reasoning=self.reasoning or None,
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.reader.model,
            id=self.reader.id,
            tool_calls=self.tool_calls,
            rate_limit=self.rate_limit,
            request_id=self.request_id,
        )

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        if self.response is None:
            raise RuntimeError("ChatStream used before open(); use `async with client.stream(...)`")
        try:
            if self._fallback is not None:
                for event in self._replay(self._fallback):
                    yield event
            else:
                async for event in self._read_sse(self.response):
                    yield event
        finally:
            if self.meter.t_end is None:
                self.meter.finish()
        self._learn_ratio()

    def _replay(self, answer: ChatResponse) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        reader = self.reader
        if answer.reasoning:
            reader.reasoning_parts.add(answer.reasoning)
            self.meter.on_text(answer.reasoning)
            events.append(ReasoningDelta(answer.reasoning))
        if answer.text:
            reader.text_parts.add(answer.text)
            self.meter.on_text(answer.text)
            events.append(ContentDelta(answer.text))
        if answer.usage is not None:
            reader.usage = answer.usage
            self.meter.on_usage(answer.usage)
            events.append(UsageUpdate(answer.usage))
        for call in answer.tool_calls:
            reader.add_tool_call(call)
        reader.model, reader.id = answer.model, answer.id
        reader.finish_reason = answer.finish_reason
        if answer.finish_reason:
            events.append(Finish(answer.finish_reason))
        self.done = True
        return events

    async def _read_sse(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        client, meter, reader = self._client, self.meter, self.reader
        provider, cap = client.provider, client.max_answer_chars
        try:
            self._sse = iter_sse(response, deadline=self.deadline, read_timeout_s=client.timeout.read or 0.0,
                                 max_event_chars=cap + MAX_ERROR_BODY)
            async for event_name, data in self._sse:
                if event_name == "error":
                    raise classify_inband_error(_loads_or_text(data), provider=provider)
                if not data:
                    continue
                if data.startswith("[DONE]"):
                    self.done = True
                    break
                try:
                    chunk = json.loads(data)
                    if "\\u" in data:  # only then can an escaped lone surrogate be there
                        chunk = repaired(data, chunk)
                except (ValueError, RecursionError) as exc:
                    raise ProtocolError(
                        f"a malformed chunk arrived mid-stream: {data[:80]!r}",
                        provider=provider,
                        code="malformed_chunk",
                        hint="the server sent invalid JSON; the partial answer is kept",
                    ) from exc
                for event in reader.feed(chunk):
                    kind = type(event)
                    if kind is ContentDelta or kind is ReasoningDelta:
                        meter.on_text(event.text)  # type: ignore[union-attr]
                    elif kind is UsageUpdate:
                        meter.on_usage(event.usage)  # type: ignore[union-attr]
                    yield event
                if reader.size > cap:
                    raise client.answer_too_large_error()
        except ProviderError as exc:  # an in-band error or a malformed chunk: provider text, may echo the key
            client.scrub(exc)
            raise
        except TimeoutError as exc:
            raise client.total_timeout_error() from exc
        except EventTooLarge as exc:
            raise client.answer_too_large_error() from exc
        except httpx.ReadTimeout as exc:
            raise NetworkError(
                f"the stream stalled: no data for {client.timeout.read:g}s",
                provider=provider,
                code="stream_stalled",
                hint="the partial answer is kept; try again",
            ) from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"the connection was cut mid-stream ({exc})",
                provider=provider,
                code="stream_cut",
                hint="the partial answer is kept; try again",
            ) from exc
        if not self.done and reader.finish_reason is None:
            raise NetworkError(
                "the stream ended before the answer was finished",
                provider=provider,
                code="stream_truncated",
                hint="the partial answer is kept; try again",
            )
        self.done = True

    def _learn_ratio(self) -> None:
        usage = self.usage
        if usage is not None and usage.completion_tokens:
            chars = len(self.text) + len(self.reasoning)
            self._client.ratios.learn((self._client.provider, self.request.model), chars, usage.completion_tokens)


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body, and whether more followed (the rest is left unread)."""
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > limit:
            del body[limit:]
            return bytes(body), True
    return bytes(body), False


def _loads_or_text(data: str) -> Any:
    try:
        return json_loads(data)
    except ValueError:
        return replace_surrogates(data) or "the provider reported an error mid-stream"


def parse_completion(payload: Any, *, provider: str | None = None) -> ChatResponse:
    """A non-streamed `chat.completion` body as a `ChatResponse`."""
    if not isinstance(payload, dict):
        raise ProtocolError("the response is not a JSON object", provider=provider)
    if payload.get("error"):
        raise classify_inband_error(payload, provider=provider)
    choices = payload.get("choices")
    if not isinstance(choices, list):
        raise ProtocolError("the response has no `choices`", provider=provider)
    message: Any = {}
    finish = None
    if choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        finish = text_or_none(choices[0].get("finish_reason"))
    if not isinstance(message, dict):
        raise ProtocolError(f"the answer's `message` is a {type(message).__name__}, not an object",
                            provider=provider, code="bad_response")
    reasoning = message.get("reasoning") or message.get("reasoning_content")
    raw_calls = message.get("tool_calls")
    tool_calls = [
        _tool_call(i, call) for i, call in enumerate(raw_calls if isinstance(raw_calls, list) else [])
        if isinstance(call, dict)
    ]
    usage = payload.get("usage")
    return ChatResponse(
        text=content_text(message.get("content")),
        reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
        finish_reason=finish,
        usage=reply_usage(usage, payload.get("timings")),
        model=text_or_none(payload.get("model")),
        id=text_or_none(payload.get("id")),
        tool_calls=tool_calls,
    )


def _tool_call(index: int, call: dict[str, Any]) -> ToolCall:
    """One complete tool call of a non-streamed answer; parts of the wrong type are left out."""
    function = call.get("function")
    if not isinstance(function, dict):
        function = {}
    arguments = function.get("arguments")
    if isinstance(arguments, dict | list):  # some servers send the arguments as an object
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(index=index, id=text_or_none(call.get("id")), name=text_or_none(function.get("name")),
                    arguments=arguments if isinstance(arguments, str) else "")

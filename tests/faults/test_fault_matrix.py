"""The fault matrix, client level: every way a provider or the network can fail, against a real loopback simulator.

Each row is one fault, injected with a simulator directive (`[[fault:NAME ...]]` in the user message), and
what a caller of `OpenAICompatibleClient.stream()` (the client the TUI, `ask` and `bench` all use) must get:

* the error kind and its CLI exit code (docs/ARCHITECTURE.md: 3 auth, 4 rate limit, 5 model, 6 invalid request,
  7 network, 8 server, 9 protocol), or success;
* the one-line error `error: <profile>: <what happened> (<what to do>)` carrying the provider's own text;
* the text kept: what streamed before a mid-stream fault stays in `stream.text`;
* how many requests the simulator received: retries only before a response starts (connect errors,
  timeouts waiting for headers, 408/409/429/498/5xx), never once a stream has started;
* no connection left open once the client is closed (the simulator's own count, polled with a bound).

The client runs with short timeouts (connect 0.5 s, read 0.5 s), `max_retries=2`, a 10 ms backoff and a 1 s cap
on server-directed waits, so the whole matrix takes a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import httpx
import pytest

from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest
from botticelli.simulator.content import filler_text
from faults import (
    AFTER,
    BAD_UTF8_SHOWN,
    CONNECT_TIMEOUT_S,
    ECHO,
    PROMPT,
    READ_TIMEOUT_S,
    SIM_MODEL,
    TOKENS,
    Sim,
    free_closed_port,
    full_backlog_listener,
    head,
    tail,
)

PROFILE = "sim"
MAX_RETRIES = 2
RETRY = RetryPolicy(max_retries=MAX_RETRIES, initial_delay_s=0.01, max_delay_s=0.05, max_retry_after_s=1.0)
BIG = 1_048_576


@dataclass(frozen=True)
class Case:
    """One row: the fault and what the caller must see."""

    name: str
    fault: str
    kind: str | None  # None: the answer must succeed
    exit_code: int  # what `botticelli ask` exits with (0 on success)
    requests: int  # chat requests the simulator received
    text: str  # stream.text afterwards: "" when nothing streamed, the partial text, or the whole answer
    says: tuple[str, ...] = ()  # in the one-line error: the provider's own words
    hint_says: str = ""  # in the one-line error's "(what to do)"
    waits: tuple[float, ...] | None = None  # server-directed waits the client slept, when that is the point
    extra: dict[str, str] = field(default_factory=dict)


RETRIED = 1 + MAX_RETRIES  # a retryable status on every attempt

# fmt: off
MATRIX = [
    # --- refused before anything streams -------------------------------------------------------------------
    Case("401 bad key", "401", "auth", 3, 1, "", ("HTTP 401", "Invalid API Key"), "API key"),
    Case("403 forbidden", "403", "auth", 3, 1, "", ("HTTP 403", "Organization has been restricted"), "permissions"),
    Case("404 model_not_found", "404", "model_not_found", 5, 1, "",
         ("HTTP 404", "model_not_found", f"`{SIM_MODEL}` does not exist"), "botticelli models"),
    Case("400 model_decommissioned", "decommissioned", "model_not_found", 5, 1, "",
         ("HTTP 400", "model_decommissioned", "has been decommissioned"), "pick another"),
    Case("400 context_length_exceeded", "context_length", "invalid_request", 6, 1, "",
         ("HTTP 400", "context_length_exceeded", "reduce the length"), "shorten"),
    Case("413 request too large", "413", "invalid_request", 6, 1, "", ("HTTP 413", "Request too large"), "shorten"),
    Case("422 plain text", "422", "invalid_request", 6, 1, "",
         ("HTTP 422", "Failed to deserialize the JSON body"), "change the request"),
    # --- rate limits ---------------------------------------------------------------------------------------
    Case("429 short retry-after, then ok", "429 retry_after=0.2 times=1", None, 0, 2, ECHO, waits=(0.2,)),
    Case("429 retry-after above the cap", "429 retry_after=100", "rate_limit", 4, 1, "",
         ("HTTP 429", "Rate limit reached"), "wait 1 min 40 s", waits=()),
    Case("498 capacity", "498", "rate_limit", 4, RETRIED, "", ("HTTP 498", "at capacity"), "try again"),
    # --- provider failures ---------------------------------------------------------------------------------
    Case("500 server error", "500", "server", 8, RETRIED, "", ("HTTP 500", "Internal Server Error"), "try again"),
    Case("502 HTML page", "502", "server", 8, RETRIED, "", ("HTTP 502", "Bad Gateway"), "try again"),
    Case("503 plain text", "503", "server", 8, RETRIED, "",
         ("HTTP 503", "upstream connect error or disconnect/reset before headers"), "try again"),
    # --- timeouts and broken streams -----------------------------------------------------------------------
    Case("no byte before the read timeout", "stall_first seconds=1", "network", 7, RETRIED, "",
         ("no response from", f"within {READ_TIMEOUT_S:g}s"), "try again"),
    Case("stall mid-stream", f"stall_mid after={AFTER} seconds=1", "network", 7, 1, head(),
         ("stream stalled", f"no data for {READ_TIMEOUT_S:g}s"), "partial answer is kept"),
    Case("connection cut mid-stream", f"cut after={AFTER}", "network", 7, 1, head(),
         ("connection was cut mid-stream",), "partial answer is kept"),
    Case("malformed JSON chunk", f"malformed after={AFTER}", "protocol", 9, 1, head(),
         ("malformed chunk", "{not json"), "partial answer is kept"),
    Case("event: error mid-stream", f"error_event after={AFTER}", "invalid_request", 6, 1, head(),
         ("Tool call validation failed",), "change the request"),
    Case("x_groq.error mid-stream", f"x_groq_error after={AFTER}", "server", 8, 1, head(),
         ("injected an x_groq.error",), "try again"),
    # --- odd but valid streams: must succeed ---------------------------------------------------------------
    Case("missing [DONE]", "no_done", None, 0, 1, ECHO),
    Case("chunk with empty choices", "empty_choices after=1", None, 0, 1, ECHO),
    Case("1 MB chunk", f"big_chunk after={AFTER} size={BIG}", None, 0, 1, head() + filler_text(BIG) + tail()),
    # Invalid UTF-8 inside a chunk's JSON: decoded with replacement, so the user sees U+FFFD in its place.
    Case("invalid UTF-8 in a chunk", f"bad_utf8 after={AFTER}", None, 0, 1, head() + BAD_UTF8_SHOWN + tail()),
]
# fmt: on


def make_client(base_url: str, waits: list[float], transport: httpx.AsyncBaseTransport | None = None
                ) -> OpenAICompatibleClient:
    """The client as `open_client` builds it for a profile, with short timeouts and a recorded sleep."""

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    return OpenAICompatibleClient(
        base_url,
        api_key="gsk_faultmatrix0000000000000000",
        provider=PROFILE,
        timeout_s=READ_TIMEOUT_S,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        retry=RETRY,
        transport=transport,
        sleep=sleep,
    )


def chat(fault: str | None) -> ChatRequest:
    directive = f" [[fault:{fault}]]" if fault else ""
    return ChatRequest(SIM_MODEL, [ChatMessage("user", f"[[echo]] {PROMPT}{directive}")], max_tokens=200)


async def run_stream(client: OpenAICompatibleClient, request: ChatRequest):
    """Read the stream to its end; return it and the error that ended it (or None)."""
    stream = client.stream(request)
    try:
        async with stream:
            async for _event in stream:
                pass
    except ProviderError as exc:
        return stream, exc
    finally:
        await client.aclose()
    return stream, None


def check_error(error: ProviderError | None, kind: str, exit_code: int, says: tuple[str, ...], hint_says: str
                ) -> str:
    assert error is not None, "the fault must surface as an error"
    assert (error.kind, error.exit_code) == (kind, exit_code), error.one_line()
    line = error.one_line()
    assert line.startswith(f"error: {PROFILE}: ") and "\n" not in line
    assert line.endswith(f" ({error.hint})") and hint_says in error.hint, line
    for words in says:
        assert words in line, line
    return line


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.name)
async def test_fault_matrix_through_the_client(sim: Sim, case: Case) -> None:
    waits: list[float] = []
    stream, error = await run_stream(make_client(sim.base_url, waits), chat(case.fault))

    if case.kind is None:
        assert error is None, error.one_line()
        assert stream.finish_reason == "stop"
    else:
        check_error(error, case.kind, case.exit_code, case.says, case.hint_says)
    assert stream.text == case.text  # the partial answer is kept, exactly; nothing invented

    stats = sim.wait_closed()
    assert stats["chat_requests"] == case.requests
    assert (stats["open_connections"], stats["open_streams"]) == (0, 0), "a connection was left open"
    if case.waits is not None:
        assert tuple(waits) == case.waits


async def test_the_matrix_covers_every_exit_code_of_a_provider_failure() -> None:
    assert {c.exit_code for c in MATRIX if c.kind} == {3, 4, 5, 6, 7, 8, 9}


async def test_without_a_fault_the_echo_is_the_prompt(sim: Sim) -> None:
    """The baseline every row compares with: the simulator echoes the prompt, token by token."""
    stream, error = await run_stream(make_client(sim.base_url, []), chat(None))
    assert error is None and stream.text == ECHO == PROMPT
    assert len(TOKENS) > 2 * AFTER


async def test_an_unclosed_client_is_seen_as_an_open_connection(sim: Sim) -> None:
    """The leak check can fail: a client that is not closed keeps its pooled connection open."""
    waits: list[float] = []
    client = make_client(sim.base_url, waits)
    try:
        stream = client.stream(chat(None))
        async with stream:
            async for _event in stream:
                pass
        stats = await asyncio.to_thread(sim.stats)
        assert stats["open_connections"] == 1
    finally:
        await client.aclose()
    assert (await asyncio.to_thread(sim.wait_closed))["open_connections"] == 0


async def test_a_started_stream_is_never_retried_even_when_retries_remain(sim: Sim) -> None:
    """`cut` at token 6 with times=1 would succeed on a second request; the client must not make one."""
    stream, error = await run_stream(make_client(sim.base_url, []), chat(f"cut after={AFTER} times=1"))
    assert error is not None and error.kind == "network" and stream.text == head()
    assert sim.wait_closed()["chat_requests"] == 1


async def test_retry_after_waits_then_succeeds_through_open_client(sim: Sim) -> None:
    """The same 429 row through `open_client` and a config profile, exactly as the TUI opens its client."""
    from botticelli.config import load_config
    from botticelli.targets import open_client
    from faults import sim_profile, write_config

    write_config(sim_profile(PROFILE, sim.base_url, max_retries=1))
    client = open_client(load_config().profiles[PROFILE])
    stream, error = await run_stream(client, chat("429 retry_after=0.2 times=1"))
    assert error is None and stream.text == ECHO
    assert sim.wait_closed()["chat_requests"] == 2


class CountingTransport(httpx.AsyncHTTPTransport):
    """The default transport, counting connection attempts (there is no server to count requests)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await super().handle_async_request(request)


@pytest.mark.parametrize(
    ("name", "code", "says"),
    [
        ("connection refused", "connect_error", "could not connect to http://127.0.0.1:"),
        # A real connect timeout on loopback: a listener whose backlog is full drops our SYN (no httpx fake).
        ("connect timeout", "connect_timeout", "timed out connecting to http://127.0.0.1:"),
    ],
)
async def test_connect_failures_are_network_errors_retried_before_any_response(name: str, code: str, says: str
                                                                               ) -> None:
    waits: list[float] = []
    transport = CountingTransport()
    listener = full_backlog_listener() if name == "connect timeout" else contextlib.nullcontext(free_closed_port())
    with listener as port:
        client = make_client(f"http://127.0.0.1:{port}/v1", waits, transport)
        stream, error = await run_stream(client, chat(None))
    line = check_error(error, "network", 7, (says,), "try again")
    assert error.code == code
    if name == "connect timeout":
        assert f"after {CONNECT_TIMEOUT_S:g}s" in line
    assert stream.text == ""
    assert transport.attempts == 1 + MAX_RETRIES  # connect errors are retried: nothing was sent yet
    assert len(waits) == MAX_RETRIES

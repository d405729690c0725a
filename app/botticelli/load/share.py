"""One process's part of a load level: its streams, its clients, one record per request.

`run_share` runs in the sweep's own process, or in a worker process with `--workers` (`workers.py`); a `Share`
and its `ShareOutcome` are plain picklable data. Requests are synthetic (`build_request`); every request's
failure is its own record, and a fatal one (bad key, unknown model) stops the share's further requests.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botticelli.config import ConfigError
from botticelli.load.health import HealthSample, LoopWatch
from botticelli.load.metrics import RequestRecord
from botticelli.load.schedule import Lengths
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest, RateLimitInfo
from botticelli.targets import Target

if TYPE_CHECKING:
    from botticelli.providers.client import OpenAICompatibleClient

DEFAULT_PROMPT_TOKENS = Lengths(128, 128)
DEFAULT_ANSWER_TOKENS = Lengths(256, 256)
STREAMS_PER_CLIENT = 4  # well under the client's 10 keep-alive connections: an idle connection over them is closed and
# the stream's next request would pay a new one
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FATAL_KINDS = frozenset({"auth", "model_not_found", "invalid_request", "config"})
_WORDS = ("cache", "memory", "latency", "bandwidth", "pipeline", "branch", "register", "vector", "thread",
          "queue", "token", "kernel", "page", "buffer", "socket", "stream", "batch", "scheduler", "tensor", "clock")


def is_local(target: Target) -> bool:
    """True for the built-in simulator and servers on this machine (they get simulator length directives)."""
    if target.profile.simulated:
        return True
    return (urlsplit(target.profile.base_url).hostname or "") in LOOPBACK


def build_request(model: str, prompt_tokens: int, answer_tokens: int, rng: random.Random,
                  directive: bool) -> ChatRequest:
    """A synthetic request of about `prompt_tokens` tokens (4 characters each) asking for `answer_tokens`.

    A random tag opens every prompt so no two share a cached prefix. `max_tokens` caps the answer; `directive`
    adds the simulator's `[[tokens:N]]` so a local simulator answers exactly that long.
    """
    head = f"[{rng.getrandbits(32):08x}] Write a detailed technical essay of at least {answer_tokens} words " \
           "about these topics:"
    words = [head]
    size = len(head)
    while size < prompt_tokens * 4:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    if directive:
        text = f"[[tokens:{answer_tokens}]] {text}"
    return ChatRequest(model, [ChatMessage("user", text)], max_tokens=answer_tokens, temperature=0.0)


class StreamClients:
    """Clients for one target, opened as needed so no client carries more than `STREAMS_PER_CLIENT` streams."""

    def __init__(self, target: Target, limit: int = 256) -> None:
        self.target = target
        self.limit = limit
        self.clients: list[OpenAICompatibleClient] = []
        self.busy: list[int] = []

    def prepare(self, streams: int) -> None:
        """Open enough clients for `streams` at once now, before the clock starts (a client takes milliseconds
        to build); raises what `open_client` raises."""
        while len(self.clients) < min(self.limit, math.ceil(streams / STREAMS_PER_CLIENT)):
            self._open()

    def _open(self) -> None:
        from botticelli.targets import open_client

        self.clients.append(open_client(self.target.profile, max_retries=0, pace=False))
        self.busy.append(0)

    def take(self) -> tuple[int, OpenAICompatibleClient]:
        free = [i for i, n in enumerate(self.busy) if n < STREAMS_PER_CLIENT]
        if free:
            index = min(free, key=lambda i: self.busy[i])
        elif len(self.clients) < self.limit:
            self._open()
            index = len(self.clients) - 1
        else:
            index = min(range(len(self.busy)), key=lambda i: self.busy[i])
        self.busy[index] += 1
        return index, self.clients[index]

    def give_back(self, index: int) -> None:
        self.busy[index] -= 1

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


@dataclass(frozen=True, slots=True)
class Share:
    """One process's part of a level (picklable: it crosses to worker processes)."""

    profile: str
    model: str
    mode: str
    concurrency: int = 1
    count: int | None = None  # concurrency mode: at most this many requests
    duration_s: float | None = None
    arrivals: tuple[float, ...] = ()  # rate mode: send times, seconds after the start
    prompt_tokens: Lengths = DEFAULT_PROMPT_TOKENS
    answer_tokens: Lengths = DEFAULT_ANSWER_TOKENS
    seed: int = 0


@dataclass(slots=True)
class ShareOutcome:
    records: list[RequestRecord]
    health: HealthSample
    rate_limit: RateLimitInfo | None = None
    fatal: dict[str, Any] | None = None  # the first fatal error (`to_dict()`), with `line` and `exit_code`
    capped: bool = False


async def _one(pool: StreamClients, share: Share, rng: random.Random, t0: float, local: bool,
               outcome: ShareOutcome) -> None:
    """Send one request, read the whole answer, keep its record."""
    request = build_request(share.model, share.prompt_tokens.sample(rng), share.answer_tokens.sample(rng), rng,
                            local)
    sent = time.perf_counter()
    try:
        index, client = pool.take()
    except (ProviderError, ConfigError) as exc:
        outcome.records.append(_failed(exc, sent - t0, time.perf_counter() - t0, outcome))
        return
    stream = client.stream(request)
    try:
        async with stream:
            async for _event in stream:
                pass
    except (ProviderError, ConfigError) as exc:
        outcome.records.append(_failed(exc, (stream.meter.t_sent or sent) - t0, time.perf_counter() - t0, outcome))
        return
    except Exception as exc:  # any other failure of one request is that request's error, not the sweep's
        outcome.records.append(RequestRecord(sent - t0, time.perf_counter() - t0,
                                             error_kind=f"internal:{type(exc).__name__}"))
        return
    finally:
        pool.give_back(index)
    if stream.rate_limit is not None and not stream.rate_limit.is_empty():
        outcome.rate_limit = stream.rate_limit
    meter = stream.meter
    figures = stream.figures()
    n = figures.completion_tokens or 0
    t_sent = meter.t_sent if meter.t_sent is not None else sent
    ttft = meter.t_first - t_sent if meter.t_first is not None else None
    itl = None
    if meter.t_first is not None and meter.t_last is not None and n > 1:
        itl = (meter.t_last - meter.t_first) / (n - 1)
    end = meter.t_end if meter.t_end is not None else time.perf_counter()
    outcome.records.append(RequestRecord(t_sent - t0, end - t0, ttft, itl, n, figures.tokens_exact))


def _failed(exc: Exception, sent_s: float, done_s: float, outcome: ShareOutcome) -> RequestRecord:
    if isinstance(exc, ProviderError):
        kind, status = exc.kind, exc.status
        if exc.rate_limit is not None and not exc.rate_limit.is_empty():
            outcome.rate_limit = exc.rate_limit
        error = exc.to_dict()
        line, code = exc.one_line(), exc.exit_code
    else:
        kind, status = "config", None
        error = {"kind": "config", "status": None, "code": None, "message": str(exc), "retry_after_s": None}
        line, code = exc.one_line(), exc.exit_code  # type: ignore[attr-defined]
    if kind in FATAL_KINDS and outcome.fatal is None:
        outcome.fatal = {**error, "line": line, "exit_code": code}
    return RequestRecord(sent_s, done_s, error_kind=kind, status=status)


def expected_in_flight(arrivals: tuple[float, ...], seconds: float = 2.0, most: int = 64) -> int:
    """Streams a rate share will likely have open at once (its rate × `seconds` per answer, at most `most`), so
    their clients are built before the clock starts rather than while requests wait."""
    if len(arrivals) < 2 or arrivals[-1] <= 0:
        return 1
    return max(1, min(most, math.ceil(len(arrivals) / arrivals[-1] * seconds)))


async def run_share(share: Share, target: Target, start_at: float | None = None) -> ShareOutcome:
    """Run one share of a level in this process; `start_at` is a `time.time()` to wait for (workers)."""
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    rng = random.Random(share.seed)
    local = is_local(target)
    pool = StreamClients(target)
    outcome = ShareOutcome([], HealthSample(None, 0.0, 0.0))
    try:
        try:
            pool.prepare(share.concurrency if share.mode == "concurrency" else expected_in_flight(share.arrivals))
        except (ProviderError, ConfigError):
            pass  # each request then records the error itself
        async with LoopWatch() as watch:
            t0 = time.perf_counter()
            if share.mode == "concurrency":
                await _closed_loop(pool, share, rng, t0, local, outcome)
            else:
                await _open_loop(pool, share, rng, t0, local, outcome)
    finally:
        await pool.aclose()
    outcome.health = watch.sample()
    return outcome


async def _closed_loop(pool: StreamClients, share: Share, rng: random.Random, t0: float, local: bool,
                       outcome: ShareOutcome) -> None:
    issued = 0
    deadline = t0 + share.duration_s if share.duration_s is not None else None

    async def stream_loop() -> None:
        nonlocal issued
        while outcome.fatal is None:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            if share.count is not None and issued >= share.count:
                if deadline is not None:
                    outcome.capped = True
                return
            issued += 1
            await _one(pool, share, rng, t0, local, outcome)

    await asyncio.gather(*(stream_loop() for _ in range(share.concurrency)))


async def _open_loop(pool: StreamClients, share: Share, rng: random.Random, t0: float, local: bool,
                     outcome: ShareOutcome) -> None:
    tasks: set[asyncio.Task[None]] = set()
    try:
        for at in share.arrivals:
            if outcome.fatal is not None:
                break
            wait = t0 + at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(_one(pool, share, rng, t0, local, outcome))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    finally:
        for task in tasks:
            task.cancel()

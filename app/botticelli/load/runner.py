"""Run a load sweep: for each target in turn, each level in turn, many streams at once; records in, metrics out.

A concurrency level keeps C streams busy (each sends its next request when its answer is complete) for
`requests` requests or `duration_s` seconds; a rate level sends requests at scheduled arrival times
(constant or poisson) whatever is in flight. Retries are off (`max_retries=0`) and the profile's client-side
pacing is off: a 429 is counted, never retried or avoided. `--workers N` runs each level's streams in N
processes (spawned once per sweep) that start together at an agreed wall-clock instant.

`max_requests` is a hard cap over the whole sweep (warm-ups included): once reached no request is sent and
the level that hit it is marked `capped`.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botticelli.config import ConfigError
from botticelli.load.health import HealthSample, LoopWatch
from botticelli.load.metrics import ClientHealth, LevelMetrics, RequestRecord, Slo, level_metrics
from botticelli.load.schedule import Lengths, arrival_times, split
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest, RateLimitInfo
from botticelli.sessions.models import utc_now
from botticelli.targets import Target

DEFAULT_PROMPT_TOKENS = Lengths(128, 128)
DEFAULT_ANSWER_TOKENS = Lengths(256, 256)
DEFAULT_MAX_REQUESTS = 2000
STREAMS_PER_CLIENT = 16  # below the client's 20-connection pool, so no request waits for a connection
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FATAL_KINDS = frozenset({"auth", "model_not_found", "invalid_request", "config"})
START_DELAY_S = 0.5  # workers agree to start this long after the level is handed out
_WORDS = ("cache", "memory", "latency", "bandwidth", "pipeline", "branch", "register", "vector", "thread",
          "queue", "token", "kernel", "page", "buffer", "socket", "stream", "batch", "scheduler", "tensor", "clock")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to sweep: targets, one mode's levels, how long each level runs, what each request asks."""

    targets: tuple[Target, ...]
    mode: str  # "concurrency" | "rate"
    levels: tuple[float, ...]
    requests: int | None = None  # per level (and per target)
    duration_s: float | None = None
    arrival: str = "poisson"
    prompt_tokens: Lengths = DEFAULT_PROMPT_TOKENS
    answer_tokens: Lengths = DEFAULT_ANSWER_TOKENS
    slo: Slo | None = None
    workers: int = 1
    max_requests: int = DEFAULT_MAX_REQUESTS
    warmup: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("a sweep needs at least one target")
        if (self.requests is None) == (self.duration_s is None):
            raise ValueError("give --requests or --duration (one of them)")
        if self.requests is not None and self.requests < 1:
            raise ValueError("--requests must be at least 1")
        if self.duration_s is not None and not 0 < self.duration_s <= 3600:
            raise ValueError("--duration must be above 0 and at most 3600 seconds")
        if not 1 <= self.workers <= 64:
            raise ValueError("--workers must be from 1 to 64")
        if self.max_requests < 1:
            raise ValueError("--max-requests must be at least 1")
        if self.warmup < 0:
            raise ValueError("--warmup must be 0 or more")
        if self.mode == "concurrency" and self.workers > min(self.levels):
            raise ValueError(f"--workers {self.workers} is more than the lowest concurrency {min(self.levels):g}")

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.targets]

    def planned_requests(self, level: float) -> int | None:
        """Requests one level of one target will send, when known in advance."""
        if self.requests is not None:
            return self.requests
        if self.mode == "rate" and self.duration_s is not None:
            return math.ceil(level * self.duration_s)
        return None

    def planned_total(self) -> int | None:
        """Requests of the whole sweep (warm-ups included), or None when a level's count is open-ended."""
        per_target = [self.planned_requests(level) for level in self.levels]
        if any(n is None for n in per_target):
            return None
        return len(self.targets) * (self.warmup + sum(n for n in per_target if n is not None))


@dataclass(slots=True)
class TargetSweep:
    """One target's levels, in order; `error` is why the rest was not run (a fatal error such as a bad key)."""

    target: str
    simulated: bool = False
    levels: list[LevelMetrics] = field(default_factory=list)
    error: dict[str, Any] | None = None
    error_line: str | None = None
    exit_code: int = 0


@dataclass(slots=True)
class SweepResult:
    plan: LoadPlan
    sweep_id: str
    started_at: str
    targets: list[TargetSweep] = field(default_factory=list)
    rate_limits: dict[str, RateLimitInfo] = field(default_factory=dict)  # profile -> last headers seen
    interrupted: bool = False

    def exit_code(self) -> int:
        """0 when every target completed at least one request, else the first failing target's code."""
        for sweep in self.targets:
            if not any(level.completed for level in sweep.levels):
                return sweep.exit_code or 1
        return 0


def new_sweep_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


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


class ClientPool:
    """Clients for one target, opened as needed so no client carries more than `STREAMS_PER_CLIENT` streams."""

    def __init__(self, target: Target, limit: int = 256) -> None:
        self.target = target
        self.limit = limit
        self.clients: list[Any] = []
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

    def take(self) -> tuple[int, Any]:
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


async def _one(pool: ClientPool, share: Share, rng: random.Random, t0: float, local: bool,
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


async def run_share(share: Share, target: Target, start_at: float | None = None) -> ShareOutcome:
    """Run one share of a level in this process; `start_at` is a `time.time()` to wait for (workers)."""
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    rng = random.Random(share.seed)
    local = is_local(target)
    pool = ClientPool(target)
    outcome = ShareOutcome([], HealthSample(None, 0.0, 0.0))
    try:
        try:
            pool.prepare(share.concurrency if share.mode == "concurrency" else 1)
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


async def _closed_loop(pool: ClientPool, share: Share, rng: random.Random, t0: float, local: bool,
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


async def _open_loop(pool: ClientPool, share: Share, rng: random.Random, t0: float, local: bool,
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


LevelHook = Callable[[str, LevelMetrics], None]


class LoadRunner:
    """Runs a `LoadPlan`; `on_level(target, metrics)` after every level. `executor` runs worker processes."""

    def __init__(self, plan: LoadPlan, *, on_level: LevelHook | None = None,
                 executor_factory: Callable[[int], Executor] | None = None) -> None:
        self.plan = plan
        self.on_level = on_level
        self.executor_factory = executor_factory or _spawn_pool
        self.result = SweepResult(plan, new_sweep_id(), utc_now())
        self.sent = 0
        self._seed = plan.seed if plan.seed is not None else secrets.randbits(32)

    @property
    def budget(self) -> int:
        return max(0, self.plan.max_requests - self.sent)

    async def run(self) -> SweepResult:
        """The whole sweep; on cancellation `self.result` keeps the finished levels (`interrupted`)."""
        executor = self.executor_factory(self.plan.workers) if self.plan.workers > 1 else None
        try:
            for target in self.plan.targets:
                await self._target(target, executor)
        except asyncio.CancelledError:
            self.result.interrupted = True
            raise
        finally:
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        return self.result

    async def _target(self, target: Target, executor: Executor | None) -> None:
        sweep = TargetSweep(target.label, target.profile.simulated)
        self.result.targets.append(sweep)
        if self.plan.warmup and self.budget:
            count = min(self.plan.warmup, self.budget)
            warm = await run_share(self._share(target, 1, count=count, seed=self._seed), target)
            self.sent += len(warm.records)
            self._keep(target, sweep, [warm])
        for number, level in enumerate(self.plan.levels):
            if sweep.error is not None or not self.budget:
                break
            outcomes, capped = await self._level(target, level, number, executor)
            self._keep(target, sweep, outcomes)
            health = _combine([o.health for o in outcomes], len(outcomes))
            metrics = level_metrics(self.plan.mode, level, [r for o in outcomes for r in o.records], self.plan.slo,
                                    health, capped or any(o.capped for o in outcomes))
            sweep.levels.append(metrics)
            if self.on_level is not None:
                self.on_level(target.label, metrics)

    def _keep(self, target: Target, sweep: TargetSweep, outcomes: list[ShareOutcome]) -> None:
        for outcome in outcomes:
            if outcome.rate_limit is not None:
                self.result.rate_limits[target.profile.name] = outcome.rate_limit
            if outcome.fatal is not None and sweep.error is None:
                fatal = dict(outcome.fatal)
                sweep.error_line = fatal.pop("line", None)
                sweep.exit_code = int(fatal.pop("exit_code", 1))
                sweep.error = fatal

    def _share(self, target: Target, concurrency: int, *, count: int | None = None, duration_s: float | None = None,
               arrivals: tuple[float, ...] = (), seed: int = 0) -> Share:
        return Share(target.profile.name, target.model, "concurrency" if not arrivals else "rate", concurrency,
                     count, duration_s, arrivals, self.plan.prompt_tokens, self.plan.answer_tokens, seed)

    async def _level(self, target: Target, level: float, number: int, executor: Executor | None
                     ) -> tuple[list[ShareOutcome], bool]:
        plan = self.plan
        workers = plan.workers
        seed = self._seed + 1000 * (number + 1)
        capped = False
        if plan.mode == "rate":
            rng = random.Random(seed)
            times = arrival_times(level, plan.arrival, rng, count=plan.requests, duration_s=plan.duration_s)
            if len(times) > self.budget:
                times, capped = times[: self.budget], True
            shares = [self._share(target, 0, arrivals=tuple(times[w::workers]), seed=seed + w)
                      for w in range(workers)]
            shares = [s for s in shares if s.arrivals]
        else:
            count = plan.requests if plan.requests is not None else self.budget
            if count > self.budget:
                count, capped = self.budget, True
            counts = split(count, workers)
            shares = [self._share(target, c, count=n, duration_s=plan.duration_s, seed=seed + w)
                      for w, (c, n) in enumerate(zip(split(int(level), workers), counts, strict=True)) if n]
        if executor is None or len(shares) < 2:
            outcomes = [await run_share(share, target) for share in shares]
        else:
            from botticelli.load.workers import portable, run_share_in_worker

            loop = asyncio.get_running_loop()
            start_at = time.time() + START_DELAY_S
            profile = portable(target.profile)
            futures = [loop.run_in_executor(executor, run_share_in_worker, share, profile, start_at)
                       for share in shares]
            outcomes = list(await asyncio.gather(*futures))
        self.sent += sum(len(o.records) for o in outcomes)
        return outcomes, capped


def _combine(samples: list[HealthSample], workers: int) -> ClientHealth:
    """One level's client health: the worst process's lag p99, CPU summed over processes."""
    lags = [s.lag_p99_s for s in samples if s.lag_p99_s is not None]
    wall = max((s.wall_s for s in samples), default=0.0)
    cpu = 100 * sum(s.cpu_s for s in samples) / wall if wall > 0 else None
    return ClientHealth(max(lags) if lags else None, cpu, max(workers, 1))


def _spawn_pool(workers: int) -> Executor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

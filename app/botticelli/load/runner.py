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

from botticelli.load.health import HealthSample
from botticelli.load.metrics import ClientHealth, LevelMetrics, Slo, level_metrics
from botticelli.load.schedule import Lengths, arrival_times, split
from botticelli.load.share import DEFAULT_ANSWER_TOKENS, DEFAULT_PROMPT_TOKENS, Share, ShareOutcome, run_share
from botticelli.providers.types import RateLimitInfo
from botticelli.sessions.models import utc_now
from botticelli.targets import Target

DEFAULT_MAX_REQUESTS = 2000
START_DELAY_S = 0.5  # workers agree to start this long after the level is handed out


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

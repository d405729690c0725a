"""Race one prompt against N targets: warm-ups first, then R rounds interleaved round-robin.

Method (reference/speed-and-reliability.md A3, A6): one client per profile for the whole race (pooled
connections), `warmup` discarded requests per target, then round 1 runs every target, round 2 every target,
and so on, so drift over time hits all targets alike. Every request is the same prompt with the same
`max_tokens` and `temperature=0`. Retries are off while measuring (`max_retries=0`): a retry's backoff would
land in the TTFT. A run whose client did retry anyway (an injected client) is marked `retried` and left out
of the medians. In concurrent mode all targets of a round start together; sequentially they take turns.

A target that cannot run (no key, model gone, request refused) fails in its own rows and never stops the
others: after such a non-transient error its remaining runs are recorded with the same error, unsent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botticelli.bench.defaults import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_PROMPT,
    DEFAULT_RUNS,
    DEFAULT_WARMUP,
    MAX_TARGETS,
    TEMPERATURE,
)
from botticelli.chat.events import Failed, TurnError, TurnEvent
from botticelli.chat.turn import Turn
from botticelli.config import Config, ConfigError, Profile, parse_target
from botticelli.errors import BotticelliError
from botticelli.providers.client import ChatStream, OpenAICompatibleClient
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest
from botticelli.sessions.models import new_race_id, utc_now
from botticelli.stats import SpeedFigures, SpeedMeter
from botticelli.targets import Target, open_client

ClientFactory = Callable[[Profile], OpenAICompatibleClient]
MeterFactory = Callable[[Target], SpeedMeter]

FATAL_KINDS = frozenset({"auth", "model_not_found", "invalid_request", "config"})
"""Error kinds that will not go away by asking again: the target's remaining runs are not sent."""


def measuring_client(profile: Profile) -> OpenAICompatibleClient:
    """The default client for a race: the profile's own, with retries off."""
    return open_client(profile, max_retries=0)


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """What to race: one prompt, 1+ targets, how many measured runs each and how."""

    prompt: str
    targets: tuple[Target, ...]
    runs: int = DEFAULT_RUNS
    warmup: int = DEFAULT_WARMUP
    max_tokens: int = DEFAULT_MAX_TOKENS
    concurrent: bool = True

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("a race needs at least one target")
        labels = [t.label for t in self.targets]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"target {twice[0]} is listed twice")
        if self.runs < 1:
            raise ValueError("runs must be at least 1")
        if self.warmup < 0:
            raise ValueError("warmup must be 0 or more")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if not self.prompt.strip():
            raise ValueError("the prompt is empty")

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.targets]

    def request(self, target: Target) -> ChatRequest:
        """The one request every run of `target` sends."""
        return ChatRequest(
            target.model, [ChatMessage("user", self.prompt)], max_tokens=self.max_tokens, temperature=TEMPERATURE
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    """One finished request of a race: its figures, or its error (with partial figures if it had started)."""

    target: str
    index: int
    run: int
    stats: SpeedFigures | None = None
    error: dict[str, Any] | None = None
    text_chars: int = 0
    retried: bool = False
    warmup: bool = False
    error_line: str | None = None
    """The docs/ARCHITECTURE.md one-line form of the error (`error: <profile>: ... (...)`)."""
    exit_code: int = 0
    hint: str | None = None
    """What the user can do about the error (`set GROQ_API_KEY`)."""
    finish_reason: str | None = None
    """How the answer ended (`length`: cut by max_tokens); shown in the race, not part of the JSON run object."""
    prompt_tokens: int | None = None
    """The server's prompt token count (its `usage`), for the run's cost; None when it reported none."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.stats is not None

    def to_dict(self) -> dict[str, Any]:
        """The `bench --json` run object."""
        return {
            "target": self.target,
            "run": self.run,
            "stats": self.stats.to_dict() if self.stats is not None else None,
            "error": self.error,
            "text_chars": self.text_chars,
            "retried": self.retried,
        }


@dataclass(slots=True)
class LiveRun:
    """The request a target is running now: its turn (`chat.turn.Turn`) gives the text so far and the meter."""

    index: int
    target: Target
    run: int
    warmup: bool
    turn: Turn

    @property
    def stream(self) -> ChatStream | None:
        return self.turn.stream

    @property
    def meter(self) -> SpeedMeter | None:
        """The live `SpeedMeter` once the request went out (None before)."""
        return self.turn.stream.meter if self.turn.stream is not None else None


@dataclass(slots=True)
class RaceHooks:
    """Callbacks while racing, all optional and synchronous (keep them cheap: they run in the read loop)."""

    on_start: Callable[[LiveRun], None] | None = None
    on_event: Callable[[LiveRun, TurnEvent], None] | None = None
    """Gets the turn's events (`chat.events`): deltas, live figures, retries, the end."""
    on_run: Callable[[RunResult], None] | None = None
    """Called for every finished request, warm-ups included (`result.warmup`)."""


@dataclass(slots=True)
class BenchResult:
    """A finished (or interrupted) race: the measured runs in round-robin order, and the warm-ups."""

    plan: BenchPlan
    race_id: str
    started_at: str
    runs: list[RunResult] = field(default_factory=list)
    warmups: list[RunResult] = field(default_factory=list)

    @property
    def simulated(self) -> set[str]:
        """Labels of targets served by the built-in simulator."""
        return {t.label for t in self.plan.targets if t.profile.simulated}

    def runs_of(self, label: str) -> list[RunResult]:
        return [r for r in self.runs if r.target == label]

    def failing_targets(self) -> list[str]:
        """Targets without a single successful run, in the plan's order."""
        return [label for label in self.plan.labels if not any(r.ok for r in self.runs_of(label))]

    def first_error(self, label: str) -> RunResult | None:
        return next((r for r in self.runs_of(label) if r.error is not None), None)

    def exit_code(self) -> int:
        """0 when every target had at least one successful run, else the first failing target's code."""
        for label in self.failing_targets():
            failure = self.first_error(label)
            return failure.exit_code if failure is not None else 1
        return 0


def _failure(error: TurnError, index: int, label: str, run: int, warmup: bool,
             stream: ChatStream | None) -> RunResult:
    exc = error.exc
    hint = exc.hint if isinstance(exc, BotticelliError) else "this is a bug; please report it"
    partial_stats = None
    if stream is not None and stream.meter.t_first is not None:
        partial_stats = stream.figures()
    return RunResult(
        target=label, index=index, run=run, stats=partial_stats, error=error.to_dict(),
        text_chars=len(stream.text) if stream is not None else 0,
        retried=bool(stream is not None and stream.retries), warmup=warmup, error_line=error.line,
        exit_code=error.exit_code, hint=hint,
    )


class BenchRunner:
    """Runs a `BenchPlan`; `live[i]` is target i's current request while the race is on."""

    def __init__(
        self,
        plan: BenchPlan,
        *,
        client_factory: ClientFactory = measuring_client,
        meter_factory: MeterFactory | None = None,
        hooks: RaceHooks | None = None,
    ) -> None:
        self.plan = plan
        self.client_factory = client_factory
        self.meter_factory = meter_factory
        self.hooks = hooks or RaceHooks()
        self.live: dict[int, LiveRun] = {}
        self.result = BenchResult(plan, new_race_id(), utc_now())
        self._clients: dict[str, OpenAICompatibleClient | BaseException] = {}
        self._blocked: dict[int, RunResult] = {}

    @property
    def total_runs(self) -> int:
        """Measured runs in the whole race (warm-ups not counted)."""
        return self.plan.runs * len(self.plan.targets)

    async def run(self) -> BenchResult:
        """Race to the end; on cancellation the clients are closed and `self.result` keeps what finished."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                self._open_clients(stack)
                for number in range(1, self.plan.warmup + 1):
                    await self._round(number, warmup=True)
                for number in range(1, self.plan.runs + 1):
                    await self._round(number, warmup=False)
        finally:
            self.live.clear()
            self.result.runs.sort(key=lambda r: (r.run, r.index))
            self.result.warmups.sort(key=lambda r: (r.run, r.index))
        return self.result

    def _open_clients(self, stack: contextlib.AsyncExitStack) -> None:
        for target in self.plan.targets:
            name = target.profile.name
            if name in self._clients:
                continue
            try:
                client = self.client_factory(target.profile)
            except (ProviderError, ConfigError) as exc:
                self._clients[name] = exc
                continue
            self._clients[name] = client
            stack.push_async_callback(client.aclose)

    async def _round(self, number: int, *, warmup: bool) -> None:
        indexes = range(len(self.plan.targets))
        if self.plan.concurrent:
            await asyncio.gather(*(self._one(i, number, warmup) for i in indexes))
        else:
            for i in indexes:
                await self._one(i, number, warmup)

    async def _one(self, index: int, number: int, warmup: bool) -> None:
        result = await self._request(index, number, warmup)
        self.live.pop(index, None)
        if result.error is not None and result.error.get("kind") in FATAL_KINDS:
            self._blocked.setdefault(index, result)
        (self.result.warmups if warmup else self.result.runs).append(result)
        if self.hooks.on_run is not None:
            self.hooks.on_run(result)

    async def _request(self, index: int, number: int, warmup: bool) -> RunResult:
        target = self.plan.targets[index]
        label = target.label
        blocked = self._blocked.get(index)
        if blocked is not None:
            return RunResult(label, index, number, None, blocked.error, warmup=warmup,
                             error_line=blocked.error_line, exit_code=blocked.exit_code, hint=blocked.hint)
        client = self._clients[target.profile.name]
        meter = self.meter_factory(target) if self.meter_factory is not None else None
        turn = Turn(_raising(client) if isinstance(client, BaseException) else client, self.plan.request(target),
                    profile=target.profile.name, meter=meter)
        live = LiveRun(index, target, number, warmup, turn)
        self.live[index] = live
        if self.hooks.on_start is not None:
            self.hooks.on_start(live)
        on_event = self.hooks.on_event
        # One target's failure, whatever it is, ends in `Failed` and never stops the others.
        outcome = await turn.run((lambda event: on_event(live, event)) if on_event is not None else _ignore)
        stream = turn.stream
        if isinstance(outcome, Failed):
            return _failure(outcome.error, index, label, number, warmup, stream)
        return RunResult(label, index, number, outcome.figures, None, len(outcome.text),
                         retried=stream is not None and stream.retries > 0, warmup=warmup,
                         finish_reason=outcome.finish_reason,
                         prompt_tokens=stream.usage.prompt_tokens if stream is not None and stream.usage else None)


def _ignore(event: TurnEvent) -> None:
    pass


def _raising(exc: BaseException) -> Callable[[], OpenAICompatibleClient]:
    """A client opener that fails as the client failed to open (no key, unsafe destination)."""

    def connect() -> OpenAICompatibleClient:
        raise exc

    return connect


async def run_race(plan: BenchPlan, *, hooks: RaceHooks | None = None,
                   client_factory: ClientFactory = measuring_client,
                   meter_factory: MeterFactory | None = None) -> BenchResult:
    """Run `plan` with a fresh `BenchRunner` and return its result."""
    runner = BenchRunner(plan, client_factory=client_factory, meter_factory=meter_factory, hooks=hooks)
    return await runner.run()


def targets_from_labels(config: Config, labels: Sequence[str]) -> tuple[Target, ...]:
    """`P:M` strings to targets (split at the first colon); raises ConfigError for an unknown profile."""
    targets = []
    for text in labels:
        profile_name, model = parse_target(text)
        targets.append(Target(config.profile(profile_name), model))
    return tuple(targets)


__all__ = [
    "DEFAULT_PROMPT",
    "FATAL_KINDS",
    "MAX_TARGETS",
    "TEMPERATURE",
    "BenchPlan",
    "BenchResult",
    "BenchRunner",
    "ClientFactory",
    "LiveRun",
    "MeterFactory",
    "RaceHooks",
    "RunResult",
    "measuring_client",
    "run_race",
    "targets_from_labels",
]

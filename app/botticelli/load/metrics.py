"""The load metrics, defined once ("Load metrics" in docs/ARCHITECTURE.md): per-request records in, one level's
figures out.

Per request (AIPerf's definitions): TTFT = first token - request sent; request latency (e2e) = answer complete -
request sent; ITL = (last token - first token) / (output tokens - 1), so the first token is excluded. Per level:
request throughput = completed requests / duration; output tok/s = output tokens of completed requests /
duration; goodput = completed requests meeting every SLO / duration, where duration runs from the first request
sent to the last answer complete. Percentiles interpolate linearly between ranks (numpy's default, which AIPerf and
vLLM use) over completed requests only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botticelli.history.figures import percentile as ranked_percentile

SCHEMA = "botticelli.load/1"  # the `load --json` object's "schema"
LAG_FLAG_S = 0.005  # a level is flagged when the client's event-loop lag p99 exceeds 5 ms
SLO_NAMES = ("ttft", "itl", "e2e")


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between closest ranks (the speed history's
    definition); None for no values."""
    ordered = sorted(values)
    return ranked_percentile(ordered, p) if ordered else None


def parse_duration(text: str) -> float:
    """`50ms` -> 0.05, `1s` -> 1.0, `1.5` -> 1.5 (seconds); positive and finite."""
    raw = text.strip().lower()
    scale = 1.0
    if raw.endswith("ms"):
        raw, scale = raw[:-2], 0.001
    elif raw.endswith("s"):
        raw = raw[:-1]
    try:
        value = float(raw) * scale
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (e.g. 1s, 50ms)") from None
    if not 0 < value < math.inf:
        raise ValueError(f"{text!r} must be a positive duration")
    return value


@dataclass(frozen=True, slots=True)
class Slo:
    """Latency objectives a request must all meet to count towards goodput; None = no objective."""

    ttft_s: float | None = None
    itl_s: float | None = None
    e2e_s: float | None = None

    @classmethod
    def parse(cls, text: str) -> Slo:
        """`ttft=1s,itl=50ms[,e2e=10s]`."""
        values: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in SLO_NAMES:
                raise ValueError(f"--slo: {part!r} is not NAME=DURATION with NAME one of {', '.join(SLO_NAMES)}")
            try:
                values[name] = parse_duration(value)
            except ValueError as exc:
                raise ValueError(f"--slo {name}: {exc}") from None
        if not values:
            raise ValueError("--slo: give at least one objective, e.g. ttft=1s,itl=50ms")
        return cls(values.get("ttft"), values.get("itl"), values.get("e2e"))

    def met(self, record: RequestRecord) -> bool:
        """True when `record` completed and meets every objective (an unknown figure does not meet one)."""
        if not record.ok:
            return False
        for limit, value in ((self.ttft_s, record.ttft_s), (self.itl_s, record.itl_s), (self.e2e_s, record.e2e_s)):
            if limit is not None and (value is None or value > limit):
                return False
        return True

    def to_dict(self) -> dict[str, float | None]:
        return {"ttft_s": self.ttft_s, "itl_s": self.itl_s, "e2e_s": self.e2e_s}

    def __str__(self) -> str:
        parts = [f"{name}={_ms(value)}" for name, value in zip(SLO_NAMES, (self.ttft_s, self.itl_s, self.e2e_s),
                                                                strict=True) if value is not None]
        return ",".join(parts)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request of a level; times in seconds, `sent_s`/`done_s` counted from the level's start."""

    sent_s: float
    done_s: float
    ttft_s: float | None = None
    itl_s: float | None = None
    output_tokens: int = 0
    tokens_exact: bool = True
    error_kind: str | None = None
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def e2e_s(self) -> float:
        return self.done_s - self.sent_s

    @property
    def rate_limited(self) -> bool:
        return self.status == 429


@dataclass(frozen=True, slots=True)
class ClientHealth:
    """How busy the measuring client itself was during a level."""

    lag_p99_s: float | None = None
    cpu_pct: float | None = None  # process CPU time / wall time, summed over worker processes (100 = one core)
    workers: int = 1

    @property
    def flagged(self) -> bool:
        return self.lag_p99_s is not None and self.lag_p99_s > LAG_FLAG_S

    def to_dict(self) -> dict[str, Any]:
        return {"lag_p99_ms": None if self.lag_p99_s is None else round(self.lag_p99_s * 1000, 3),
                "cpu_pct": None if self.cpu_pct is None else round(self.cpu_pct, 1),
                "workers": self.workers, "flagged": self.flagged}


def _spread(values: Sequence[float], points: Sequence[int]) -> dict[str, float | None]:
    return {f"p{p}": percentile(values, p) for p in points}


@dataclass(frozen=True, slots=True)
class LevelMetrics:
    """One load level's figures (the `levels[]` object of `load --json`)."""

    mode: str
    level: float
    requests: int
    completed: int
    duration_s: float
    request_throughput: float
    output_tps: float
    ttft_s: dict[str, float | None]
    itl_s: dict[str, float | None]
    e2e_s: dict[str, float | None]
    rate_limited: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    goodput_rps: float | None = None
    good: int | None = None
    output_tokens: int = 0
    tokens_exact: bool = True
    client: ClientHealth = field(default_factory=ClientHealth)
    capped: bool = False  # the sweep's --max-requests stopped this level early

    @property
    def failed(self) -> int:
        return self.requests - self.completed

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "level": self.level,
            "requests": self.requests,
            "completed": self.completed,
            "failed": self.failed,
            "rate_limited": self.rate_limited,
            "errors": dict(self.errors),
            "duration_s": self.duration_s,
            "request_throughput": self.request_throughput,
            "output_tps": self.output_tps,
            "output_tokens": self.output_tokens,
            "tokens_exact": self.tokens_exact,
            "ttft_s": dict(self.ttft_s),
            "itl_s": dict(self.itl_s),
            "e2e_s": dict(self.e2e_s),
            "goodput_rps": self.goodput_rps,
            "good": self.good,
            "client": self.client.to_dict(),
            "capped": self.capped,
        }


def level_metrics(mode: str, level: float, records: Sequence[RequestRecord], slo: Slo | None = None,
                  client: ClientHealth | None = None, capped: bool = False) -> LevelMetrics:
    """Aggregate one level's records (see the module docstring for every definition)."""
    done = [r for r in records if r.ok]
    if records:
        start = min(r.sent_s for r in records)
        duration = max(max(r.done_s for r in records) - start, 1e-9)
    else:
        duration = 0.0
    tokens = sum(r.output_tokens for r in done)
    errors: dict[str, int] = {}
    for r in records:
        if not r.ok and not r.rate_limited:
            errors[r.error_kind or "error"] = errors.get(r.error_kind or "error", 0) + 1
    good = sum(1 for r in done if slo.met(r)) if slo is not None else None
    per_s = (lambda n: n / duration) if duration else (lambda n: 0.0)
    return LevelMetrics(
        mode=mode,
        level=level,
        requests=len(records),
        completed=len(done),
        duration_s=duration,
        request_throughput=per_s(len(done)),
        output_tps=per_s(tokens),
        ttft_s=_spread([r.ttft_s for r in done if r.ttft_s is not None], (50, 90, 99)),
        itl_s=_spread([r.itl_s for r in done if r.itl_s is not None], (50, 99)),
        e2e_s=_spread([r.e2e_s for r in done], (50, 99)),
        rate_limited=sum(1 for r in records if r.rate_limited),
        errors=dict(sorted(errors.items())),
        goodput_rps=per_s(good) if good is not None else None,
        good=good,
        output_tokens=tokens,
        tokens_exact=all(r.tokens_exact for r in done),
        client=client or ClientHealth(),
        capped=capped,
    )

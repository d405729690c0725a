"""What a sweep sends and when: load levels, request arrivals (constant or poisson) and request lengths."""

from __future__ import annotations

import random
from dataclasses import dataclass

MODES = ("concurrency", "rate")
ARRIVALS = ("poisson", "constant")
MAX_LEVELS = 32
MAX_CONCURRENCY = 4096
MAX_RATE = 10_000.0
MAX_TOKENS = 1_000_000


def parse_levels(text: str, mode: str) -> tuple[float, ...]:
    """`1,2,4,8` -> (1, 2, 4, 8): whole concurrencies >= 1, or request rates > 0 (requests/s), in the order given."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"--{mode}: give one or more levels, e.g. 1,2,4,8")
    if len(parts) > MAX_LEVELS:
        raise ValueError(f"--{mode}: at most {MAX_LEVELS} levels (got {len(parts)})")
    levels: list[float] = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"--{mode}: {part!r} is not a number") from None
        if mode == "concurrency":
            if value != int(value) or not 1 <= value <= MAX_CONCURRENCY:
                raise ValueError(f"--concurrency: {part!r} is not a whole number from 1 to {MAX_CONCURRENCY}")
            value = int(value)
        elif not 0 < value <= MAX_RATE:  # also refuses nan and inf
            raise ValueError(f"--rate: {part!r} is not a rate in requests/s above 0 and at most {MAX_RATE:g}")
        levels.append(value)
    return tuple(levels)


@dataclass(frozen=True, slots=True)
class Lengths:
    """A token count that is fixed (`256`) or drawn uniformly from a range (`128-512`) for every request."""

    low: int
    high: int

    @classmethod
    def parse(cls, text: str, what: str) -> Lengths:
        low_text, sep, high_text = text.strip().partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if sep else low
        except ValueError:
            raise ValueError(f"{what}: {text!r} is not N or LOW-HIGH (whole tokens)") from None
        if not 1 <= low <= high <= MAX_TOKENS:
            raise ValueError(f"{what}: {text!r} must be between 1 and {MAX_TOKENS:,}, low before high")
        return cls(low, high)

    def sample(self, rng: random.Random) -> int:
        return self.low if self.low == self.high else rng.randint(self.low, self.high)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def arrival_times(rate: float, arrival: str, rng: random.Random, *, count: int | None = None,
                  duration_s: float | None = None) -> list[float]:
    """Seconds after the level's start at which requests are sent: `count` of them, or all before `duration_s`.

    `constant`: every 1/rate s, the first at 0. `poisson`: exponential gaps of mean 1/rate (a Poisson process,
    as vLLM's `--request-rate` and GuideLLM's `poisson`), the first after one gap.
    """
    if not rate > 0:
        raise ValueError("the rate must be above 0")
    if arrival not in ARRIVALS:
        raise ValueError(f"unknown arrival {arrival!r} (choose {' or '.join(ARRIVALS)})")
    if (count is None) == (duration_s is None):
        raise ValueError("give a count or a duration")
    times: list[float] = []
    t = 0.0
    while True:
        if arrival == "poisson":
            t += rng.expovariate(rate)
        elif times:
            t += 1.0 / rate
        if count is not None and len(times) >= count:
            break
        if duration_s is not None and t >= duration_s:
            break
        times.append(t)
    return times


def split(total: int, parts: int) -> list[int]:
    """`total` shared out over `parts` as evenly as possible: split(10, 3) == [4, 3, 3]."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]

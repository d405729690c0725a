"""The cost of one answer: prompt tokens × input price + completion tokens × output price."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botticelli.providers.types import Price
from botticelli.stats import DEFAULT_CHARS_PER_TOKEN


@dataclass(frozen=True, slots=True)
class Cost:
    """US dollars; `estimated` when a token count behind it was estimated from characters."""

    usd: float
    estimated: bool = False

    def label(self) -> str:
        """`$0.000123`, `~$0.0412`, `$1.25`, `<$0.000001`: four significant digits below a cent, else cents."""
        approx = "~" if self.estimated else ""
        if 0 < self.usd < 0.000001:
            return f"{approx}<$0.000001"
        if self.usd >= 0.01 or self.usd == 0:
            return f"{approx}${self.usd:.2f}"
        decimals = 3 - math.floor(math.log10(self.usd))  # four significant digits
        return f"{approx}${self.usd:.{decimals}f}".rstrip("0")

    def to_dict(self) -> dict[str, object]:
        return {"usd": self.usd, "estimated": self.estimated}

    def stats_fields(self) -> dict[str, object]:
        """The keys stored beside an answer's figures (`stats`): `cost_usd`, `cost_estimated`."""
        return {"cost_usd": self.usd, "cost_estimated": self.estimated}


def estimate_prompt_tokens(chars: int) -> int:
    """Prompt tokens from characters when the server reported none (the stats' 4 characters per token)."""
    return max(1, round(chars / DEFAULT_CHARS_PER_TOKEN)) if chars > 0 else 0


def answer_cost(price: Price | None, prompt_tokens: int | None, completion_tokens: int | None,
                *, estimated: bool = False) -> Cost | None:
    """The answer's cost, or None when the price or a token count is unknown."""
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    usd = (prompt_tokens * price.input_per_m + completion_tokens * price.output_per_m) / 1_000_000
    return Cost(round(usd, 12), estimated)  # whole picodollars: no float noise in the JSON


def cost_of_answer(price: Price | None, prompt_tokens: int | None, prompt_chars: int,
                   completion_tokens: int | None, completion_exact: bool) -> Cost | None:
    """The cost from what an answer measured: the server's prompt count, else one estimated from characters."""
    estimated = prompt_tokens is None or not completion_exact
    prompt = prompt_tokens if prompt_tokens is not None else estimate_prompt_tokens(prompt_chars)
    return answer_cost(price, prompt, completion_tokens, estimated=estimated)


MAX_STORED_USD = 1_000_000.0
"""An answer said to cost more than this is a tampered or broken record."""


def stored_cost(stats: Any) -> Cost | None:
    """The cost kept in an answer's stored `stats` (`cost_usd`, `cost_estimated`), validated: an imported
    session is untrusted, so a malformed cost is no cost, and one not said to be exact is estimated."""
    usd = stats.get("cost_usd") if isinstance(stats, Mapping) else None
    if type(usd) not in (int, float) or not 0 <= usd <= MAX_STORED_USD:
        return None
    return Cost(float(usd), stats.get("cost_estimated") is not False)


def total_cost(stats: Iterable[Any]) -> Cost | None:
    """The sum over answers' stored stats (a session's total); estimated if any part is; None if none priced."""
    costs = [c for c in (stored_cost(s) for s in stats) if c is not None]
    if not costs:
        return None
    return Cost(sum(c.usd for c in costs), any(c.estimated for c in costs))

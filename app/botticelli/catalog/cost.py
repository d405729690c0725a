"""The cost of one answer: prompt tokens × input price + completion tokens × output price."""

from __future__ import annotations

from dataclasses import dataclass

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
        amount = f"{self.usd:.2f}" if self.usd >= 0.01 or self.usd == 0 else f"{self.usd:.4g}"
        return f"{approx}${amount}"

    def to_dict(self) -> dict[str, object]:
        return {"usd": self.usd, "estimated": self.estimated}


def estimate_prompt_tokens(chars: int) -> int:
    """Prompt tokens from characters when the server reported none (the stats' 4 characters per token)."""
    return max(1, round(chars / DEFAULT_CHARS_PER_TOKEN)) if chars > 0 else 0


def answer_cost(price: Price | None, prompt_tokens: int | None, completion_tokens: int | None,
                *, estimated: bool = False) -> Cost | None:
    """The answer's cost, or None when the price or a token count is unknown."""
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    usd = (prompt_tokens * price.input_per_m + completion_tokens * price.output_per_m) / 1_000_000
    return Cost(usd, estimated)

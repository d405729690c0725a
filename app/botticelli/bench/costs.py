"""The cost of each run and each target of a race, from the prices known without a request.

Prices come from `catalog.price_for` over config.toml, the built-in Groq table and the cached catalogue (the
`bench` command warms the cache of an HF-router target before the race, so the race itself sends nothing extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botticelli.bench.runner import BenchPlan, RunResult
from botticelli.catalog import Cost, PriceQuote, cost_of_answer, price_for
from botticelli.catalog.cache import default_cache


def target_quotes(plan: BenchPlan) -> dict[str, PriceQuote | None]:
    """Each target's price by label, or None where no price is known."""
    cache = default_cache()
    return {t.label: price_for(t.profile, t.model, cache.load(t.profile) or ()) for t in plan.targets}


def run_cost(run: RunResult, quote: PriceQuote | None, prompt_chars: int) -> Cost | None:
    """One run's cost (a failed run's partial answer too, when it has figures)."""
    if quote is None or run.stats is None:
        return None
    return cost_of_answer(quote.price, run.prompt_tokens, prompt_chars, run.stats.completion_tokens,
                          run.stats.tokens_exact)


def target_cost(runs: Sequence[RunResult], quote: PriceQuote | None, prompt_chars: int) -> dict[str, Any] | None:
    """`{"per_run_usd", "total_usd", "estimated", "price"}` over a target's measured runs, or None unpriced.

    `per_run_usd` is the median over its successful runs; `total_usd` sums every measured run that has a cost.
    """
    if quote is None:
        return None
    measured = [(r, c) for r in runs if not r.warmup and (c := run_cost(r, quote, prompt_chars)) is not None]
    if not measured:
        return None
    ok = sorted(c.usd for r, c in measured if r.ok)
    median = None
    if ok:
        middle = len(ok) // 2
        median = ok[middle] if len(ok) % 2 else (ok[middle - 1] + ok[middle]) / 2
    return {"per_run_usd": median, "total_usd": sum(c.usd for _, c in measured),
            "estimated": any(c.estimated for _, c in measured), "price": quote.to_dict()}


def prompt_chars(plan: BenchPlan) -> int:
    return len(plan.prompt)

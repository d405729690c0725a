"""Keep every measured run of a race in the sessions database (`bench_runs`), grouped by race id."""

from __future__ import annotations

from botticelli.bench.costs import prompt_chars, run_cost, target_quotes
from botticelli.bench.runner import BenchResult
from botticelli.sessions import SessionStore


def save_race(result: BenchResult, store: SessionStore | None = None) -> int:
    """Store the race's measured runs (not the warm-ups), each with its cost where a price is known
    (`cost_usd`, `cost_estimated` beside the figures); returns how many were written.

    Opens (and closes) the default store when none is given; store errors propagate as `SessionStoreError`.
    """
    quotes, chars = target_quotes(result.plan), prompt_chars(result.plan)
    own = store is None
    db = SessionStore.open() if store is None else store
    try:
        for run in result.runs:
            cost = run_cost(run, quotes.get(run.target), chars)
            db.add_bench_run(
                result.race_id,
                result.plan.prompt,
                run.target,
                run.run,
                stats={**run.stats.to_dict(), **(cost.stats_fields() if cost else {})} if run.stats else None,
                error=run.error,
                created_at=result.started_at,
            )
    finally:
        if own:
            db.close()
    return len(result.runs)

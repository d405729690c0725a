"""Keep every measured run of a race in the sessions database (`bench_runs`), grouped by race id."""

from __future__ import annotations

from botticelli.bench.runner import BenchResult
from botticelli.sessions import SessionStore


def save_race(result: BenchResult, store: SessionStore | None = None) -> int:
    """Store the race's measured runs (not the warm-ups); returns how many were written.

    Opens (and closes) the default store when none is given; store errors propagate as `SessionStoreError`.
    """
    own = store is None
    db = SessionStore.open() if store is None else store
    try:
        for run in result.runs:
            db.add_bench_run(
                result.race_id,
                result.plan.prompt,
                run.target,
                run.run,
                stats=run.stats.to_dict() if run.stats is not None else None,
                error=run.error,
                created_at=result.started_at,
            )
    finally:
        if own:
            db.close()
    return len(result.runs)

"""A seeded speed history: chat answers and race runs with known figures at known times."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botticelli.sessions import NewMessage, NewSession, SessionStore


@dataclass(frozen=True)
class Answer:
    """One stored assistant answer to seed."""

    target: str
    at: str
    ttft_s: float | None = 0.2
    decode_tps: float | None = 500.0
    exact: bool = True
    error: str | None = None
    finish: str = "stop"
    extra: dict[str, Any] | None = None

    def message(self) -> NewMessage:
        profile, model = self.target.split(":", 1)
        stats = None
        if self.ttft_s is not None or self.decode_tps is not None:
            stats = {"ttft_s": self.ttft_s, "total_s": (self.ttft_s or 0) + 0.5, "completion_tokens": 100,
                     "tokens_exact": self.exact, "decode_tps": self.decode_tps, "e2e_tps": 100.0,
                     "server_tps": None, "queue_s": None, **(self.extra or {})}
        error = {"kind": self.error, "status": 429, "code": None, "message": "slow down", "retry_after_s": 1.0} \
            if self.error else None
        finish = "error" if self.error else self.finish
        return NewMessage("assistant", "answer", self.at, profile=profile, model=model, finish_reason=finish,
                          stats=stats, error=error)


def seed_answers(store: SessionStore, answers: Iterable[Answer], per_session: int = 100) -> None:
    """Store the answers, each after a user prompt, `per_session` answers to a session."""
    batch: list[NewMessage] = []

    def flush() -> None:
        if batch:
            store.import_session(NewSession("seeded", batch[0].created_at, messages=list(batch)))
            batch.clear()

    for answer in answers:
        batch.append(NewMessage("user", "question", answer.at))
        batch.append(answer.message())
        if len(batch) >= 2 * per_session:
            flush()
    flush()


def seed_race(store: SessionStore, race_id: str, at: str, prompt: str,
              runs: Sequence[tuple[str, int, float | None, float | None]], error_kind: str | None = None) -> None:
    """Store a race: `(target, run, ttft_s, decode_tps)` per run; a run without figures failed with
    `error_kind`."""
    for target, run, ttft, decode in runs:
        if ttft is None and decode is None:
            store.add_bench_run(race_id, prompt, target, run, stats=None,
                                error={"kind": error_kind or "timeout", "message": "no answer"}, created_at=at)
        else:
            store.add_bench_run(race_id, prompt, target, run, created_at=at, stats={
                "ttft_s": ttft, "total_s": (ttft or 0) + 1.0, "completion_tokens": 256, "tokens_exact": True,
                "decode_tps": decode, "e2e_tps": 200.0, "server_tps": None, "queue_s": None})

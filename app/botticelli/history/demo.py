"""A speed history with fixed figures and dates, for the Speed screen's snapshot, the README screenshot and
the `speed` benchmark: two targets answering over a week (one steady, one faster but spikier), a few errors,
and two stored races. `seed_history(store, answers=N)` writes it; the same arguments give the same store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from botticelli.sessions import NewMessage, NewSession, SessionStore
from botticelli.sessions.models import format_timestamp

END = datetime.fromisoformat("2026-12-04T12:00:00+00:00")
"""The newest answer's time: pass it as the Speed screen's `now`."""
DAYS = 7
PER_SESSION = 50
# target: (TTFT median s, decode median tok/s, spread)
TARGETS: dict[str, tuple[float, float, float]] = {
    "groq:llama-3.1-8b-instant": (0.22, 780.0, 0.25),
    "huggingface:meta-llama/Llama-3.3-70B-Instruct:cerebras": (0.45, 1850.0, 0.45),
}
RACE_PROMPT = "Explain in about 200 words how a CPU cache works."
RACES = (
    ("d3m0race0001", "2026-12-02T15:30:00Z", {"demo:demo-fast": (0.2, 800.0), "demo:demo-slow": (0.8, 60.0)}),
    ("d3m0race0002", "2026-12-04T10:15:00Z", {"groq:llama-3.1-8b-instant": (0.21, 790.0),
                                              "huggingface:meta-llama/Llama-3.3-70B-Instruct:cerebras": (0.48,
                                                                                                          1790.0)}),
)


ANSWER_TEXT = (
    "A CPU cache keeps recently used memory close to the core, so the next read of the same line takes a few "
    "cycles instead of a hundred. "
)


def _answers(count: int, rnd: random.Random, chars: int) -> Iterator[tuple[str, NewMessage]]:
    names = list(TARGETS)
    start = END - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / max(count, 1)
    for i in range(count):
        target = names[i % len(names)]
        ttft, decode, spread = TARGETS[target]
        day = (i * DAYS) // max(count, 1)
        drift = 1.0 + 0.08 * ((day % 3) - 1)  # a slower and a faster day now and then
        at = format_timestamp(start + step * (i + 1))
        profile, model = target.split(":", 1)
        if rnd.random() < 0.02:
            error = {"kind": "rate_limit", "status": 429, "code": None, "message": "Rate limit reached",
                     "retry_after_s": 2.0}
            yield at, NewMessage("assistant", "", at, profile=profile, model=model, finish_reason="error",
                                 error=error)
            continue
        figures_ttft = ttft * drift * rnd.lognormvariate(0, spread)
        figures_decode = decode / drift * rnd.lognormvariate(0, spread / 3)
        tokens = rnd.randint(80, 600)
        exact = rnd.random() > 0.05
        stats = {
            "ttft_s": round(figures_ttft, 4), "total_s": round(figures_ttft + tokens / figures_decode, 4),
            "completion_tokens": tokens, "tokens_exact": exact, "decode_tps": round(figures_decode, 1),
            "e2e_tps": round(tokens / (figures_ttft + tokens / figures_decode), 1), "server_tps": None,
            "queue_s": None,
        }
        text = (ANSWER_TEXT * (chars // len(ANSWER_TEXT) + 1))[:chars] if chars else "An answer."
        yield at, NewMessage("assistant", text, at, profile=profile, model=model, finish_reason="stop", stats=stats)


def seed_history(store: SessionStore, answers: int = 400, seed: int = 17, races: bool = True,
                 answer_chars: int = 0) -> None:
    """Write `answers` chat answers (each after its prompt, `answer_chars` long) spread over the week before
    `END`, and the races."""
    rnd = random.Random(seed)
    batch: list[NewMessage] = []
    for at, message in _answers(answers, rnd, answer_chars):
        batch += [NewMessage("user", "A question.", at), message]
        if len(batch) >= 2 * PER_SESSION:
            store.import_session(NewSession("Speed history demo", batch[0].created_at, messages=batch))
            batch = []
    if batch:
        store.import_session(NewSession("Speed history demo", batch[0].created_at, messages=batch))
    if races:
        for race_id, at, targets in RACES:
            for run in (1, 2, 3):
                for target, (ttft, decode) in targets.items():
                    factor = 1.0 + 0.05 * (run - 2)
                    store.add_bench_run(race_id, RACE_PROMPT, target, run, created_at=at, stats={
                        "ttft_s": round(ttft * factor, 3), "total_s": round(ttft * factor + 256 / decode, 3),
                        "completion_tokens": 256, "tokens_exact": True, "decode_tps": round(decode / factor, 1),
                        "e2e_tps": round(256 / (ttft * factor + 256 / decode), 1), "server_tps": None,
                        "queue_s": None})

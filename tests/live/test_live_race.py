"""A real race: Groq against the Hugging Face router. Runs with `make test-live` when both keys are set."""

from __future__ import annotations

import os

import pytest

from botticelli.bench.runner import BenchPlan, run_race, targets_from_labels
from botticelli.bench.summary import summarize
from botticelli.config import load_config

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("GROQ_API_KEY") or not (os.environ.get("HF_TOKEN") or os.environ.get("HUGGINGFACE_API_KEY")),
        reason="needs GROQ_API_KEY and HF_TOKEN (or HUGGINGFACE_API_KEY)",
    ),
]

TARGETS = ["groq:llama-3.1-8b-instant", "huggingface:meta-llama/Llama-3.1-8B-Instruct"]


async def test_groq_against_huggingface() -> None:
    plan = BenchPlan("Count from 1 to 30, separated by commas.", targets_from_labels(load_config(), TARGETS),
                     runs=2, warmup=1, max_tokens=80)
    result = await run_race(plan)
    groq, hf = summarize(result.runs, plan.labels)
    for summary in (groq, hf):
        assert summary.ok >= 1, f"{summary.target}: {summary.error}"
        assert summary.median("ttft_s") and summary.median("decode_tps")
        assert summary.decode_ratio_to_slowest is not None and summary.decode_ratio_to_slowest >= 1.0
    assert groq.median("server_tps")  # Groq reports x_groq.usage timings
    assert all(r.stats.tokens_exact for r in result.runs if r.ok)
    assert not any(r.retried for r in result.runs)

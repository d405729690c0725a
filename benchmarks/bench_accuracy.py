"""Reported decode tok/s vs a simulator's known rate: within 1 %.

`botticelli simulate` runs in its own process and paces tokens on an absolute schedule at a known rate
(`[[tps:N]]`; it echoes the rate it used in the `x-sim-tps` header). Botticelli's real client streams the
answer over loopback and reports `decode_tps` = (n - 1) / (t_last - t_first) with n from the server's usage.
For each rate, the median of `RUNS` answers is compared with the rate the simulator says it used.

Run: .venv/bin/python benchmarks/bench_accuracy.py   (about 45 s)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from _common import SimulatorProcess, figure, median
from botticelli.providers.client import OpenAICompatibleClient
from botticelli.providers.types import ChatMessage, ChatRequest

# (rate in tok/s, answer length in tokens): a few seconds of decoding each
RATES = ((200, 1500), (800, 4000), (2000, 6000))
RUNS = 3
TOLERANCE = 0.01


async def one_answer(client: OpenAICompatibleClient, rate: int, tokens: int) -> tuple[float, float, int]:
    """(reported decode tok/s, the rate the simulator used, completion tokens) for one streamed answer."""
    prompt = f"[[tps:{rate}]] [[ttft:0.05]] [[tokens:{tokens}]] Explain streaming."
    request = ChatRequest(model="demo-fast", messages=[ChatMessage("user", prompt)])
    async with client.stream(request) as stream:
        async for _ in stream:
            pass
        used = float(stream.response.headers.get("x-sim-tps", rate)) if stream.response is not None else rate
        figures = stream.figures()
    if figures.decode_tps is None or not figures.tokens_exact:
        raise AssertionError(f"no exact decode figure at {rate} tok/s: {figures}")
    return figures.decode_tps, used, figures.completion_tokens or 0


async def measure(base_url: str) -> dict[int, tuple[list[float], float, int]]:
    """Per configured rate: the reported decode rates, the rate the simulator used, the tokens per answer."""
    found: dict[int, tuple[list[float], float, int]] = {}
    async with OpenAICompatibleClient(base_url, api_key="sk-bench", provider="groq") as client:
        await one_answer(client, 2000, 200)  # warm-up: connection, imports
        for rate, tokens in RATES:
            reported, used, count = [], float(rate), 0
            for _ in range(RUNS):
                tps, used, count = await one_answer(client, rate, tokens)
                reported.append(tps)
            found[rate] = (reported, used, count)
    return found


def run() -> list[dict[str, Any]]:
    with SimulatorProcess(tps=500, ttft=0.05) as sim:
        found = asyncio.run(measure(sim.base_url))
    results = []
    worst = 0.0
    for rate, (reported, used, count) in found.items():
        value = median(reported)
        error = abs(value - used) / used
        worst = max(worst, error)
        spread = ", ".join(f"{r:,.1f}" for r in reported)
        results.append(figure(
            f"decode_tps_reported_at_{rate}_tps", value, f"{used:,.0f} ± 1 %", error <= TOLERANCE, "tok/s",
            note=f"error {100 * (value - used) / used:+.2f} %; median of {RUNS} answers "
            f"of {count:,} tokens: {spread}",
        ))
    results.append(figure("decode_tps_worst_error_percent", 100 * worst, "<= 1", worst <= TOLERANCE, "%",
                          note="largest |median reported - simulator rate| / simulator rate over the rates"))
    return results


def main() -> list[dict[str, Any]]:
    """Stream answers at known rates and compare; returns one dict per figure."""
    return run()


if __name__ == "__main__":
    main()

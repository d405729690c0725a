"""Load benchmark: 4 concurrent streams at 2,000 tok/s for a minute, through the client, over real sockets.

Run: .venv/bin/python benchmarks/bench_load.py [--duration 60]   (about duration + 10 s)

The simulator runs in a child process (`botticelli simulate`, loopback), so its CPU and memory are not counted
against the client. Four `OpenAICompatibleClient`s (one per stream, as four race targets would have) each loop
for the whole duration asking for answers of 3,000 tokens at 2,000 tok/s (`[[tokens:3000]] [[tps:2000]]`), each
answer read to its end exactly as the TUI and `ask` read it. Before the load, one stream alone gives the solo
decode rate.

Figures: errors (0); this process's RSS sampled every second, reported after a warm-up (10 s, or a third of a
short run) as first/last/max, "flat" meaning max and last within 10 % of first; each stream's median decode tok/s
against the simulator's 2,000 (within 5 %) and against the solo median (within 5 %, the docs/ARCHITECTURE.md figure).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from _common import SimulatorProcess, figure, median, rss_mb
from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, ChatRequest

STREAMS = 4
TPS = 2000.0
TOKENS = 3000
WARMUP_S = 10.0
SOLO_REQUESTS = 3
PROMPT = f"[[tokens:{TOKENS}]] [[tps:{TPS:g}]] [[ttft:0.05]] Write a long answer."


class StreamLoop:
    """One stream: request after request until the deadline; keeps each answer's decode rate and any error."""

    def __init__(self, base_url: str, name: str) -> None:
        self.name = name
        self.client = OpenAICompatibleClient(base_url, provider=name, timeout_s=30.0, connect_timeout_s=5.0,
                                             retry=RetryPolicy(max_retries=0))
        self.decode: list[float] = []
        self.tokens = 0
        self.errors: list[str] = []

    async def one(self) -> None:
        request = ChatRequest("demo-fast", [ChatMessage("user", PROMPT)], max_tokens=TOKENS)
        try:
            async with self.client.stream(request) as stream:
                async for _event in stream:
                    pass
        except ProviderError as exc:
            self.errors.append(exc.one_line())
            return
        figures = stream.figures()
        if figures.completion_tokens != TOKENS or figures.decode_tps is None:
            self.errors.append(f"{self.name}: got {figures.completion_tokens} tokens, decode {figures.decode_tps}")
            return
        self.decode.append(figures.decode_tps)
        self.tokens += figures.completion_tokens

    async def run_until(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.one()

    async def aclose(self) -> None:
        await self.client.aclose()


async def sample_rss(samples: list[tuple[float, float]], started: float, stop: asyncio.Event) -> None:
    """RSS (MB) once a second, with the seconds since the load started."""
    while not stop.is_set():
        samples.append((time.monotonic() - started, rss_mb()))
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def measure(base_url: str, duration_s: float) -> dict[str, Any]:
    solo = StreamLoop(base_url, "solo")
    for _ in range(SOLO_REQUESTS):
        await solo.one()
    await solo.aclose()

    loops = [StreamLoop(base_url, f"stream-{i + 1}") for i in range(STREAMS)]
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    started = time.monotonic()
    sampler = asyncio.create_task(sample_rss(samples, started, stop))
    try:
        await asyncio.gather(*(loop.run_until(started + duration_s) for loop in loops))
    finally:
        stop.set()
        await sampler
        for loop in loops:
            await loop.aclose()
    return {"solo": solo, "loops": loops, "samples": samples, "elapsed": time.monotonic() - started}


def main(duration_s: float = 60.0) -> list[dict[str, Any]]:
    warmup = min(WARMUP_S, duration_s / 3)
    with SimulatorProcess(tps=TPS, ttft=0.05) as sim:
        result = asyncio.run(measure(sim.base_url, duration_s))
    solo: StreamLoop = result["solo"]
    loops: list[StreamLoop] = result["loops"]
    samples: list[tuple[float, float]] = result["samples"]

    figures: list[dict[str, Any]] = []
    errors = [e for loop in [solo, *loops] for e in loop.errors]
    answers = sum(len(loop.decode) for loop in loops)
    figures.append(figure("load: errors", len(errors), "0", not errors, "",
                          note="; ".join(errors[:3]), answers=answers, seconds=round(result["elapsed"], 1)))

    kept = [rss for t, rss in samples if t >= warmup] or [rss for _, rss in samples[-1:]]
    first, last, peak = kept[0], kept[-1], max(kept)
    flat = peak <= first * 1.10 and last <= first * 1.10
    figures.append(figure("load: RSS after warm-up, first", round(first, 1), "—", None, "MB",
                          warmup_s=round(warmup, 1), samples=len(kept)))
    figures.append(figure("load: RSS after warm-up, last", round(last, 1), "<= first +10 %", last <= first * 1.10,
                          "MB"))
    figures.append(figure("load: RSS after warm-up, max", round(peak, 1), "<= first +10 %", flat, "MB",
                          growth_pct=round(100 * (peak / first - 1), 1) if first else None))

    solo_median = median(solo.decode) if solo.decode else 0.0
    figures.append(figure("load: solo decode tok/s (median)", round(solo_median, 1), f"{TPS:g} ±5 %",
                          abs(solo_median / TPS - 1) <= 0.05 if solo_median else False, "tok/s"))
    for loop in loops:
        value = median(loop.decode) if loop.decode else 0.0
        figures.append(figure(f"load: {loop.name} decode tok/s (median)", round(value, 1), f"{TPS:g} ±5 %",
                              bool(value) and abs(value / TPS - 1) <= 0.05, "tok/s", answers=len(loop.decode),
                              min=round(min(loop.decode), 1) if loop.decode else None,
                              max=round(max(loop.decode), 1) if loop.decode else None))
    medians = [median(loop.decode) for loop in loops if loop.decode]
    worst = min(medians, key=lambda v: -abs(v / solo_median - 1)) if medians and solo_median else 0.0
    figures.append(figure("load: worst stream vs solo (ratio)", round(worst / solo_median, 3) if solo_median else 0.0,
                          "1 ±0.05", bool(worst) and abs(worst / solo_median - 1) <= 0.05, "x"))
    total_tokens = sum(loop.tokens for loop in loops)
    figures.append(figure("load: tokens streamed (all streams)", total_tokens, "—", None, "tok",
                          per_s=round(total_tokens / result["elapsed"], 1)))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    args = parser.parse_args()
    results = main(duration_s=args.duration)
    sys.exit(0 if all(r["met"] is not False for r in results) else 1)

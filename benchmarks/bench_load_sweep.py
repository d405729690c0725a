"""Load sweep: is `botticelli load` an honest client, and does the simulator's capacity model saturate where set?

Run: .venv/bin/python benchmarks/bench_load_sweep.py   (about 60 s)

Both parts drive `botticelli.load.runner.LoadRunner` (the code behind `botticelli load`) against `botticelli
simulate` in a child process over loopback, so the simulator's CPU is not the client's.

1. No capacity limit (TPS tok/s per stream, TTFT 0.2 s, answers of ANSWER tokens): concurrency 1, then 64 (the
   64 streams spread over 4 worker processes, as `--workers 4`). The client is not the bottleneck when aggregate
   output tok/s at 64 is at least 95 % of 64 × the rate at 1, and TTFT p50 at 64 is within 5 % of the
   simulator's 0.2 s.
2. Capacity `--capacity-tps CAPACITY` shared by all streams (each stream alone could do CAP_TPS): concurrency
   4, 16 and 32 with answer lengths drawn from 40-120 tokens (so streams do not stay in lock-step). The highest
   level's output tok/s (the saturation throughput) must be within 5 % of CAPACITY; at 4 streams (4 × CAP_TPS
   below the capacity) it must not be limited.
Each level also reports the client's event-loop lag p99 and CPU; on a shared machine the lag says as much about
the machine as about the client.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from _common import SimulatorProcess, figure
from botticelli.config.profile import Profile
from botticelli.load.metrics import LevelMetrics
from botticelli.load.runner import LoadPlan, LoadRunner, SweepResult
from botticelli.load.schedule import Lengths
from botticelli.targets import Target

TPS = 50.0
TTFT = 0.2
ANSWER = 50
WIDE_WORKERS = 4
CAPACITY = 3000.0
CAP_TPS = 400.0
CAP_TTFT = 0.05
MODEL = "demo-load"  # served with `simulate --model` (the simulator answers other unknown ids with a 404)


async def sweep(base_url: str, levels: tuple[float, ...], requests: int | None, answer: Lengths,
                workers: int = 1, duration_s: float | None = None) -> SweepResult:
    target = Target(Profile(name="sim", base_url=base_url), MODEL)
    plan = LoadPlan((target,), "concurrency", levels, requests=requests, duration_s=duration_s,
                    answer_tokens=answer, prompt_tokens=Lengths(32, 32), workers=workers, warmup=2,
                    max_requests=100_000, seed=7)
    return await LoadRunner(plan).run()


def _level(result: SweepResult, level: float) -> LevelMetrics:
    return next(m for m in result.targets[0].levels if m.level == level)


def _health(level: LevelMetrics) -> dict[str, Any]:
    client = level.client.to_dict()
    return {"client_lag_p99_ms": client["lag_p99_ms"], "client_cpu_pct": client["cpu_pct"],
            "errors": level.failed}


def unlimited() -> list[dict[str, Any]]:
    with SimulatorProcess(f"--model={MODEL}", tps=TPS, ttft=TTFT) as sim:
        solo = asyncio.run(sweep(sim.base_url, (1,), 6, Lengths(ANSWER, ANSWER)))
        many = asyncio.run(sweep(sim.base_url, (64,), 192, Lengths(ANSWER, ANSWER), workers=WIDE_WORKERS))
    one, wide = _level(solo, 1), _level(many, 64)
    ratio = wide.output_tps / (64 * one.output_tps) if one.output_tps else 0.0
    ttft = wide.ttft_s.get("p50") or 0.0
    return [
        figure("load sweep: solo output tok/s (concurrency 1)", round(one.output_tps, 1), "—", None, "tok/s",
               **_health(one)),
        figure("load sweep: output tok/s at concurrency 64", round(wide.output_tps, 1),
               f">= 95 % of 64 × solo ({0.95 * 64 * one.output_tps:,.0f})", ratio >= 0.95, "tok/s",
               ratio=round(ratio, 3), completed=wide.completed, **_health(wide)),
        figure("load sweep: TTFT p50 at concurrency 64", round(ttft, 4), f"{TTFT:g} ±5 %",
               abs(ttft / TTFT - 1) <= 0.05, "s", p99=round(wide.ttft_s.get("p99") or 0.0, 4)),
    ]


def limited() -> list[dict[str, Any]]:
    with SimulatorProcess("--capacity-tps", f"{CAPACITY:g}", f"--model={MODEL}", tps=CAP_TPS, ttft=CAP_TTFT) as sim:
        result = asyncio.run(sweep(sim.base_url, (4, 16, 32), None, Lengths(40, 120), duration_s=8.0))
    low, top = _level(result, 4), _level(result, 32)
    saturation = top.output_tps
    figures = [
        figure("load sweep (capacity): output tok/s at concurrency 4", round(low.output_tps, 1),
               f"below the capacity {CAPACITY:g}", low.output_tps < CAPACITY, "tok/s",
               itl_p50_ms=round(1000 * (low.itl_s.get("p50") or 0), 2), **_health(low)),
        figure("load sweep (capacity): output tok/s at concurrency 16", round(_level(result, 16).output_tps, 1),
               "—", None, "tok/s", **_health(_level(result, 16))),
        figure("load sweep (capacity): saturation output tok/s (concurrency 32)", round(saturation, 1),
               f"{CAPACITY:g} ±5 %", abs(saturation / CAPACITY - 1) <= 0.05, "tok/s",
               itl_p50_ms=round(1000 * (top.itl_s.get("p50") or 0), 2), **_health(top)),
    ]
    return figures


def main() -> list[dict[str, Any]]:
    return unlimited() + limited()


if __name__ == "__main__":
    results = main()
    sys.exit(0 if all(r["met"] is not False for r in results) else 1)

"""Race benchmark: does racing distort? And does the bench report a simulator's known rates?

Run: .venv/bin/python benchmarks/bench_race.py   (about 40 s; simulators in child processes on loopback)

1. Four targets (four profiles, four clients) on a simulator at 2,000 tok/s: each target's median decode tok/s
   when the four stream concurrently must be within 5 % of its median when it runs alone (sequential mode).
2. Two simulators at 800 and 80 tok/s raced concurrently: each median decode tok/s within 3 % of its rate and
   their ratio within 3 % of 10 (the `bench` acceptance check).
Every figure is printed next to its target, then as a JSON line; `main()` returns them as dicts.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "app"))

from _common import figure  # noqa: E402
from botticelli.bench.runner import BenchPlan, BenchResult, run_race  # noqa: E402
from botticelli.bench.summary import summarize  # noqa: E402
from botticelli.config import Profile  # noqa: E402
from botticelli.targets import Target  # noqa: E402

STREAMS = 4
RACE_TPS = 2000.0
RACE_TOKENS = 1000
RUNS = 5
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


@contextmanager
def simulator(tps: float, ttft: float) -> Iterator[str]:
    """`botticelli simulate` in a child process on an ephemeral port; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "app")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "botticelli", "simulate", "--port", "0", "--tps", f"{tps:g}", "--ttft", f"{ttft:g}",
         *(f"--model=bench-model-{i}" for i in range(1, STREAMS + 1))],  # it answers only models it serves
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        match = URL.search(banner)
        if match is None:
            raise RuntimeError(f"the simulator did not start: {banner!r}")
        yield f"http://127.0.0.1:{match.group(1)}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def targets(url: str, count: int, prefix: str) -> tuple[Target, ...]:
    """`count` profiles on `url`, one model each (served with `--model`, at the simulator's --tps)."""
    return tuple(Target(Profile(name=f"{prefix}{i}", base_url=url), f"bench-model-{i}") for i in range(1, count + 1))


def medians(result: BenchResult) -> dict[str, float]:
    out = {}
    for s in summarize(result.runs, result.plan.labels):
        if s.failed:
            raise RuntimeError(f"{s.target}: {s.failed} run(s) failed: {s.error}")
        out[s.target] = s.median("decode_tps") or 0.0
    return out


async def concurrency_check(records: list[dict[str, Any]]) -> None:
    with simulator(RACE_TPS, 0.05) as url:
        race = targets(url, STREAMS, "s")
        prompt = f"[[tokens:{RACE_TOKENS}]] Write a long story."
        solo = medians(await run_race(BenchPlan(prompt, race, runs=RUNS, max_tokens=RACE_TOKENS, concurrent=False)))
        together = medians(await run_race(BenchPlan(prompt, race, runs=RUNS, max_tokens=RACE_TOKENS)))
    for n, label in enumerate(solo, 1):
        print(f"  {label}: solo {solo[label]:,.1f} tok/s, {STREAMS} concurrent {together[label]:,.1f} tok/s",
              flush=True)
        records.append(figure(f"race_solo_decode_tps_stream{n}", solo[label], f"{RACE_TPS:,.0f} ± 1 %",
                              abs(solo[label] / RACE_TPS - 1) <= 0.01, "tok/s", target_label=label))
        deviation = abs(together[label] / solo[label] - 1) * 100
        records.append(figure(f"race_{STREAMS}x{RACE_TPS:.0f}_concurrent_vs_solo_stream{n}", deviation, "<= 5",
                              deviation <= 5, "%", solo=solo[label], concurrent=together[label],
                              target_label=label))


async def known_rates_check(records: list[dict[str, Any]]) -> None:
    with simulator(800, 0.2) as fast_url, simulator(80, 0.2) as slow_url:
        fast, slow = targets(fast_url, 1, "fast")[0], targets(slow_url, 1, "slow")[0]
        plan = BenchPlan("[[tokens:200]] Explain CPU caches.", (fast, slow), runs=RUNS, max_tokens=256)
        result = await run_race(plan)
    rates = medians(result)
    for target, rate in ((fast, 800.0), (slow, 80.0)):
        value = rates[target.label]
        print(f"  {target.label}: median decode {value:,.2f} tok/s (simulator at {rate:g})", flush=True)
        records.append(figure(f"bench_decode_error_vs_{rate:.0f}_tps_pct", abs(value / rate - 1) * 100, "<= 3",
                              abs(value / rate - 1) <= 0.03, "%", measured=value))
    ratio = rates[fast.label] / rates[slow.label]
    records.append(figure("bench_decode_ratio_800_vs_80_x", ratio, "10 ± 3 %", abs(ratio / 10 - 1) <= 0.03, "x"))


async def run() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    await concurrency_check(records)
    await known_rates_check(records)
    return records


def main() -> list[dict[str, Any]]:
    """Run both checks; one dict per figure (name, value, unit, target, met)."""
    return asyncio.run(run())


if __name__ == "__main__":
    main()

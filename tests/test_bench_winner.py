"""The race names a winner only when the difference is larger than the noise (issue 13 item 18).

Rule: with >= 3 runs per target, the winner's range must not overlap any other target's range; with fewer
runs, its median must beat every other median by more than 5 %. Otherwise: "no clear winner", in the `bench`
table, its JSON (`winner: null`) and the TUI race summary's caption.
"""

from __future__ import annotations

import json

import pytest

from botticelli.bench.export import bench_json
from botticelli.bench.report import summary_table
from botticelli.bench.runner import BenchPlan, BenchResult, RunResult
from botticelli.bench.summary import summarize, winner
from botticelli.config import Profile
from botticelli.stats import SpeedFigures
from botticelli.targets import Target


def run(target: str, n: int, decode: float, ttft: float = 0.2) -> RunResult:
    stats = SpeedFigures(ttft_s=ttft, total_s=ttft + 1, completion_tokens=100, tokens_exact=True,
                         decode_tps=decode, e2e_tps=decode / 2)
    return RunResult(target, 0 if target == "a" else 1, n, stats, None, 400)


def runs(target: str, decodes: list[float], ttfts: list[float] | None = None) -> list[RunResult]:
    ttfts = ttfts or [0.2] * len(decodes)
    return [run(target, i + 1, d, t) for i, (d, t) in enumerate(zip(decodes, ttfts, strict=True))]


@pytest.mark.parametrize("a, b, expected", [
    ([201.0], [198.0], None),  # one run each, 1.5 % apart: noise
    ([210.0], [198.0], "a"),  # one run each, 6 % apart
    ([201.0, 203.0], [198.0, 199.0], None),  # two runs: still the 5 % rule
    ([200.0, 205.0, 230.0], [190.0, 201.0, 203.0], None),  # medians 205 vs 201, ranges overlap
    ([210.0, 212.0, 215.0], [200.0, 203.0, 209.0], "a"),  # 2 % apart, but no overlap over 3 runs
    ([300.0, 900.0, 1000.0], [100.0, 400.0, 110.0], None),  # 9x apart in medians, ranges overlap
], ids=["1 run, 1.5%", "1 run, 6%", "2 runs, 1.5%", "3 runs, overlap", "3 runs, apart", "3 runs, wide"])
def test_decode_winner_only_beyond_the_spread(a, b, expected) -> None:
    summaries = summarize(runs("a", a) + runs("b", b), ["a", "b"])
    assert winner(summaries) == expected


def test_ttft_winner_uses_the_same_rule_lower_is_better() -> None:
    close = summarize(runs("a", [100.0], [0.200]) + runs("b", [100.0], [0.205]), ["a", "b"])
    assert winner(close, "ttft_s") is None
    apart = summarize(runs("a", [100.0] * 3, [0.1, 0.11, 0.12]) + runs("b", [100.0] * 3, [0.13, 0.2, 0.3]),
                      ["a", "b"])
    assert winner(apart, "ttft_s") == "a"


def test_every_other_target_must_be_beaten_not_only_the_runner_up() -> None:
    summaries = summarize(runs("a", [210.0, 212.0, 215.0]) + runs("b", [200.0, 203.0, 209.0])
                          + runs("c", [100.0, 150.0, 211.0]), ["a", "b", "c"])
    assert winner(summaries) is None  # c's range reaches into a's


def result_of(a: list[float], b: list[float]) -> BenchResult:
    targets = tuple(Target(Profile(name=name, base_url="http://127.0.0.1:9/v1"), "m") for name in ("a", "b"))
    plan = BenchPlan(prompt="p", targets=targets, runs=len(a))
    measured = runs("a:m", a) + runs("b:m", b)
    return BenchResult(plan=plan, race_id="r1", started_at="2026-12-04T00:00:00Z", runs=measured)


def test_the_bench_table_and_json_say_no_clear_winner() -> None:
    result = result_of([201.0], [198.0])
    table = summary_table(result)
    assert "★" not in table and "no clear winner" in table
    assert json.loads(json.dumps(bench_json(result)))["winner"] is None
    clear = result_of([300.0], [198.0])
    assert "★ fastest decode: a:m" in summary_table(clear)
    assert bench_json(clear)["winner"] == "a:m"


def test_the_tui_race_caption_says_no_clear_winner() -> None:
    from botticelli.tui.widgets.race_summary import caption

    close = result_of([201.0], [198.0])
    summaries = summarize(close.runs, close.plan.labels)
    assert caption(close, summaries, winner(summaries)).startswith("No clear winner: ")
    apart = result_of([400.0], [198.0])
    summaries = summarize(apart.runs, apart.plan.labels)
    assert caption(apart, summaries, winner(summaries)).startswith("★ a:m wins: 2.0× faster decode")

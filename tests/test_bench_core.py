"""The bench core: round-robin runner, warm-ups, identical requests, failures in their own rows, summaries,
JSON/CSV export and the bench history. Small token counts and fast simulators; no timed assertions."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields
from pathlib import Path

import pytest

from botticelli.bench.export import CSV_COLUMNS, bench_csv, bench_json, write_atomic
from botticelli.bench.history import save_race
from botticelli.bench.report import summary_table
from botticelli.bench.runner import (
    BenchPlan,
    BenchResult,
    BenchRunner,
    LiveRun,
    RaceHooks,
    RunResult,
    measuring_client,
    run_race,
    targets_from_labels,
)
from botticelli.bench.summary import spread, summarize, winner
from botticelli.chat.events import ContentDelta, TurnEvent
from botticelli.config import ConfigError, load_config
from botticelli.sessions import SessionStore
from botticelli.stats import SpeedFigures
from helpers_bench import FAST_TPS, QUICK, SLOW_TPS, sim_profiles


def plan_for(*labels: str, prompt: str = QUICK, **kw: object) -> BenchPlan:
    return BenchPlan(prompt, targets_from_labels(load_config(), labels), **kw)  # type: ignore[arg-type]


def received(server) -> list[dict]:
    return [r["body"] for r in server.state.recent]


# -- the runner over a real loopback socket -------------------------------------------------------------------


async def test_sequential_round_robin_after_discarded_warmup() -> None:
    with sim_profiles() as server:
        plan = plan_for("fast:m-fast", "slow:m-slow", runs=2, warmup=1, max_tokens=50, concurrent=False)
        finished: list[tuple[str, int, bool]] = []
        result = await run_race(plan, hooks=RaceHooks(on_run=lambda r: finished.append((r.target, r.run, r.warmup))))
        bodies = received(server)
    assert [b["model"] for b in bodies] == ["m-fast", "m-slow"] * 3
    assert finished == [
        ("fast:m-fast", 1, True), ("slow:m-slow", 1, True),
        ("fast:m-fast", 1, False), ("slow:m-slow", 1, False),
        ("fast:m-fast", 2, False), ("slow:m-slow", 2, False),
    ]
    assert [(r.target, r.run) for r in result.runs] == [
        ("fast:m-fast", 1), ("slow:m-slow", 1), ("fast:m-fast", 2), ("slow:m-slow", 2)
    ]
    assert len(result.warmups) == 2 and all(w.warmup for w in result.warmups)
    assert all(r.ok and not r.retried and r.text_chars > 0 for r in result.runs)
    # the same request for everyone: temperature 0, the same max_tokens and messages, streamed with usage
    assert {b["temperature"] for b in bodies} == {0}
    assert {b["max_tokens"] for b in bodies} == {50}
    assert all(b["messages"] == [{"role": "user", "content": QUICK}] for b in bodies)
    assert all(b["stream_options"] == {"include_usage": True} for b in bodies)
    # the simulator's usage is exact: server tok/s is the configured rate
    by_target = {r.target: r.stats for r in result.runs}
    assert by_target["fast:m-fast"].server_tps == pytest.approx(FAST_TPS)
    assert by_target["slow:m-slow"].server_tps == pytest.approx(SLOW_TPS)
    assert all(r.stats.tokens_exact and r.stats.completion_tokens == 6 for r in result.runs)
    assert result.exit_code() == 0


async def test_concurrent_rounds_start_together_and_never_overlap() -> None:
    log: list[tuple[str, int, int, bool]] = []
    hooks = RaceHooks(
        on_start=lambda live: log.append(("start", live.index, live.run, live.warmup)),
        on_run=lambda r: log.append(("end", r.index, r.run, r.warmup)),
    )
    with sim_profiles() as server:
        plan = plan_for("fast:m-fast", "slow:m-slow", "fast:m-slow", runs=2, warmup=1)
        result = await run_race(plan, hooks=hooks)
        assert len(server.state.recent) == 9
    rounds = [(1, True), (1, False), (2, False)]
    for k, (run, warmup) in enumerate(rounds):
        chunk = log[k * 6:(k + 1) * 6]
        assert {(e[2], e[3]) for e in chunk} == {(run, warmup)}
        # every target of the round starts before any of them finishes
        assert [e[0] for e in chunk] == ["start"] * 3 + ["end"] * 3
        assert sorted(e[1] for e in chunk[:3]) == [0, 1, 2]
    assert len(result.runs) == 6 and all(r.ok for r in result.runs)


async def test_one_client_per_profile_with_retries_off() -> None:
    opened: list[tuple[str, int]] = []

    def factory(profile):
        client = measuring_client(profile)
        opened.append((profile.name, client.retry.max_retries))
        return client

    with sim_profiles():
        plan = plan_for("fast:m-fast", "fast:m-slow", runs=1, warmup=0)
        result = await BenchRunner(plan, client_factory=factory).run()
    assert opened == [("fast", 0)]
    assert all(r.ok for r in result.runs)


async def test_a_429_is_not_retried_while_measuring() -> None:
    once = {"default_model": "m-fast", "headers": {"x-sim-fault": "429 times=1 retry_after=0"}}
    with sim_profiles(once=once) as server:
        result = await run_race(plan_for("once:m-fast", runs=2, warmup=1))
        sent = len(server.state.recent)
    assert sent == 3  # warm-up (429, not retried) + 2 runs
    assert result.warmups[0].error["kind"] == "rate_limit"
    assert all(r.ok and not r.retried for r in result.runs)


async def test_failing_targets_fail_in_their_own_rows() -> None:
    gone = {"default_model": "m-gone", "headers": {"x-sim-fault": "404"}}
    with sim_profiles(gone=gone) as server:
        plan = plan_for("fast:m-fast", "broken:m-fast", "groq:llama-3.1-8b-instant", "gone:m-gone",
                        runs=3, warmup=1)
        result = await run_race(plan)
        gone_requests = [b for b in received(server) if b["model"] == "m-gone"]
    assert [r.ok for r in result.runs_of("fast:m-fast")] == [True] * 3
    broken = result.runs_of("broken:m-fast")
    assert len(broken) == 3 and {r.error["kind"] for r in broken} == {"rate_limit"}
    assert all(r.stats is None and r.exit_code == 4 for r in broken)
    no_key = result.runs_of("groq:llama-3.1-8b-instant")
    assert {r.error["kind"] for r in no_key} == {"auth"}
    assert "GROQ_API_KEY" in no_key[0].error_line
    # a model that is gone is asked once (the warm-up), its runs fail without being sent
    assert len(gone_requests) == 1
    assert {r.error["kind"] for r in result.runs_of("gone:m-gone")} == {"model_not_found"}
    assert result.failing_targets() == ["broken:m-fast", "groq:llama-3.1-8b-instant", "gone:m-gone"]
    assert result.exit_code() == 4  # the first failing target's kind


async def test_a_stream_cut_midway_keeps_its_partial_figures() -> None:
    cut = {"default_model": "m-fast", "headers": {"x-sim-fault": "cut after=3"}}
    with sim_profiles(cut=cut):
        result = await run_race(plan_for("cut:m-fast", "fast:m-fast", runs=2, warmup=0))
    cut_runs = result.runs_of("cut:m-fast")
    assert {r.error["kind"] for r in cut_runs} == {"network"} and len(cut_runs) == 2  # transient: both sent
    assert all(r.stats is not None and r.stats.ttft_s is not None and r.text_chars > 0 for r in cut_runs)
    assert all(r.exit_code == 7 for r in cut_runs)
    (summary, _) = summarize(result.runs, result.plan.labels)
    assert (summary.ok, summary.failed, summary.figures["ttft_s"]) == (0, 2, None)


async def test_live_events_and_meter_while_streaming() -> None:
    seen: list[tuple[int, int, str]] = []
    meters: list[bool] = []
    runner: BenchRunner

    def on_event(live: LiveRun, event: TurnEvent) -> None:
        if isinstance(event, ContentDelta):
            seen.append((live.index, live.run, event.text))
            meter = runner.live[live.index].meter
            meters.append(meter is not None and meter.live().ttft_s is not None)

    with sim_profiles():
        runner = BenchRunner(plan_for("fast:m-fast", "slow:m-slow", runs=1, warmup=0),
                             hooks=RaceHooks(on_event=on_event))
        result = await runner.run()
    assert {i for i, _, _ in seen} == {0, 1}
    assert all(meters)
    text = "".join(t for i, _, t in seen if i == 0)
    assert len(text) == result.runs[0].text_chars
    assert runner.live == {}


async def test_demo_profile_races_in_process() -> None:
    plan = plan_for("demo:demo-fast", "demo:demo-slow", prompt="[[tokens:5]] [[tps:5000]] [[ttft:0]] hi",
                    runs=1, warmup=0)
    result = await run_race(plan)
    assert all(r.ok and r.stats.server_tps == pytest.approx(5000) for r in result.runs)
    assert result.simulated == {"demo:demo-fast", "demo:demo-slow"}


def test_plan_validation() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        plan_for("demo:demo-fast", "demo:demo-fast")
    with pytest.raises(ValueError, match="runs"):
        plan_for("demo:demo-fast", runs=0)
    with pytest.raises(ConfigError, match="unknown profile"):
        plan_for("nope:x")
    with pytest.raises(ConfigError, match="PROFILE:MODEL"):
        plan_for("just-a-model")
    hf = targets_from_labels(load_config(), ["huggingface:meta-llama/Llama-3.1-8B-Instruct:novita"])[0]
    assert (hf.profile.name, hf.model) == ("huggingface", "meta-llama/Llama-3.1-8B-Instruct:novita")


# -- summary statistics on hand-made runs ---------------------------------------------------------------------


def run(target: str, n: int, ttft: float, decode: float, *, exact: bool = True, retried: bool = False,
        server: float | None = None, error: dict | None = None) -> RunResult:
    stats = None if error else SpeedFigures(ttft_s=ttft, total_s=ttft + 1, completion_tokens=100, tokens_exact=exact,
                                            decode_tps=decode, e2e_tps=decode / 2, server_tps=server)
    return RunResult(target, 0 if target == "a" else 1, n, stats, error, 400, retried=retried)


RATE_LIMITED = {"kind": "rate_limit", "status": 429, "code": None, "message": "slow down", "retry_after_s": 1.0}


def test_spread_median_min_max_and_p90_only_from_ten() -> None:
    small = spread([300.0, 100.0, 200.0, None])
    assert (small.median, small.min, small.max, small.n, small.p90) == (200.0, 100.0, 300.0, 3, None)
    assert small.to_dict() == {"median": 200.0, "min": 100.0, "max": 300.0}
    nine = spread([float(v) for v in range(1, 10)])
    assert nine.p90 is None and "p90" not in nine.to_dict()
    ten = spread([float(v) for v in range(1, 11)])
    assert ten.p90 == pytest.approx(9.1) and ten.to_dict()["p90"] == pytest.approx(9.1)
    assert spread([None]) is None


def test_summary_ratios_winner_failures_and_retries() -> None:
    runs = [
        run("a", 1, 0.2, 800.0, server=1000.0), run("a", 2, 0.25, 780.0), run("a", 3, 0.18, 820.0),
        run("a", 4, 0.01, 9999.0, retried=True),
        run("b", 1, 0.8, 80.0), run("b", 2, 0.9, 70.0, exact=False), run("b", 3, 0, 0, error=RATE_LIMITED),
        run("b", 4, 0.7, 90.0),
    ]
    a, b = summarize(runs, ["a", "b"], simulated={"b"})
    assert (a.ok, a.failed, a.retried) == (4, 0, 1)
    assert a.figures["decode_tps"].to_dict() == {"median": 800.0, "min": 780.0, "max": 820.0}
    assert a.figures["ttft_s"].median == pytest.approx(0.2)
    assert a.figures["server_tps"].to_dict() == {"median": 1000.0, "min": 1000.0, "max": 1000.0}
    assert a.figures["queue_s"] is None
    assert (b.ok, b.failed, b.error) == (3, 1, RATE_LIMITED)
    assert b.figures["decode_tps"].median == 80.0
    assert a.decode_ratio_to_slowest == pytest.approx(10.0) and b.decode_ratio_to_slowest == pytest.approx(1.0)
    assert a.ttft_ratio_to_slowest == pytest.approx(4.0) and b.ttft_ratio_to_slowest == pytest.approx(1.0)
    assert a.tokens_exact and not b.tokens_exact and b.estimated_runs == 1
    assert b.simulated and not a.simulated
    assert winner([a, b]) == "a" and winner([a, b], "ttft_s") == "a"
    assert winner([a]) is None


def test_summary_of_a_target_without_success() -> None:
    (only,) = summarize([run("a", 1, 0, 0, error=RATE_LIMITED)], ["a"])
    assert (only.ok, only.failed) == (1 - 1, 1)
    assert all(v is None for v in only.figures.values())
    assert only.decode_ratio_to_slowest is None


# -- export and history -----------------------------------------------------------------------------------------


def hand_made_result() -> BenchResult:
    plan = plan_for("demo:demo-fast", "demo:demo-slow", runs=2)
    result = BenchResult(plan, "race123", "2026-01-01T00:00:00Z")
    result.runs = [
        RunResult("demo:demo-fast", 0, 1, SpeedFigures(0.2, 0.5, 256, True, 800.0, 500.0, 810.0, 0.01), None, 1000),
        RunResult("demo:demo-slow", 1, 1, SpeedFigures(0.8, 5.0, 256, True, 60.0, 50.0, 60.0, None), None, 1000),
        RunResult("demo:demo-fast", 0, 2, SpeedFigures(0.3, 0.6, 256, True, 790.0, 480.0, 800.0, 0.02), None, 990),
        RunResult("demo:demo-slow", 1, 2, None, RATE_LIMITED, 0, exit_code=4),
    ]
    return result


def test_json_has_exactly_the_design_shape() -> None:
    data = json.loads(json.dumps(bench_json(hand_made_result())))
    assert list(data) == ["prompt", "runs_per_target", "concurrent", "runs", "summary", "winner"]
    assert (data["prompt"], data["runs_per_target"], data["concurrent"]) == (QUICK, 2, True)
    first = data["runs"][0]
    assert {"target", "run", "stats", "error"} <= set(first)
    assert (first["target"], first["run"], first["error"]) == ("demo:demo-fast", 1, None)
    assert set(first["stats"]) == {f.name for f in fields(SpeedFigures)}
    assert data["runs"][3]["stats"] is None and data["runs"][3]["error"]["kind"] == "rate_limit"
    fast, slow = data["summary"]
    assert (fast["target"], fast["ok"], fast["failed"]) == ("demo:demo-fast", 2, 0)
    for name in ("ttft_s", "decode_tps", "e2e_tps", "server_tps"):
        assert set(fast[name]) == {"median", "min", "max"}
    assert fast["decode_tps"] == {"median": 795.0, "min": 790.0, "max": 800.0}
    assert fast["decode_ratio_to_slowest"] == pytest.approx(795 / 60)
    assert (slow["ok"], slow["failed"], slow["decode_ratio_to_slowest"]) == (1, 1, 1.0)
    assert fast["simulated"] is True


def test_csv_header_and_rows() -> None:
    rows = list(csv.reader(io.StringIO(bench_csv(hand_made_result()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0][:3] == ["target", "run", "ttft_s"] and rows[0][-2:] == ["error_kind", "error_message"]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [(r["target"], r["run"]) for r in body] == [
        ("demo:demo-fast", "1"), ("demo:demo-slow", "1"), ("demo:demo-fast", "2"), ("demo:demo-slow", "2")
    ]
    assert body[0]["decode_tps"] == "800.0" and body[0]["tokens_exact"] == "true" and body[0]["error_kind"] == ""
    assert body[1]["queue_s"] == ""
    assert (body[3]["error_kind"], body[3]["error_message"], body[3]["ttft_s"]) == ("rate_limit", "slow down", "")


def test_write_atomic_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "out" / "race.csv", "a,b\n")
    assert path.read_text() == "a,b\n"
    assert [p.name for p in path.parent.iterdir()] == ["race.csv"]


async def test_a_race_is_stored_in_the_sessions_database() -> None:
    with sim_profiles():
        result = await run_race(plan_for("fast:m-fast", "broken:m-fast", runs=2, warmup=1))
    assert save_race(result) == 4
    with SessionStore.open() as store:
        stored = store.list_bench_runs(race_id=result.race_id)
    assert len(stored) == 4
    assert {(r.target, r.run) for r in stored} == {(t, n) for t in ("fast:m-fast", "broken:m-fast") for n in (1, 2)}
    fast = [r for r in stored if r.target == "fast:m-fast"]
    assert all(r.stats["tokens_exact"] and r.error is None and r.prompt == QUICK for r in fast)
    assert all(r.error["kind"] == "rate_limit" for r in stored if r.target == "broken:m-fast")


def test_table_keeps_ttft_comparison_when_one_target_has_no_decode_figure() -> None:
    """One-token answers have no decode tok/s: the table still compares TTFT, stars the TTFT winner, says why."""
    result = hand_made_result()
    one_token = SpeedFigures(0.1, 0.1, 1, True, None, 10.0, None, None)
    result.runs = [
        RunResult("demo:demo-fast", 0, 1, SpeedFigures(0.4, 0.9, 256, True, 800.0, 500.0, None, None), None, 1000),
        RunResult("demo:demo-slow", 1, 1, one_token, None, 4),
        RunResult("demo:demo-fast", 0, 2, SpeedFigures(0.5, 1.0, 256, True, 790.0, 480.0, None, None), None, 990),
        RunResult("demo:demo-slow", 1, 2, one_token, None, 4),
    ]
    lines = summary_table(result).splitlines()
    header, fast, slow = lines[2], lines[3], lines[4]
    assert "decode vs slowest" in header and "TTFT vs slowest" in header
    assert slow.startswith("★") and "demo:demo-slow" in slow and "4.5× faster" in slow
    assert "slowest" in fast and "× faster" not in fast
    assert "★ fastest TTFT: demo:demo-slow" in lines
    assert any(line.startswith("demo:demo-slow: no decode tok/s: its answers were too short to time")
               and line.endswith("compared on TTFT") for line in lines)
    a, b = summarize(result.runs, result.plan.labels)
    assert a.decode_ratio_to_slowest is None and b.decode_ratio_to_slowest is None
    assert b.ttft_ratio_to_slowest == pytest.approx(4.5)

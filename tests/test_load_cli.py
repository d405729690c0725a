"""`botticelli load` end to end against a loopback simulator: the JSON shape, CSV, the table, storage, caps,
429s counted and never retried, bad input in one line."""

from __future__ import annotations

import csv
import io
import json

import pytest

from botticelli.cli import main
from botticelli.load.report import CSV_COLUMNS
from botticelli.load.store import list_sweeps, loads_dir
from botticelli.simulator.server import running_simulator
from botticelli.simulator.settings import SimSettings
from helpers_bench import sim_profile, sim_profiles, write_config

LEVEL_KEYS = {"mode", "level", "requests", "completed", "failed", "rate_limited", "errors", "duration_s",
              "request_throughput", "output_tps", "output_tokens", "tokens_exact", "ttft_s", "itl_s", "e2e_s",
              "goodput_rps", "good", "client", "capped"}
QUICK = ["--answer-tokens", "8", "--prompt-tokens", "16"]


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_profiles() as server:
        code = main(["load", "-t", "fast:m-fast", "-t", "slow:m-slow", "--concurrency", "1,3", "--requests", "6",
                     "--slo", "ttft=1s,itl=50ms", "--json", *QUICK])
        sent = server.state.chat_requests
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "botticelli.load/1"
    assert data["mode"] == "concurrency" and data["levels"] == [1, 3] and data["requests_per_level"] == 6
    assert data["slo"] == {"ttft_s": 1.0, "itl_s": 0.05, "e2e_s": None}
    assert [t["target"] for t in data["targets"]] == ["fast:m-fast", "slow:m-slow"]
    assert sent == 2 * (1 + 6 + 6)  # one warm-up per target, then each level's requests
    for target in data["targets"]:
        assert target["error"] is None
        for level in target["levels"]:
            assert set(level) == LEVEL_KEYS
            assert level["completed"] == level["requests"] == 6
            assert level["output_tokens"] == 6 * 8 and level["tokens_exact"] is True
            assert set(level["ttft_s"]) == {"p50", "p90", "p99"} and set(level["itl_s"]) == {"p50", "p99"}
            assert set(level["e2e_s"]) == {"p50", "p99"}
            assert level["good"] == 6 and level["goodput_rps"] > 0
            assert 0 < level["ttft_s"]["p50"] < 1 and level["output_tps"] > 0
            assert set(level["client"]) == {"lag_p99_ms", "cpu_pct", "workers", "flagged"}
    # kept in the data folder, readable back for the TUI
    stored = list_sweeps()
    assert len(stored) == 1 and stored[0].sweep_id == data["id"]
    assert [p.level for p in stored[0].curves["fast:m-fast"]] == [1, 3]
    assert (loads_dir() / f"{data['id']}.json").is_file()


def test_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_profiles():
        assert main(["load", "-t", "fast:m-fast", "--rate", "20,40", "--arrival", "constant", "--requests", "5",
                     "--csv", "--no-store", *QUICK]) == 0
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 3
        assert [r[2] for r in rows[1:]] == ["20.0", "40.0"] and all(r[4] == "5" for r in rows[1:])
        assert not list_sweeps()  # --no-store

        assert main(["load", "-t", "fast:m-fast", "--concurrency", "2", "--requests", "4", *QUICK]) == 0
    captured = capsys.readouterr()
    assert "fast:m-fast\nconc" in captured.out and "TTFT p50" in captured.out and "4/4" in captured.out
    assert "fast:m-fast concurrency 2: 4/4 ok" in captured.err  # progress on stderr


def test_429s_are_counted_apart_and_never_retried(capsys: pytest.CaptureFixture[str]) -> None:
    settings = SimSettings(tps=4000.0, ttft_s=0.01, max_rps=5, extra_models=("m",))
    with running_simulator(settings) as server:
        write_config({"capped": sim_profile(server.base_url, "m")})
        code = main(["load", "-t", "capped:m", "--rate", "200", "--arrival", "constant", "--requests", "30",
                     "--warmup", "0", "--json", *QUICK])
        sent = server.state.chat_requests
    level = json.loads(capsys.readouterr().out)["targets"][0]["levels"][0]
    assert code == 0
    assert sent == 30  # no retries
    assert level["rate_limited"] >= 20 and level["completed"] >= 1
    assert level["completed"] + level["rate_limited"] == 30
    assert level["errors"] == {}


def test_the_hard_cap(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_profiles() as server:
        assert main(["load", "-t", "fast:m-fast", "--concurrency", "1,2", "--requests", "10",
                     "--max-requests", "15"]) == 2
        assert "needs 21 requests, over --max-requests 15" in capsys.readouterr().err
        assert server.state.chat_requests == 0
        # open-ended (duration) levels stop at the cap
        assert main(["load", "-t", "fast:m-fast", "--concurrency", "2", "--duration", "30", "--max-requests", "7",
                     "--json", *QUICK]) == 0
        assert server.state.chat_requests == 7
    level = json.loads(capsys.readouterr().out)["targets"][0]["levels"][0]
    assert level["requests"] == 6 and level["capped"] is True


def test_a_target_without_a_key_stops_with_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "-t", "groq:llama-3.1-8b-instant", "--concurrency", "1", "--requests", "2", "--yes"])
    err = capsys.readouterr().err
    assert code == 3
    assert "GROQ_API_KEY" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--concurrency", "0"], "--concurrency: '0' is not a whole number"),
    (["--rate", "fast"], "--rate: 'fast' is not a number"),
    (["--slo", "ttft=soon"], "--slo ttft"),
    (["--answer-tokens", "9-3"], "--answer-tokens"),
    (["--requests", "0"], "--requests must be at least 1"),
    (["--workers", "3", "--concurrency", "2"], "--workers 3 is more than the lowest concurrency 2"),
])
def test_bad_input_is_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "-t", "demo:demo-fast", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: load: ") and message in err and err.count("\n") == 1


def test_workers_spread_streams_over_processes(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_profiles() as server:
        assert main(["load", "-t", "fast:m-fast", "--concurrency", "2,4", "--requests", "4", "--workers", "2",
                     "--json", "--no-store", *QUICK]) == 0
        assert server.state.chat_requests == 1 + 4 + 4
    levels = json.loads(capsys.readouterr().out)["targets"][0]["levels"]
    assert [lv["completed"] for lv in levels] == [4, 4]
    assert all(lv["client"]["workers"] == 2 and lv["client"]["cpu_pct"] is not None for lv in levels)

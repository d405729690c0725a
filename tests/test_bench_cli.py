"""`botticelli bench`: exit codes, stdout only JSON/CSV when asked, progress on stderr, -o writes a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli.cli import main
from botticelli.sessions import SessionStore
from helpers_bench import simulated_profiles

QUICK = ["-t", "quick:sim-quick", "-t", "steady:sim-steady", "--runs", "2"]


@pytest.fixture(autouse=True)
def profiles() -> None:
    simulated_profiles()


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_only_on_stdout_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, *QUICK, "--json")
    assert code == 0
    data = json.loads(out)  # the whole of stdout is one JSON object
    assert out.count("\n") == 1
    assert list(data) == ["prompt", "runs_per_target", "concurrent", "runs", "summary", "winner"]
    assert data["runs_per_target"] == 2 and data["concurrent"] is True
    assert [r["target"] for r in data["runs"]] == ["quick:sim-quick", "steady:sim-steady"] * 2
    assert data["summary"][0]["server_tps"]["median"] == pytest.approx(4000)
    lines = err.splitlines()
    assert lines[0].startswith("[warm-up] ")
    progress = [line for line in lines if line.startswith("[") and "/4]" in line]
    assert len(progress) == 4
    assert progress[0].startswith("[1/4] quick:sim-quick run 1: TTFT ")
    assert progress[0].endswith("tok/s · 60 tok")


def test_table_marks_winner_ratio_and_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, *QUICK, "--sequential")
    assert code == 0
    assert "sequential" in out.splitlines()[0]
    rows = {line.split()[1] if line.startswith("★") else line.split()[0]: line for line in out.splitlines()[3:5]}
    assert set(rows) == {"quick:sim-quick", "steady:sim-steady"}
    assert all("(simulated)" in line for line in rows.values())
    assert "× faster" in rows["quick:sim-quick"] or "× faster" in rows["steady:sim-steady"]
    assert "slowest" in out
    assert sum(line.startswith("★") for line in rows.values()) == 1
    assert "★ fastest decode: " in out
    assert "[4/4]" in err


def test_a_failing_target_gets_its_own_row_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "-t", "quick:sim-quick", "-t", "flaky:sim-flaky", "--runs", "2")
    assert code == 4  # rate limited
    row = next(line for line in out.splitlines() if "flaky:sim-flaky" in line and "failed" in line)
    assert "0/2" in row and "rate_limit" in row
    assert "2/2" in next(line for line in out.splitlines() if "quick:sim-quick" in line)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: flaky: HTTP 429")


def test_missing_key_fails_cleanly_beside_a_working_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "-t", "groq:llama-3.1-8b-instant", "-t", "quick:sim-quick", "--runs", "1",
                           "--json")
    assert code == 3
    data = json.loads(out)
    groq, quick = data["summary"]
    assert (groq["ok"], groq["failed"], groq["error"]["kind"]) == (0, 1, "auth")
    assert (quick["ok"], quick["failed"]) == (1, 0)
    assert "error: groq: no API key for profile 'groq' (set GROQ_API_KEY)" in err.splitlines()


def test_output_file_is_written_and_stdout_stays_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "results" / "race.csv"
    code, out, err = bench(capsys, *QUICK, "-o", str(target))
    assert code == 0 and out == ""
    lines = target.read_text().splitlines()
    assert lines[0].startswith("target,run,ttft_s,") and len(lines) == 5
    assert f"wrote {target}" in err
    as_json = tmp_path / "race.txt"
    assert bench(capsys, *QUICK, "--json", "-o", str(as_json))[0] == 0
    assert json.loads(as_json.read_text())["runs_per_target"] == 2


def test_csv_on_stdout_and_prompt_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Name three colours.", encoding="utf-8")
    code, out, _ = bench(capsys, *QUICK, "--csv", "--prompt-file", str(prompt), "--warmup", "0")
    assert code == 0
    assert out.splitlines()[0].split(",")[:2] == ["target", "run"] and len(out.splitlines()) == 5
    with SessionStore.open() as store:
        assert {r.prompt for r in store.list_bench_runs()} == {"Name three colours."}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "quick:sim-quick", "--runs", "0"], "--runs must be at least 1"),
        (["-t", "quick:sim-quick", "--max-tokens", "0"], "--max-tokens must be at least 1"),
        (["-t", "a:b", "-t", "c:d", "-t", "e:f", "-t", "g:h", "-t", "i:j"], "at most 4 targets"),
        (["-t", "quick:sim-quick", "-t", "quick:sim-quick"], "listed twice"),
        (["-t", "nowhere:model"], 'unknown profile "nowhere"'),
        (["-t", "quick:sim-quick", "--prompt", "  "], "the prompt is empty"),
        (["-t", "quick:sim-quick", "--prompt-file", "/nonexistent/p.txt"], "cannot read"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = bench(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_json_and_csv_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "-t", "quick:sim-quick", "--json", "--csv"])
    assert exc.value.code == 2

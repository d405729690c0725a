"""`botticelli ask`, `models` and `profiles` as a user runs them (in-process, against the demo simulator)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from botticelli.cli import main
from botticelli.sessions import SessionStore

DESIGN_KEYS = {"profile", "model", "text", "reasoning", "finish_reason", "usage", "stats", "rate_limit", "error"}
STATS_KEYS = {"ttft_s", "total_s", "completion_tokens", "tokens_exact", "decode_tps", "e2e_tps", "server_tps",
              "queue_s"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ask_streams_the_demo_answer_and_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "-m", "demo-fast", "hello [[tokens:30]] [[tps:5000]]")
    assert code == 0
    assert "simulator" in out.lower()
    assert out.endswith("\n")
    assert err.startswith("demo · demo-fast · TTFT ")
    assert "30 tok" in err and "~" not in err  # exact tokens from the simulator's usage


def test_ask_marks_an_answer_cut_by_max_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "--max-tokens", "5", "hello [[tokens:30]] [[tps:5000]]")
    assert code == 0 and out.strip()
    assert "5 tok" in err and "· cut (max tokens or context full)" in err
    code, out, err = run_cli(capsys, "ask", "hello [[tokens:5]] [[tps:5000]]")
    assert code == 0 and "cut (" not in err


def test_ask_json_is_one_design_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "--json", "hi [[tokens:20]] [[tps:5000]]")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) >= DESIGN_KEYS
    assert data["profile"] == "demo" and data["finish_reason"] == "stop" and data["error"] is None
    assert set(data["stats"]) == STATS_KEYS
    assert data["stats"]["tokens_exact"] is True and data["stats"]["completion_tokens"] == 20
    assert data["usage"]["completion_tokens"] == 20
    assert data["rate_limit"]["remaining_requests"] is not None


def test_ask_quiet_prints_no_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "--quiet", "hi [[tokens:5]] [[tps:5000]]")
    assert code == 0 and out and err == ""


def test_missing_groq_key_exits_3_and_names_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "-p", "groq", "hi")
    assert code == 3 and out == ""
    assert err.strip() == "error: groq: no API key for profile 'groq' (set GROQ_API_KEY)"


def test_missing_key_in_json_mode_still_prints_the_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "-p", "huggingface", "hi")
    assert code == 3
    assert json.loads(out)["error"]["kind"] == "auth"


def test_prompt_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"from stdin [[echo]] [[tps:5000]]"))
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = run_cli(capsys, "ask", "--quiet", "-")
    assert code == 0 and out == "from stdin\n"


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt_is_refused(capsys: pytest.CaptureFixture[str], prompt: str) -> None:
    code, out, err = run_cli(capsys, "ask", prompt)
    assert code == 2 and out == ""
    assert err.startswith("error: ask: the prompt is empty")


def test_partial_text_stays_printed_when_the_stream_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "[[fault:cut after=10]] [[tps:5000]] [[tokens:40]] hi")
    assert code == 7
    assert len(out.strip()) > 10  # the ten tokens that arrived
    assert err.startswith("error: demo: ") and "partial answer is kept" in err


def test_ask_session_new_then_continue_keeps_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "-s", "be brief",
                           "first question [[tokens:8]] [[tps:5000]]")
    assert code == 0
    session_id = json.loads(out)["session_id"]
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", session_id[:6],
                           "second [[tokens:8]] [[tps:5000]]")
    assert code == 0
    with SessionStore.open() as store:
        session = store.get_session(session_id)
        messages = store.messages(session_id)
    assert session.system_prompt == "be brief"
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0].content.startswith("first question")
    assert messages[3].finish_reason == "stop" and messages[3].stats["tokens_exact"] is True


def test_ask_session_records_a_failed_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "boom [[fault:500]]")
    assert code == 8
    session_id = json.loads(out)["session_id"]
    with SessionStore.open() as store:
        messages = store.messages(session_id)
    assert messages[0].content == "boom [[fault:500]]"
    assert messages[1].error["kind"] == "server"


def test_ask_session_continues_with_its_own_model_and_says_when_m_switches_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "-m", "demo-slow",
                           "one [[tokens:4]] [[tps:5000]]")
    session_id = json.loads(out)["session_id"]
    code, out, err = run_cli(capsys, "ask", "--json", "--session", session_id, "two [[tokens:4]] [[tps:5000]]")
    assert code == 0 and json.loads(out)["model"] == "demo-slow" and err == ""  # not the default model
    code, out, err = run_cli(capsys, "ask", "--session", session_id, "-m", "demo-fast",
                             "three [[tokens:4]] [[tps:5000]]")
    assert code == 0
    assert f"session {session_id}: switching from demo·demo-slow to demo·demo-fast" in err
    with SessionStore.open() as store:
        session = store.get_session(session_id)
        answers = [m for m in store.messages(session_id) if m.role == "assistant"]
    assert [m.model for m in answers] == ["demo-slow", "demo-slow", "demo-fast"]
    assert session.model == "demo-fast"


def test_an_answer_cut_by_max_tokens_is_marked_in_the_stats_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "--max-tokens", "5", "hi [[tokens:30]] [[tps:5000]]")
    assert code == 0 and out
    assert err.startswith("demo · demo-fast · TTFT ") and "5 tok" in err
    assert "cut (max tokens or context full)" in err


def test_ask_announces_a_retry_on_stderr_and_counts_the_wait_in_the_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(capsys, "ask", "hi [[fault:429 times=1 retry_after=1]] [[tokens:5]] [[tps:5000]]")
    assert code == 0 and out
    notice, stats = err.splitlines()
    assert notice == "demo: retrying in 1 s (attempt 2 of 3)"
    total = stats.rsplit("total ", 1)[1].split()[0]
    assert total.endswith("s") and not total.endswith("ms") and float(total[:-1]) >= 1.0


def test_models_lists_demo_chat_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    ids = [m["id"] for m in json.loads(out)]
    assert "demo-fast" in ids and not any("whisper" in i for i in ids)


def test_profiles_check_reports_demo_ok_and_missing_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "profiles", "--check", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["demo"]["check"]["ok"] is True and rows["demo"]["default"] is True
    assert rows["groq"]["usable"] is False and "GROQ_API_KEY" in rows["groq"]["key"]


def test_ctrl_c_keeps_the_partial_answer_and_exits_130(tmp_path: Path) -> None:
    env = {**os.environ, "BOTTICELLI_CONFIG_DIR": str(tmp_path / "c"), "BOTTICELLI_DATA_DIR": str(tmp_path / "d")}
    child = subprocess.Popen(
        [sys.executable, "-m", "botticelli", "ask", "-m", "demo-slow", "hello [[tps:20]]"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert child.stdout is not None
    first = child.stdout.read(8)  # wait until the answer is streaming
    child.send_signal(signal.SIGINT)
    rest, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert len(first + rest) >= 8
    assert err.decode().strip() == "error: interrupted (the partial answer above is kept)"

"""The fault matrix through `botticelli ask`: exit code, the one-line error on stderr, the partial text on stdout
and in the `--json` object, and the requests the simulator received.

The profile `sim` in config.toml points at the loopback simulator with `max_retries = 1`, `timeout_s = 0.5`
and `connect_timeout_s = 0.5`; `ask` opens its client with `open_client`, exactly as the TUI does. Every row of
the client-level matrix runs in-process (fast, `botticelli.cli.main` with captured output); a few also run as a
real subprocess, to prove the real exit status and stderr bytes.
"""

from __future__ import annotations

import json
import re

import pytest

from faults import SIM_MODEL, CliResult, Sim, cli_inprocess, cli_subprocess, free_closed_port, sim_profile, write_config
from faults.test_fault_matrix import MATRIX, PROMPT, RETRIED, Case

PROFILE = "sim"
CLI_RETRIES = 1
ONE_LINE = re.compile(r"^error: sim: .+ \(.+\)$")
BY_NAME = {case.name: case for case in MATRIX}
SUBPROCESS_ROWS = ["401 bad key", "429 retry-after above the cap", "connection cut mid-stream", "missing [DONE]"]


RETRY_NOTICE = re.compile(rf"^{PROFILE}: retrying in [\d.]+ s \(attempt \d of {1 + CLI_RETRIES}\)$")


def prompt(case: Case) -> str:
    return f"[[echo]] {PROMPT} [[fault:{case.fault}]]"


def expected_requests(case: Case) -> int:
    return 1 + CLI_RETRIES if case.requests == RETRIED else case.requests


def expected_stdout(case: Case) -> str:
    """What streamed, then one newline so the shell prompt starts on its own line; nothing if nothing streamed."""
    return case.text + "\n" if case.text else ""


def check_plain(result: CliResult, case: Case) -> None:
    assert result.code == case.exit_code, result.err
    assert result.out == expected_stdout(case)  # the partial text stays printed
    if case.kind is None:
        assert result.err_lines and result.err_lines[-1].startswith(f"{PROFILE} · {SIM_MODEL} · ")
        assert "error" not in result.err
        return
    # One error line; before it, only the notice of each retry ("sim: retrying in 1 s (attempt 2 of 2)").
    *notices, line = result.err_lines
    assert all(RETRY_NOTICE.match(notice) for notice in notices), result.err
    assert len(notices) == expected_requests(case) - 1, result.err
    assert ONE_LINE.match(line), line
    for words in case.says:
        assert words in line  # the provider's own text
    assert case.hint_says in line.rsplit("(", 1)[-1]  # what to do


def check_json(result: CliResult, case: Case) -> None:
    assert result.code == case.exit_code, result.err
    assert result.out.endswith("\n") and result.out.count("\n") == 1  # one object, nothing else on stdout
    data = json.loads(result.out)
    assert (data["profile"], data["model"]) == (PROFILE, SIM_MODEL)
    assert data["text"] == case.text
    if case.kind is None:
        assert data["error"] is None and data["finish_reason"] == "stop"
        return
    error = data["error"]
    assert error["kind"] == case.kind
    assert error["message"] and any(words in error["message"] for words in case.says)
    if case.name.startswith(("4", "5")):
        assert error["status"] == int(case.name[:3])
    if case.name == "429 retry-after above the cap":
        assert error["retry_after_s"] == 100
    assert len(result.err_lines) == 1 and ONE_LINE.match(result.err_lines[0])


@pytest.fixture
def sim_config(sim: Sim) -> Sim:
    write_config(sim_profile(PROFILE, sim.base_url, max_retries=CLI_RETRIES))
    return sim


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.name)
def test_ask_through_each_fault(sim_config: Sim, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    sim = sim_config
    plain = cli_inprocess(["ask", "-p", PROFILE, prompt(case)], capsys)
    check_plain(plain, case)
    stats = sim.wait_closed()
    assert stats["chat_requests"] == expected_requests(case)
    assert (stats["open_connections"], stats["open_streams"]) == (0, 0)

    sim.reset()
    as_json = cli_inprocess(["ask", "-p", PROFILE, "--json", prompt(case)], capsys)
    check_json(as_json, case)
    assert sim.wait_closed()["chat_requests"] == expected_requests(case)


@pytest.mark.parametrize("name", SUBPROCESS_ROWS)
def test_ask_as_a_real_process(sim_config: Sim, name: str) -> None:
    case = BY_NAME[name]
    result = cli_subprocess(["ask", "-p", PROFILE, prompt(case)])
    check_plain(result, case)
    assert sim_config.wait_closed()["chat_requests"] == expected_requests(case)

    sim_config.reset()
    result = cli_subprocess(["ask", "-p", PROFILE, "--json", prompt(case)])
    check_json(result, case)


def test_connection_refused_as_a_real_process() -> None:
    port = free_closed_port()
    write_config(sim_profile(PROFILE, f"http://127.0.0.1:{port}/v1", max_retries=CLI_RETRIES))
    result = cli_subprocess(["ask", "-p", PROFILE, "--json", "hello"])
    assert result.code == 7
    data = json.loads(result.out)
    assert data["error"]["kind"] == "network" and data["text"] == ""
    (line,) = result.err_lines
    assert ONE_LINE.match(line)
    assert f"could not connect to http://127.0.0.1:{port}" in line and "try again" in line


def test_interrupted_stream_is_saved_with_its_partial_text(sim_config: Sim, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """`ask --session new` through a cut: the partial answer is in the session, marked with the error."""
    case = BY_NAME["connection cut mid-stream"]
    result = cli_inprocess(["ask", "-p", PROFILE, "--session", "new", "--json", prompt(case)], capsys)
    assert result.code == 7
    session_id = json.loads(result.out)["session_id"]
    exported = cli_inprocess(["sessions", "export", session_id, "--format", "json"], capsys)
    assert exported.code == 0
    answer = json.loads(exported.out)["messages"][-1]
    assert answer["role"] == "assistant" and answer["content"] == case.text
    assert answer["error"]["kind"] == "network"

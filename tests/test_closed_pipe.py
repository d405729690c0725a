"""A closed stdout (`botticelli ... | head -n 1`) ends every command quietly, like a Unix tool: exit 0, no traceback.

The reading end of the pipe is closed before the command starts, so every write fails with EPIPE: the
deterministic form of the race `| head` runs (the "intermittent" failure of short outputs is this case).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import faults
from faults import APP_DIR, Sim, cli_inprocess

echo_server = faults.echo_server
sim = faults.sim


def into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": str(APP_DIR), "PYTHONIOENCODING": "utf-8"}
    try:
        return subprocess.run([sys.executable, "-m", "botticelli", *args], stdin=subprocess.DEVNULL,
                              stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=60, check=False)
    finally:
        os.close(write_end)


@pytest.fixture
def session_id(sim: Sim, capsys: pytest.CaptureFixture[str]) -> str:
    result = cli_inprocess(["ask", "--session", "new", "--json", "hello [[tokens:50]]"], capsys)
    return json.loads(result.out)["session_id"]


@pytest.mark.parametrize("command", [
    ["ask", "a long answer [[tokens:3000]]"],
    ["ask", "--json", "an answer [[tokens:30]]"],
    ["models"],
    ["config", "show"],
    ["profiles"],
    ["sessions", "list"],
    ["sessions", "show", "{id}"],
    ["sessions", "export", "{id}"],
], ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly(session_id: str, command: list[str]) -> None:
    done = into_closed_pipe(*(word.replace("{id}", session_id) for word in command))
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr, stderr
    assert done.returncode == 0, stderr

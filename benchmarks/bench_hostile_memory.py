"""Peak memory of `botticelli ask` against a hostile server: each case stays under 300 MB (issue 13 item 6).

A scripted loopback server (the one the tests use, tests/helpers_hostile.py) answers `ask`, run as a real child
process with a fresh config; the child's peak resident memory is its `ru_maxrss` from `wait4`. Cases:

* a 500 whose body never ends (error bodies are read up to 1 MiB, the rest discarded; retried twice);
* a 200 stream of content that never ends (stopped by the answer cap, the default 16 MiB of text);
* a 200 JSON body that never ends (the same cap on a non-streamed answer);
* a 200 stream that sends only keep-alive comments (stopped by total_timeout_s, set to 3 s here).

Each case also checks the exit code and the one-line error, so a figure never hides a wrong outcome.

Run: .venv/bin/python benchmarks/bench_hostile_memory.py   (about 30 s)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the scripted server the tests use

from _common import APP_DIR, figure
from helpers_hostile import Answer, HostileServer, chunk, endless, sse

LIMIT_MB = 300.0
TOTAL_TIMEOUT_S = 3.0
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Case:
    name: str
    answer: Callable[[], Answer]
    exit_code: int
    says: str
    settings: str = ""


def _endless_stream() -> Iterator[bytes]:
    yield from endless(sse(*[chunk("x" * 63 + " ")] * 512, done=False))


def _endless_json() -> Iterator[bytes]:
    yield from endless(b"y" * 65536, first=b'{"choices":[{"message":{"content":"')


def _keep_alive() -> Iterator[bytes]:
    yield sse(chunk("partial "), done=False)
    yield from endless(b": keep-alive\n\n", every_s=0.1)


CASES = (
    Case("500_endless_error_body", lambda: Answer(500, {"content-type": "text/plain"}, endless(b"e" * 65536)),
         8, "HTTP 500"),
    Case("endless_content_stream", lambda: Answer(200, {"content-type": "text/event-stream"}, _endless_stream()),
         9, "answer too large"),
    Case("endless_json_body", lambda: Answer(200, {"content-type": "application/json"}, _endless_json()),
         9, "answer too large"),
    Case("keep_alive_forever", lambda: Answer(200, {"content-type": "text/event-stream"}, _keep_alive()),
         7, "took longer than 3s", settings=f"total_timeout_s = {TOTAL_TIMEOUT_S}\n"),
)


def run_case(case: Case, folder: Path) -> dict[str, Any]:
    """Serve `case` and run `ask` against it; returns peak MB, seconds, exit code and the stderr line."""
    with HostileServer(lambda path, attempt: case.answer()) as server:
        config = folder / case.name / "config"
        config.mkdir(parents=True)
        (config / "config.toml").write_text(
            f'default_profile = "hostile"\n\n[profiles.hostile]\nbase_url = "{server.base_url}"\n'
            f'default_model = "m"\ntimeout_s = 10\n{case.settings}', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
        env.update(BOTTICELLI_CONFIG_DIR=str(config), BOTTICELLI_DATA_DIR=str(folder / case.name / "data"),
                   PYTHONPATH=APP_DIR, PYTHONIOENCODING="utf-8")
        err_path = folder / case.name / "stderr"
        started = time.perf_counter()
        with open(os.devnull, "wb") as out, open(err_path, "wb") as err:
            child = subprocess.Popen([sys.executable, "-m", "botticelli", "ask", "hi"], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=err, env=env)
            deadline = time.monotonic() + TIMEOUT_S
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    child.kill()
                    pid, status, usage = os.wait4(child.pid, 0)
                    break
                time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
        seconds = time.perf_counter() - started
    line = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return {"peak_mb": usage.ru_maxrss / 1024, "seconds": seconds, "exit_code": child.returncode,
            "stderr": line[-1] if line else "", "server_mb": server.bytes_sent / 2**20}


def main() -> list[dict[str, Any]]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        for case in CASES:
            got = run_case(case, Path(tmp))
            right = got["exit_code"] == case.exit_code and case.says in got["stderr"]
            figures.append(figure(
                f"ask peak memory: {case.name.replace('_', ' ')}", round(got["peak_mb"], 1), f"<= {LIMIT_MB:g}",
                got["peak_mb"] <= LIMIT_MB and right, "MB",
                seconds=round(got["seconds"], 2), exit_code=got["exit_code"], expected_exit=case.exit_code,
                error_line=got["stderr"][:120], server_sent_mb=round(got["server_mb"], 1),
                note=("" if right else f"wrong outcome: expected exit {case.exit_code} and '{case.says}'; ")
                + "peak RSS of the `ask` child (ru_maxrss via wait4); the machine is shared, figures indicative",
            ))
    return figures


if __name__ == "__main__":
    main()

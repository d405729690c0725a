"""Shared helpers (no tests) for the fault matrix and the key-safety, hostile-text and bad-input tests.

Everything here talks to a real loopback simulator (`running_simulator`) or runs the real `botticelli` command,
either in this process (`cli_inprocess`, fast) or as a subprocess (`cli_subprocess`, proves real exit codes and
stderr). Nothing here ever connects outside 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from botticelli.simulator.content import tokenize
from botticelli.simulator.directives import strip_directives
from botticelli.simulator.server import SimServer, running_simulator

APP_DIR = Path(__file__).resolve().parents[2] / "app"
SIM_MODEL = "sim-model"  # not in the catalog: served at FAST_SIM speed (catalog models have their own TTFT)
READ_TIMEOUT_S = 0.5
CONNECT_TIMEOUT_S = 0.5
FAST_SIM = {"flavor": "groq", "tps": 20000.0, "ttft_s": 0.0, "extra_models": (SIM_MODEL,)}
"""Paced, but quick: a 20-token answer takes about a millisecond. Serves SIM_MODEL besides the catalogue."""


@dataclass
class Sim:
    """A running loopback simulator and its `/_sim/*` control endpoints."""

    server: SimServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def root_url(self) -> str:
        return self.server.root_url

    def _control(self, method: str, path: str) -> Any:
        # A fresh connection per call, closed at once: the simulator does not count the asking connection.
        response = httpx.request(method, f"{self.root_url}{path}", timeout=40.0)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._control("POST", "/_sim/reset")

    def stats(self) -> dict[str, int]:
        return self._control("GET", "/_sim/stats")

    def requests(self) -> list[dict[str, Any]]:
        """The last chat requests the simulator received (path, headers, body)."""
        return self._control("GET", "/_sim/requests")

    def wait_closed(self, timeout_s: float = 10.0) -> dict[str, int]:
        """Poll (bounded) until no client connection or stream is open; return the last stats either way."""
        deadline = time.monotonic() + timeout_s
        while True:
            # wait_idle makes the simulator itself wait (up to 2 s per call) for the condition.
            stats = self._control("GET", "/_sim/stats?wait_idle=2")
            if (stats["open_connections"] == 0 and stats["open_streams"] == 0) or time.monotonic() > deadline:
                return stats


def free_closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def full_backlog_listener() -> Iterator[int]:
    """A loopback port whose listen backlog is full, so a new connect hangs until the client's connect timeout.

    The listener never accepts; it is filled with connections until one more connect does not complete, which
    proves that further SYNs are being dropped (Linux, `tcp_abort_on_overflow = 0`, the default).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(64):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(0.2)
            fillers.append(sock)
            try:
                sock.connect(("127.0.0.1", port))
            except (TimeoutError, BlockingIOError):
                break
        else:
            pytest.skip("could not fill a listen backlog on this system")
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def write_config(text: str, mode: int = 0o600) -> Path:
    """Write config.toml into the test's BOTTICELLI_CONFIG_DIR (set by tests/conftest.py) with `mode`."""
    folder = Path(os.environ["BOTTICELLI_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def sim_profile(name: str, base_url: str, *, default: bool = True, read_timeout_s: float = READ_TIMEOUT_S,
                connect_timeout_s: float = CONNECT_TIMEOUT_S, max_retries: int = 1, extra: str = "") -> str:
    """config.toml text for a profile pointing at a loopback simulator."""
    head = f'default_profile = "{name}"\n' if default else ""
    return (
        f"{head}\n[profiles.{name}]\n"
        f'base_url = "{base_url}"\n'
        f'flavor = "groq"\n'
        f'default_model = "{SIM_MODEL}"\n'
        f"timeout_s = {read_timeout_s}\n"
        f"connect_timeout_s = {connect_timeout_s}\n"
        f"max_retries = {max_retries}\n"
        f"{extra}"
    )


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    out_bytes: bytes = b""

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli_inprocess(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> CliResult:
    """`botticelli ARGS` in this process (argparse exits become their exit code)."""
    from botticelli.cli import main

    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err, captured.out.encode("utf-8", "surrogateescape"))


def cli_subprocess(args: Sequence[str], *, stdin: bytes | None = None, env: dict[str, str] | None = None,
                   timeout_s: float = 60.0) -> CliResult:
    """`python -m botticelli ARGS` as a real process: real exit code, stdout bytes and stderr."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(APP_DIR) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.setdefault("PYTHONIOENCODING", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "botticelli", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=timeout_s,
        check=False,
    )
    return CliResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                     done.stderr.decode("utf-8", "replace"), done.stdout)


Reply = Callable[[str, str], tuple[int, Any]]
"""(path, Authorization header) -> (status, JSON-able body or raw bytes)."""


class Recorder:
    """A tiny loopback HTTP server that records every request's raw head and body and answers with `reply`.

    Use it where the simulator cannot say what a test needs (a 401 that echoes the key, a hostile error body),
    or to see every byte a server received (`seen`), `GET /models` included.
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.seen: list[bytes] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append(self.requestline.encode() + b"\r\n" + bytes(self.headers) + body)
                status, payload = recorder.reply(self.path, self.headers.get("authorization", ""))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# The echoed prompt both fault matrices (client/CLI and TUI) stream, so partial text is known exactly.
PROMPT = "Tokens stream from a fast model into the terminal, one small piece after another, until it ends."
ECHO = strip_directives(f"[[echo]] {PROMPT}")[0]
TOKENS = tokenize(ECHO)
AFTER = 6  # tokens streamed before a positioned fault acts
BAD_UTF8_SHOWN = "bad \ufffd\ufffd utf-8 \ufffd"  # the simulator's b"bad \xff\xfe utf-8 \xe2\x82", decoded


def head(n: int = AFTER) -> str:
    return "".join(TOKENS[:n])


def tail(n: int = AFTER) -> str:
    return "".join(TOKENS[n:])


@pytest.fixture(scope="module")
def echo_server() -> Iterator[SimServer]:
    """One loopback simulator per test module."""
    with running_simulator(**FAST_SIM) as server:
        yield server


@pytest.fixture
def sim(echo_server: SimServer) -> Sim:
    """The module's simulator, counters reset, behind a config profile `sim` (5 s read timeout, no retries)."""
    handle = Sim(echo_server)
    handle.reset()
    write_config(sim_profile("sim", handle.base_url, read_timeout_s=5, max_retries=0))
    return handle

"""The real app in a real terminal: `botticelli` under a pseudo-terminal, its output fed to a pyte emulator.

Shared by the real-terminal benchmarks (bench_chat_terminal.py) and the blank-view regression test
(tests/tui/test_chat_terminal.py). `PaceServer` runs benchmarks/pace_server.py in its own process;
`TerminalApp` starts `botticelli --profile pace` against it in a 120x40 pty with fresh config and data
folders, types prompts, and reads what the emulated screen shows, the app's CPU time (/proc/PID/stat) and
its peak memory (VmHWM).
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyte

BENCH_DIR = Path(__file__).resolve().parent
APP_DIR = BENCH_DIR.parent / "app"
ROWS, COLUMNS = 40, 120
KEY_VARS = re.compile(r"(_API_KEY|_TOKEN|_KEY)$")
TICK = os.sysconf("SC_CLK_TCK")
RATE = re.compile(r"([\d,]+(?:\.\d+)?)(k?) tok/s")


class PaceServer:
    """benchmarks/pace_server.py in a subprocess: `with PaceServer() as server: server.port`."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.streams: queue.Queue[dict[str, Any]] = queue.Queue()

    def __enter__(self) -> PaceServer:
        self.process = subprocess.Popen([sys.executable, str(BENCH_DIR / "pace_server.py")], stdout=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.__exit__()
            raise RuntimeError(f"pace_server did not start: {line!r}")
        self.port = int(line.split()[1])
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.streams.put(json.loads(line))
            except ValueError:
                continue

    def finished(self, timeout: float) -> dict[str, Any]:
        """The report of the next stream the server finishes (first/last byte times, rate)."""
        return self.streams.get(timeout=timeout)

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def write_config(folder: Path, ports: list[int]) -> None:
    """A config with profiles `pace` (first port), `pace2`... pointing at pace servers on loopback."""
    (folder / "config").mkdir(parents=True, exist_ok=True)
    text = ""
    for n, port in enumerate(ports, 1):
        name = "pace" if n == 1 else f"pace{n}"
        text += (f'[profiles.{name}]\nbase_url = "http://127.0.0.1:{port}/v1"\nflavor = "openai"\n'
                 'default_model = "pace"\nmodels = ["pace"]\n\n')
    (folder / "config" / "config.toml").write_text(text, encoding="utf-8")


def app_env(folder: Path) -> dict[str, str]:
    """The environment of a fresh install: temporary config and data folders, no provider keys."""
    env = {name: value for name, value in os.environ.items() if not KEY_VARS.search(name)}
    env.update({
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "BOTTICELLI_CONFIG_DIR": str(folder / "config"),
        "BOTTICELLI_DATA_DIR": str(folder / "data"),
        "PYTHONPATH": str(APP_DIR) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    for name in ("TEXTUAL", "NO_COLOR", "TEXTUAL_DRIVER"):
        env.pop(name, None)
    return env


class TerminalApp:
    """`botticelli ARGS` in a ROWSxCOLUMNS pty; everything it writes goes through a pyte screen."""

    def __init__(self, args: list[str], folder: Path, rows: int = ROWS, columns: int = COLUMNS) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.master = master
        self.bytes_read = 0
        argv = [sys.executable, "-m", "botticelli", *args]
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=app_env(folder),
                                        start_new_session=True, cwd=folder)
        os.close(slave)

    # -- reading the screen ------------------------------------------------------------------------------

    def pump(self, timeout: float = 0.02) -> bool:
        """Feed whatever the app wrote within `timeout` to the emulator; False once the app has exited."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return self.process.poll() is None
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:
                return False
            if not data:
                return False
            self.bytes_read += len(data)
            self.stream.feed(data)
            ready, _, _ = select.select([self.master], [], [], 0)
            if not ready:
                return True

    def lines(self) -> list[str]:
        """The emulated screen, one string per row."""
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def wait_for(self, check: Callable[[TerminalApp], bool], timeout: float) -> float | None:
        """Pump until `check(self)` holds; the time.monotonic() when it first did, or None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = self.pump()
            if check(self):
                return time.monotonic()
            if not alive:
                return None
        return None

    def wait_text(self, text: str, timeout: float) -> float | None:
        return self.wait_for(lambda app: text in app.text(), timeout)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Pump until the app has written nothing for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last = self.bytes_read
        still = time.monotonic()
        while time.monotonic() < deadline:
            self.pump(0.05)
            if self.bytes_read != last:
                last, still = self.bytes_read, time.monotonic()
            elif time.monotonic() - still >= quiet:
                return

    # -- driving it --------------------------------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def ask(self, prompt: str) -> None:
        """Type a prompt into the input and press Enter."""
        self.send(prompt)
        self.wait_for(lambda app: prompt[-12:] in app.text(), 5.0)
        self.send(b"\r")

    # -- measuring it ------------------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the app process so far (all its threads)."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def peak_rss_mb(self) -> float:
        """The app's peak resident set size (VmHWM), MB."""
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def shown_rate(self, pattern: re.Pattern[str] = RATE) -> list[float]:
        """Every `N tok/s` figure on screen, in tokens per second."""
        rates = []
        for number, kilo in pattern.findall(self.text()):
            value = float(number.replace(",", ""))
            rates.append(value * 1000 if kilo else value)
        return rates

    def close(self) -> None:
        """ctrl+q, then kill if the app does not quit within 5 s."""
        try:
            self.send(b"\x11")
            deadline = time.monotonic() + 5
            while self.process.poll() is None and time.monotonic() < deadline:
                self.pump(0.05)
        except OSError:
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        os.close(self.master)


def temp_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="botticelli-term-"))

"""Tiny helpers shared by the benchmarks: event-loop lag heartbeat, CPU share, RSS, figure reports."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


class Heartbeat:
    """Measures event-loop lag: an asyncio task asks to wake every `interval` and records how late it was."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - started - self.interval))

    def start(self) -> Heartbeat:
        self.lags.clear()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def percentile(self, q: float) -> float:
        """The q-th percentile of the recorded lags (seconds); 0 if none."""
        if not self.lags:
            return 0.0
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def max(self) -> float:
        return max(self.lags, default=0.0)


class CpuMeter:
    """Process CPU time over wall time, as a percentage of one core."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def percent(self) -> float:
        wall = time.perf_counter() - self.wall
        return 100.0 * (time.process_time() - self.cpu) / wall if wall > 0 else 0.0


def _status_mb(field: str) -> float:
    """A memory field of this process's /proc status (VmRSS, VmHWM) in MB; 0 when unreadable."""
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb() -> float:
    """Current resident set size of this process in MB (for growth over time; Linux /proc, 0 elsewhere)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far in MB: VmHWM, else getrusage's ru_maxrss."""
    peak = _status_mb("VmHWM")
    if peak:
        return peak
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except (ImportError, OSError):
        return 0.0


def figure(
    name: str,
    value: float,
    target: str,
    met: bool | None,
    unit: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Print a figure next to its target (a text line, then a JSON line) and return it as a dict."""
    mark = "—" if met is None else ("OK" if met else "MISS")
    shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
    print(f"{name:<58} {shown:>12} {unit:<6} target {target:<14} {mark}", flush=True)
    record = {"name": name, "value": value, "unit": unit, "target": target, "met": met, **extra}
    print(json.dumps(record), flush=True)
    return record


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


# -- a simulator in its own process (so its CPU is not counted against the client being measured) ----------

APP_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "app")


class SimulatorProcess:
    """`botticelli simulate` in a subprocess on a free loopback port: `with SimulatorProcess() as sim: sim.root_url`.

    The port is read back from the simulator's banner on stderr (it listens on port 0), so there is no race.
    """

    def __init__(
        self, *args: str, flavor: str = "groq", tps: float = 0.0, ttft: float = 0.0, start_timeout: float = 20.0
    ) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "botticelli",
            "simulate",
            "--port",
            "0",
            "--flavor",
            flavor,
            "--tps",
            f"{tps:g}",
            "--ttft",
            f"{ttft:g}",
            *args,
        ]
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.root_url = ""

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def __enter__(self) -> SimulatorProcess:
        env = {**os.environ, "PYTHONPATH": APP_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(
            self.argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        deadline = time.monotonic() + self.start_timeout
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stderr], [], [], 0.5)
            if not ready:
                if self.process.poll() is not None:
                    break
                continue
            line = self.process.stderr.readline()
            found = re.search(r"(http://[\d.]+:\d+)", line)
            if found:
                self.root_url = found.group(1)
                threading.Thread(target=self._drain, daemon=True).start()
                return self
            if not line:
                break
        self.__exit__()
        raise RuntimeError(f"the simulator did not start: {' '.join(self.argv)}")

    def _drain(self) -> None:
        """Keep reading stderr so a chatty simulator never blocks on a full pipe."""
        stream = self.process.stderr if self.process is not None else None
        try:
            while stream is not None and stream.readline():
                pass
        except (OSError, ValueError):
            pass

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

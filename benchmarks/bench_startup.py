"""Figure 5, start-up: `botticelli` paints its first frame within 0.5 s.

The first frame is timed from spawning `botticelli` (the installed console script) under a pseudo-terminal of
120x40 until its output, stripped of escape sequences, shows the footer's "Quit" key (the footer is the last
thing the first full paint writes). Config and data folders are fresh temporary ones and provider keys are
removed from the environment, so it starts on the `demo` profile, as on a fresh install. Median of `STARTS`.

Also measured: the import cost (`python -X importtime`), per top-level package, of the CLI entry point and
of the TUI, and, as a floor for comparison, the first frame of a bare Textual app with a Header and a Footer.

Run: .venv/bin/python benchmarks/bench_startup.py   (about 20 s)
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import APP_DIR, figure, median

STARTS = 5
TARGET_S = 0.5
TIMEOUT_S = 15.0
SIZE = (40, 120)  # rows, columns
MARKER = "Quit"
ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP.*?\x1b\\|\x1b[@-Z\\-_]", re.S)
KEY_VARS = re.compile(r"(_API_KEY|_TOKEN|_KEY)$")
BARE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Footer, Header\n"
    "class Bare(App):\n"
    "    BINDINGS = [('ctrl+q', 'quit', 'Quit')]\n"
    "    def compose(self):\n"
    "        yield Header()\n"
    "        yield Footer()\n"
    "Bare().run()\n"
)


def botticelli_argv() -> list[str]:
    """The console script next to this interpreter, else `python -m botticelli`."""
    script = Path(sys.executable).with_name("botticelli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "botticelli"]


def clean_env(folder: str) -> dict[str, str]:
    """The environment of a fresh install: temporary config and data folders, no provider keys."""
    env = {name: value for name, value in os.environ.items() if not KEY_VARS.search(name)}
    env.update({
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "BOTTICELLI_CONFIG_DIR": os.path.join(folder, "config"),
        "BOTTICELLI_DATA_DIR": os.path.join(folder, "data"),
        "PYTHONPATH": APP_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    env.pop("TEXTUAL", None)
    return env


def read_until(master: int, marker: str, started: float, timeout: float) -> tuple[float | None, float | None]:
    """(seconds from `started` to the first output, to the output showing `marker`); None on timeout or exit."""
    output = b""
    first: float | None = None
    while time.perf_counter() - started < timeout:
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:
            return first, None
        if not data:
            return first, None
        if first is None:
            first = time.perf_counter() - started
        output += data
        if marker in ANSI.sub(b"", output).decode("utf-8", "replace"):
            return first, time.perf_counter() - started
    return first, None


def first_frame(argv: list[str], env: dict[str, str], marker: str = MARKER) -> tuple[float | None, float | None]:
    """Spawn `argv` under a pty: (seconds to its first output, to its first frame); then quit it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        return read_until(master, marker, started, TIMEOUT_S)
    finally:
        stop(process, master)


def stop(process: subprocess.Popen[bytes], master: int) -> None:
    """Ask the app to quit with ctrl+q, draining its output; kill it if it does not."""
    try:
        os.write(master, b"\x11")
        deadline = time.monotonic() + 5
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
    except OSError:
        pass
    if process.poll() is None:
        process.kill()
    process.wait()
    os.close(master)


def import_breakdown(module: str) -> tuple[float, list[tuple[str, float]]]:
    """(total ms, [(top-level package, self ms)] heaviest first) from `python -X importtime -c 'import m'`."""
    env = {**os.environ, "PYTHONPATH": APP_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                          text=True, env=env, timeout=60, check=True)
    by_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.split(":", 1)[1].split("|")
        by_package[name.strip().split(".")[0]] += int(self_us)
    total = sum(by_package.values()) / 1000
    return total, [(name, us / 1000) for name, us in by_package.most_common(8)]


def import_wall(module: str, repeats: int = 5) -> float:
    """Best wall seconds of `python -c 'import m'` minus the best of `python -c 'pass'` (best: least disturbed)."""
    env = {**os.environ, "PYTHONPATH": APP_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
        return time.perf_counter() - started

    return min(once(f"import {module}") for _ in range(repeats)) - min(once("pass") for _ in range(repeats))


def run() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for module in ("botticelli.cli", "botticelli.tui.app"):
        total, heavy = import_breakdown(module)
        wall = import_wall(module) * 1000
        listed = ", ".join(f"{name} {ms:.0f}" for name, ms in heavy)
        results.append(figure(f"import_{module.replace('.', '_')}_ms", wall, "(reference)", None, "ms",
                              note=f"best wall of 5, interpreter start subtracted; -X importtime {total:.0f} ms, "
                              f"self ms by package: {listed}"))
    folder = tempfile.mkdtemp(prefix="botticelli-startup-")
    try:
        env = clean_env(folder)
        bare = [first_frame([sys.executable, "-c", BARE_APP], env)[1] for _ in range(3)]
        starts = [first_frame(botticelli_argv(), env) for _ in range(STARTS)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bare_got = [f for f in bare if f is not None]
    if bare_got:
        results.append(figure("first_frame_bare_textual_app_s", median(bare_got), "(floor)", None, "s",
                              note="a Textual App with only Header + Footer, same pty and method, median of 3"))
    outputs = [first for first, _ in starts if first is not None]
    if outputs:
        results.append(figure("first_output_s", median(outputs), "(reference)", None, "s",
                              note="spawn until the first byte on the terminal: interpreter, imports and "
                              "config done, Textual's driver starting"))
    frames = [frame for _, frame in starts if frame is not None]
    if not frames:
        results.append(figure("first_frame_s", TIMEOUT_S, f"<= {TARGET_S:g}", False, "s",
                              note=f"no frame showing {MARKER!r} within {TIMEOUT_S:g} s"))
        return results
    value = median(frames)
    shown = ", ".join(f"{f:.2f}" for f in frames)
    results.append(figure("first_frame_s", value, f"<= {TARGET_S:g}", value <= TARGET_S, "s",
                          note=f"median of {len(frames)}/{STARTS} starts ({shown} s): spawn under a 120x40 pty "
                          f"until the footer's {MARKER!r} is drawn"))
    return results


def main() -> list[dict[str, Any]]:
    """Time the imports and the first frame; returns one dict per figure."""
    return run()


if __name__ == "__main__":
    main()

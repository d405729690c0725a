"""Speed history: `botticelli speed --json` over a store of 10,000 measured answers within 0.5 s.

A temporary database gets 10,000 chat answers (each after its prompt, 1,500 characters of text, so the table
is as large as a real one: 20,000 messages) over a week for two targets, plus two stored races, written by
`botticelli.history.demo.seed_history`. Then the real command runs in a fresh process each time
(`python -m botticelli speed --json --since all`: interpreter start, imports, opening the store, the SQL, the
percentiles and the JSON), once to warm the OS file cache and then `REPEATS` times; the median is the figure.
The same for `--by day`, and the in-process query + summary alone.

Run: .venv/bin/python benchmarks/bench_speed.py   (about 30 s, most of it building the database)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from _common import figure, median
from botticelli.history import Window, load, summarize
from botticelli.history.demo import seed_history
from botticelli.sessions import SessionStore

ANSWERS = 10_000
ANSWER_CHARS = 1_500
REPEATS = 7
TARGET_S = 0.5


def build(folder: Path) -> Path:
    path = folder / "sessions.db"
    with SessionStore.open(path) as store:
        seed_history(store, answers=ANSWERS, answer_chars=ANSWER_CHARS)
    return path


def time_command(folder: Path, *args: str) -> tuple[list[float], dict[str, Any]]:
    """Wall times (s) of the command in fresh processes, after one warm-up; and its last JSON output."""
    env = {**os.environ, "BOTTICELLI_DATA_DIR": str(folder), "BOTTICELLI_CONFIG_DIR": str(folder / "config")}
    command = [sys.executable, "-m", "botticelli", "speed", "--json", "--since", "all", *args]
    times, out = [], ""
    for attempt in range(REPEATS + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        if attempt:
            times.append(time.perf_counter() - started)
        out = done.stdout
    return times, json.loads(out)


def time_in_process(path: Path) -> list[float]:
    times = []
    with SessionStore.open(path) as store:
        for _ in range(REPEATS + 1):
            started = time.perf_counter()
            summarize(load(store, Window()).samples)
            times.append((time.perf_counter() - started) * 1000)
    return times[1:]


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="botticelli-bench-") as name:
        folder = Path(name)
        started = time.perf_counter()
        path = build(folder)
        print(f"database: {ANSWERS:,} answers ({2 * ANSWERS:,} messages), {path.stat().st_size / 1e6:.1f} MB, "
              f"built in {time.perf_counter() - started:.1f} s", flush=True)
        plain, data = time_command(folder)
        by_day, series = time_command(folder, "--by", "day")
        inside = time_in_process(path)
    answers = data["answers"]
    method = (f"fresh `python -m botticelli speed --json --since all` process, median of {REPEATS} after a warm-up; "
              f"{answers:,} answers and race runs read; a shared 2-core machine, figures indicative")
    value = median(plain)
    results = [
        figure("speed_json_10k_answers_s", value, f"<= {TARGET_S:g}", value <= TARGET_S, "s",
               note=f"max {max(plain):.3f} s; {method}"),
    ]
    value = median(by_day)
    results.append(figure("speed_json_by_day_10k_answers_s", value, f"<= {TARGET_S:g}", value <= TARGET_S, "s",
                          note=f"--by day, {len(series['series'])} day×target rows; max {max(by_day):.3f} s"))
    results.append(figure("speed_query_and_percentiles_in_process_ms", median(inside), "—", None, "ms",
                          note="load() + summarize() on an open store: the part the Speed screen pays per reload"))
    if answers < ANSWERS:
        raise RuntimeError(f"only {answers} answers were read back")
    return results


def main() -> list[dict[str, Any]]:
    """Build the store and time the command; returns one dict per figure."""
    return run()


if __name__ == "__main__":
    main()

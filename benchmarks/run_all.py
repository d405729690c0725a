"""Run every `benchmarks/bench_*.py`, one at a time, each in a fresh process, and write BENCHMARKS.md.

`make bench` runs this. Each script exposes `main() -> list[dict]` (one dict per figure: name, value, unit,
target, met, note); the runner calls it in a child process (`run_all.py --one SCRIPT`), which prints the list
as one final JSON line. A script that fails or times out is recorded as such, with whatever figures it printed
before (the `_common.figure` JSON lines), and the run goes on. The whole run is kept under ten minutes: each
script gets at most its own timeout and what is left of the budget, and the load benchmark runs last with a
full 60 s only when that still fits.

Usage: .venv/bin/python benchmarks/run_all.py [--only NAME ...] [--out FILE] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import inspect
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
OUTPUT = ROOT / "BENCHMARKS.md"
COMMAND = "make bench"
BUDGET_S = 600.0
RESULT_PREFIX = "BENCH_RESULT "
ORDER = ("bench_client_sse", "bench_accuracy", "bench_sessions", "bench_speed", "bench_startup",
         "bench_hostile_memory", "bench_chat_terminal", "bench_chat_view", "bench_race", "bench_load_sweep",
         "bench_load")
TIMEOUTS = {"bench_chat_terminal": 240.0, "bench_chat_view": 240.0, "bench_race": 150.0, "bench_load_sweep": 120.0,
            "bench_load": 150.0}
DEFAULT_TIMEOUT_S = 120.0
TITLES = {
    "bench_client_sse": "1. SSE client throughput (20,000 chunks over loopback)",
    "bench_chat_terminal": "2-3. Chat view in a real terminal (pty + pyte, 120x40): flat out, 2,000 tok/s, race",
    "bench_chat_view": "Chat view headless (reference): paced, flat out, a 1,000-message session, memory",
    "bench_sessions": "4. Sessions: full-text search over 10,000 messages",
    "bench_speed": "Speed history: `botticelli speed --json` over 10,000 answers",
    "bench_startup": "5. Start-up: first frame of `botticelli`",
    "bench_hostile_memory": "Hostile server: `ask`'s peak memory against endless bodies and streams",
    "bench_race": "6. Race: 4 concurrent streams vs solo",
    "bench_accuracy": "Reported decode tok/s vs the simulator's known rate",
    "bench_load_sweep": "Load sweep: an honest client at concurrency 64; the simulator's capacity saturates",
    "bench_load": "Load",
}
LOAD_SCRIPT = "bench_load"
LOAD_FULL_S = 60.0
LOAD_MIN_S = 10.0
LOAD_OVERHEAD_S = 40.0  # start-up, warm-up and teardown around the timed load
LOAD_ENV = "BOTTICELLI_BENCH_LOAD_SECONDS"
DURATION_PARAMS = ("duration_s", "duration", "seconds")
RESERVE_S = 15.0  # kept back for writing the report


@dataclass
class ScriptResult:
    """What one benchmark script produced."""

    name: str
    status: str  # "ok", "failed", "timeout", "skipped"
    seconds: float
    figures: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    method: str = ""
    settings: str = ""
    load: str = ""


# -- child side ---------------------------------------------------------------------------------------------


def load_module(path: Path) -> Any:
    """Import a benchmark script by path (its folder first on sys.path, as when run directly)."""
    sys.path.insert(0, str(path.parent))
    sys.path.insert(0, str(ROOT / "app"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def call_main(module: Any, duration: float | None) -> list[dict[str, Any]]:
    """`module.main()`, passing the duration to a main that takes one."""
    params = inspect.signature(module.main).parameters
    for name in DURATION_PARAMS:
        if duration is not None and name in params:
            return list(module.main(**{name: duration}))
    return list(module.main())


def child(path: Path) -> int:
    """Run one script's `main()` and print its figures as the final JSON line."""
    duration = float(os.environ[LOAD_ENV]) if os.environ.get(LOAD_ENV) else None
    figures = call_main(load_module(path), duration)
    print(RESULT_PREFIX + json.dumps({"figures": figures}, default=str), flush=True)
    return 0


# -- parent side --------------------------------------------------------------------------------------------


def discover(directory: Path = BENCH_DIR, only: list[str] | None = None) -> list[Path]:
    """The bench_*.py scripts that exist, known ones in ORDER (load last), others after them by name."""
    found = sorted(directory.glob("bench_*.py"))
    if only:
        found = [p for p in found if p.stem in only or p.stem.removeprefix("bench_") in only]

    def rank(path: Path) -> tuple[int, int, str]:
        known = ORDER.index(path.stem) if path.stem in ORDER else len(ORDER)
        return (path.stem == LOAD_SCRIPT, known, path.stem)

    return sorted(found, key=rank)


def method_of(path: Path) -> str:
    """A script's docstring without its title line and `Run:` lines (read, not imported), as Markdown."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError):
        return ""
    kept = "\n".join(line for line in doc.splitlines() if not line.startswith(("Run:", "Usage:")))
    paragraphs = [p.strip() for p in kept.split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs[1:] or paragraphs[:1])


def parse_output(stdout: str) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """(the final figure list if the child printed it, the per-figure JSON lines printed on the way)."""
    final: list[dict[str, Any]] | None = None
    partial: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            with contextlib.suppress(ValueError):
                final = json.loads(line[len(RESULT_PREFIX):])["figures"]
        elif line.startswith("{") and '"name"' in line:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and {"name", "value"} <= record.keys():
                    partial.append(record)
    return final, partial


def tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_script(path: Path, timeout: float, extra_env: dict[str, str] | None = None) -> ScriptResult:
    """Run one script in a fresh interpreter (its own process group), echoing its output live."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "app"),
                                                                       os.environ.get("PYTHONPATH")])),
           "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    argv = [sys.executable, str(Path(__file__).resolve()), "--one", str(path)]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, env=env, cwd=ROOT, start_new_session=True)
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=_collect, args=(process.stdout, out, True), daemon=True),
               threading.Thread(target=_collect, args=(process.stderr, err, False), daemon=True)]
    for reader in readers:
        reader.start()
    status = "ok"
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = "timeout"
        _kill_group(process)
    for reader in readers:
        reader.join(timeout=5)
    seconds = time.perf_counter() - started
    stdout, stderr = "".join(out), "".join(err)
    final, partial = parse_output(stdout)
    result = ScriptResult(path.stem, status, seconds, final if final is not None else partial,
                          method=method_of(path))
    if status == "timeout":
        result.error = f"timed out after {timeout:.0f} s\n{tail(stderr)}"
    elif process.returncode != 0 or final is None:
        result.status = "failed"
        result.error = f"exit code {process.returncode}\n{tail(stderr) or tail(stdout)}"
    return result


def _collect(stream: Any, into: list[str], echo: bool) -> None:
    """Read a child's stream to the end; echo its human-readable lines (not the JSON ones)."""
    for line in stream:
        into.append(line)
        if echo and not line.startswith((RESULT_PREFIX, "{")):
            print(f"  {line}", end="", flush=True)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a timed-out script and everything it started (simulators): SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def load_duration(elapsed: float, budget: float) -> float:
    """The load benchmark's duration: a full 60 s only if the whole run still fits in the budget."""
    room = budget - elapsed - RESERVE_S - LOAD_OVERHEAD_S
    return LOAD_FULL_S if room >= LOAD_FULL_S else max(LOAD_MIN_S, room)


def run_all(scripts: list[Path], budget: float = BUDGET_S) -> tuple[list[ScriptResult], float]:
    """Run the scripts one after another within `budget` seconds; (results, total seconds)."""
    started = time.perf_counter()
    results: list[ScriptResult] = []
    for path in scripts:
        elapsed = time.perf_counter() - started
        left = budget - elapsed - RESERVE_S
        if left < 20:
            results.append(ScriptResult(path.stem, "skipped", 0.0, error=f"no time left in the {budget:.0f} s "
                                        "budget", method=method_of(path)))
            continue
        extra: dict[str, str] = {}
        settings = ""
        if path.stem == LOAD_SCRIPT:
            duration = load_duration(elapsed, budget)
            extra[LOAD_ENV] = f"{duration:g}"
            settings = f"load duration {duration:g} s" + ("" if duration >= LOAD_FULL_S else
                                                          f" (shortened from {LOAD_FULL_S:g} s to fit the budget)")
        timeout = min(TIMEOUTS.get(path.stem, DEFAULT_TIMEOUT_S), left)
        print(f"== {path.name} (timeout {timeout:.0f} s{', ' + settings if settings else ''})", flush=True)
        load = load_average()
        result = run_script(path, timeout, extra)
        result.settings, result.load = settings, load
        print(f"   {result.status} in {result.seconds:.1f} s, {len(result.figures)} figures", flush=True)
        if result.error:
            print("   " + result.error.replace("\n", "\n   "), flush=True)
        results.append(result)
    return results, time.perf_counter() - started


# -- the report ---------------------------------------------------------------------------------------------


def _first(path: str, key: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other processes compete for the cores)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_info() -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python, and the versions of the libraries that matter here."""
    memory = _first("/proc/meminfo", "MemTotal")
    ram = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GB" if memory else "unknown"
    return {
        "CPU": _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Textual": _version("textual"),
        "httpx": _version("httpx"),
        "openai SDK": _version("openai"),
        "load average at start (1, 5, 15 min)": load_average(),
    }


_TARGET = re.compile(r"^\s*(<=|>=|<|>)\s*([-\d.,]+)")
_TOLERANCE = re.compile(r"^\s*([-\d.,]+)\s*±\s*([\d.]+)\s*(%)?")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value != value:  # NaN
        return "nan"
    magnitude = abs(value)
    if isinstance(value, int) or magnitude >= 100_000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude >= 0.01 or magnitude == 0:
        return f"{value:.3f}"
    return f"{value:.2g}"


def shortfall(figure: dict[str, Any]) -> str:
    """How far a missed figure is from its target, in words: 'by 0.24 x (16 % over)'."""
    value, target, unit = figure.get("value"), str(figure.get("target", "")), figure.get("unit", "")
    if not isinstance(value, int | float):
        return "missed"
    unit_text = f" {unit}" if unit and unit != "%" else (" points" if unit == "%" else "")
    bound = _TARGET.match(target)
    if bound:
        op, limit = bound.group(1), _number(bound.group(2))
        gap = value - limit if op.startswith("<") else limit - value
        relative = f" ({abs(gap) / abs(limit) * 100:.0f} % {'over' if op.startswith('<') else 'short'})" if limit \
            else ""
        return f"by {_fmt(abs(gap))}{unit_text}{relative}"
    tolerance = _TOLERANCE.match(target)
    if tolerance:
        centre, allowed = _number(tolerance.group(1)), float(tolerance.group(2))
        if tolerance.group(3):
            off = (value / centre - 1) * 100 if centre else float("inf")
            return f"off by {off:+.2f} % (allowed ±{allowed:g} %)"
        return f"off by {value - centre:+.3g}{unit_text} (allowed ±{allowed:g})"
    return "missed"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _note(figure: dict[str, Any]) -> str:
    known = {"name", "value", "unit", "target", "met", "note"}
    extras = [f"{k}={_fmt(v) if not isinstance(v, list) else v}" for k, v in figure.items() if k not in known]
    return "; ".join(part for part in [str(figure.get("note") or ""), ", ".join(extras)] if part)


def verdict(figure: dict[str, Any]) -> str:
    met = figure.get("met")
    if met is None:
        return "— (reference)"
    return "✅ met" if met else f"❌ missed {shortfall(figure)}"


def figure_table(figures: list[dict[str, Any]]) -> list[str]:
    rows = ["| figure | value | target | met | notes |", "|---|---:|---|---|---|"]
    for f in figures:
        value = f"{_fmt(f.get('value'))} {f.get('unit', '')}".strip()
        rows.append(f"| {_cell(f.get('name', '?'))} | {_cell(value)} | {_cell(f.get('target', ''))} "
                    f"| {_cell(verdict(f))} | {_cell(_note(f))} |")
    return rows


def summary_lines(results: list[ScriptResult]) -> list[str]:
    figures = [f for r in results for f in r.figures]
    judged = [f for f in figures if f.get("met") is not None]
    missed = [f for f in judged if not f.get("met")]
    broken = [r for r in results if r.status != "ok"]
    lines = [f"**{len(judged) - len(missed)} of {len(judged)} figures with a target are met.**"
             + ("" if missed or broken else " Every figure is met.")]
    if missed:
        lines += ["", "Not met:"] + [f"- `{f.get('name')}`: {_fmt(f.get('value'))} {f.get('unit', '')} against "
                                     f"{f.get('target')}, missed {shortfall(f)}" for f in missed]
    if broken:
        lines += ["", "Scripts that did not finish:"] + [
            f"- `{r.name}.py`: {r.status}: {r.error.splitlines()[0] if r.error else ''}" for r in broken]
    return lines


def render_report(results: list[ScriptResult], machine: dict[str, str], total_s: float,
                  when: datetime | None = None, command: str = COMMAND) -> str:
    """BENCHMARKS.md: date, machine, command, a summary, then a table per script with its method."""
    when = when or datetime.now(UTC)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` (`benchmarks/run_all.py`) on {when:%Y-%m-%d %H:%M UTC}; the whole run took "
        f"{total_s:.0f} s ({total_s / 60:.1f} min). Each script ran alone in a fresh process, one after another. "
        "On a shared machine the figures are noisy: each script's method says how it summarises repeated runs "
        "(medians, or the best run where other processes' load only ever adds time), and the load average before "
        "each script is shown next to it.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {_cell(k)} | {_cell(v)} |" for k, v in machine.items()],
        "",
        "## Summary",
        "",
        *summary_lines(results),
    ]
    for result in results:
        lines += ["", f"## {TITLES.get(result.name, result.name)}", "",
                  f"`benchmarks/{result.name}.py`: {result.status}, {result.seconds:.1f} s"
                  + (f"; {result.settings}" if result.settings else "")
                  + (f"; load average before: {result.load}" if result.load else "") + "."]
        if result.method:
            lines += ["", "Method: " + result.method]
        if result.error:
            lines += ["", "```", result.error.strip(), "```"]
        if result.figures:
            lines += ["", *figure_table(result.figures)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write BENCHMARKS.md.")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="+", help="run only these scripts (e.g. client_sse startup)")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the report (BENCHMARKS.md)")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for the whole run (600)")
    args = parser.parse_args(argv)
    if args.one:
        return child(args.one)
    scripts = discover(only=args.only)
    if not scripts:
        print("no benchmark scripts found", file=sys.stderr)
        return 2
    machine = machine_info()
    results, total = run_all(scripts, args.budget)
    args.out.write_text(render_report(results, machine, total), encoding="utf-8")
    print("\n".join(summary_lines(results)))
    print(f"wrote {args.out} in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

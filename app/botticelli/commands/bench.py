"""`botticelli bench`: race one prompt against 1–4 targets; a table (or JSON/CSV) of their speeds.

Progress goes to stderr, one line per finished run; stdout gets only the table, or only the JSON/CSV.
Exit code 0 when every target had at least one successful run, else the first failing target's code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from botticelli.errors import UsageError

MAX_PROMPT_BYTES = 1024 * 1024


class BenchUsageError(UsageError):
    """Bad command-line input; exit code 2."""

    area = "bench"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` sub-command."""
    from botticelli.bench.defaults import (
        DEFAULT_MAX_TOKENS,
        DEFAULT_PROMPT,
        DEFAULT_RUNS,
        DEFAULT_WARMUP,
        MAX_TARGETS,
    )

    p = sub.add_parser(
        "bench",
        help="race one prompt against 1–4 targets and compare TTFT and tokens/s",
        description="Send the same prompt (same max_tokens, temperature 0, retries off) to every target: one "
        "discarded warm-up each, then N runs interleaved round-robin, concurrently unless --sequential. "
        "Prints medians with min–max per target and how many times faster each is than the slowest.",
    )
    p.add_argument("-t", "--target", action="append", dest="targets", metavar="P:M", required=True,
                   help=f"a profile:model to race (repeat, 1–{MAX_TARGETS}); splits at the first colon")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", help=f'the prompt (default: "{DEFAULT_PROMPT}")')
    source.add_argument("--prompt-file", metavar="F", help='read the prompt from a file ("-" for stdin)')
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                   help=f"measured runs per target (default: {DEFAULT_RUNS})")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP,
                   help=f"discarded warm-up runs per target (default: {DEFAULT_WARMUP})")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS,
                   help=f"max_tokens for every request (default: {DEFAULT_MAX_TOKENS})")
    p.add_argument("--sequential", action="store_true",
                   help="run the targets of a round one after another instead of together")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    fmt.add_argument("--csv", action="store_true", help="print only CSV (one row per run) on stdout")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the result to FILE (atomically) instead of stdout; without --json/--csv the "
                   "format follows the extension (.json, .csv, else the table)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(bench(args, sys.stdin, sys.stdout, sys.stderr))


def read_prompt(args: argparse.Namespace, stdin: Any) -> str:
    """The prompt from --prompt, --prompt-file (or stdin for `-`), else the default."""
    from botticelli.bench.defaults import DEFAULT_PROMPT

    if args.prompt is not None:
        text = args.prompt
    elif args.prompt_file is not None:
        try:
            if args.prompt_file == "-":
                text = stdin.read(MAX_PROMPT_BYTES + 1)
            else:
                text = Path(args.prompt_file).expanduser().read_text(encoding="utf-8")
            if len(text) > MAX_PROMPT_BYTES:
                raise BenchUsageError(f"{args.prompt_file} is larger than 1 MB (shorten the prompt)")
        except OSError as exc:
            raise BenchUsageError(f"cannot read {args.prompt_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise BenchUsageError(f"{args.prompt_file} is not UTF-8 text") from None
    else:
        text = DEFAULT_PROMPT
    if not text.strip():
        raise BenchUsageError("the prompt is empty (pass --prompt TEXT or --prompt-file F)")
    return text


def output_format(args: argparse.Namespace) -> str:
    """`json`, `csv` or `table`."""
    if args.json:
        return "json"
    if args.csv:
        return "csv"
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix in (".json", ".csv"):
            return suffix[1:]
    return "table"


def _plan(args: argparse.Namespace, stdin: Any) -> Any:
    from botticelli.bench.defaults import MAX_TARGETS
    from botticelli.bench.runner import BenchPlan, targets_from_labels
    from botticelli.config import load_config

    if len(args.targets) > MAX_TARGETS:
        raise BenchUsageError(f"at most {MAX_TARGETS} targets per race (got {len(args.targets)})")
    for name, value, low in (("--runs", args.runs, 1), ("--warmup", args.warmup, 0), ("--max-tokens",
                                                                                     args.max_tokens, 1)):
        if value < low:
            raise BenchUsageError(f"{name} must be at least {low}")
    prompt = read_prompt(args, stdin)
    targets = targets_from_labels(load_config(), args.targets)
    try:
        return BenchPlan(prompt, targets, runs=args.runs, warmup=args.warmup, max_tokens=args.max_tokens,
                         concurrent=not args.sequential)
    except ValueError as exc:
        raise BenchUsageError(str(exc)) from None


async def bench(args: argparse.Namespace, stdin: Any, out: TextIO, err: TextIO) -> int:
    """The whole command with injectable streams; returns the exit code."""
    from botticelli.bench.export import bench_csv, dumps_json, write_atomic
    from botticelli.bench.history import save_race
    from botticelli.bench.report import progress_line, summary_table
    from botticelli.bench.runner import BenchRunner, RaceHooks, RunResult
    from botticelli.config import ConfigError
    from botticelli.sessions import SessionStoreError

    try:
        plan = _plan(args, stdin)
    except (BenchUsageError, ConfigError) as exc:
        err.write(exc.one_line() + "\n")
        return exc.exit_code

    done = 0

    def on_run(result: RunResult) -> None:
        nonlocal done
        if not result.warmup:
            done += 1
        err.write(progress_line(result, done, runner.total_runs) + "\n")
        err.flush()

    await _fetch_prices(plan)
    runner = BenchRunner(plan, hooks=RaceHooks(on_run=on_run))
    result = await runner.run()

    try:
        save_race(result)
    except SessionStoreError as exc:
        err.write(f"warning: bench: the race was not stored ({exc.one_line()})\n")

    fmt = output_format(args)
    text = {"json": dumps_json, "csv": bench_csv, "table": summary_table}[fmt](result)
    if args.output:
        try:
            path = write_atomic(args.output, text)
        except OSError as exc:
            err.write(f"error: bench: cannot write {args.output}: {exc.strerror or exc} (choose another -o path)\n")
            return 1
        err.write(f"wrote {path}\n")
    else:
        if fmt == "table":
            err.write("\n")
        out.write(text)
        out.flush()

    for label in result.failing_targets():
        failure = result.first_error(label)
        if failure is not None and failure.error_line:
            err.write(failure.error_line + "\n")
    return result.exit_code()


async def _fetch_prices(plan: Any) -> None:
    """Before the race: fetch (and cache) the catalogue of a target whose `/models` publishes prices (the HF
    router) when none is cached, so `bench --json` can price its runs; no request for the others."""
    from botticelli.catalog import known_price
    from botticelli.targets import open_client

    for target in {t.profile.name: t for t in plan.targets}.values():
        async def fetch(profile: Any = target.profile) -> Any:
            async with open_client(profile, max_retries=0) as client:
                return await client.list_models()

        await known_price(target.profile, target.model, fetch)

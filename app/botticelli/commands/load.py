"""`botticelli load`: sweep concurrency or request rate against 1+ targets; a table (or JSON/CSV) per level.

Progress goes to stderr, one line per finished level; stdout gets only the table, or only the JSON/CSV. The
sweep is also kept in the data folder (`<data>/loads/`) for the TUI's Load screen. Exit code 0 when every
target completed at least one request, 2 for bad input or a refused quota check, else the failing target's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

DEFAULT_REQUESTS = 32


class LoadUsageError(Exception):
    """Bad command-line input; exit code 2."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `load` sub-command."""
    p = sub.add_parser(
        "load",
        help="load-test targets: a concurrency or request-rate sweep, with throughput, latency percentiles, goodput",
        description="For each target, run each load level in turn: a concurrency level keeps C streams busy, a "
        "rate level sends requests at a constant or poisson rate. Per level: request throughput, output tok/s, "
        "TTFT p50/p90/p99, ITL p50/p99, e2e p50/p99, errors (429s apart, never retried), goodput against --slo, "
        "and the client's own event-loop lag and CPU. Definitions: docs/ARCHITECTURE.md (Load metrics).",
    )
    p.add_argument("-t", "--target", action="append", dest="targets", metavar="P:M", required=True,
                   help="a profile:model to load (repeat for several; they run one after another)")
    levels = p.add_mutually_exclusive_group()
    levels.add_argument("--concurrency", metavar="C,C,...", help="concurrent streams per level (default: 1,2,4,8)")
    levels.add_argument("--rate", metavar="R,R,...", help="requests per second per level (open loop)")
    p.add_argument("--arrival", choices=("poisson", "constant"), default="poisson",
                   help="how --rate requests are spaced (default: poisson)")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--requests", type=int, metavar="N",
                      help=f"requests per level (default: {DEFAULT_REQUESTS} unless --duration)")
    span.add_argument("--duration", type=float, metavar="S", help="seconds per level instead of a request count")
    p.add_argument("--prompt-tokens", default="128", metavar="N|LO-HI",
                   help="prompt length in tokens, fixed or drawn uniformly per request (default: 128)")
    p.add_argument("--answer-tokens", default="256", metavar="N|LO-HI",
                   help="answer length: max_tokens, fixed or drawn per request (default: 256)")
    p.add_argument("--slo", metavar="ttft=1s,itl=50ms", help="latency objectives for goodput (ttft, itl, e2e)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="spread each level's streams over N processes (default: 1)")
    p.add_argument("--max-requests", type=int, metavar="N",
                   help="hard cap on requests over the whole sweep, warm-ups included (default: 2000)")
    p.add_argument("--warmup", type=int, default=1, metavar="N",
                   help="discarded requests per target before its first level (default: 1)")
    p.add_argument("--seed", type=int, help="seed for arrivals and lengths (default: random)")
    p.add_argument("-y", "--yes", action="store_true",
                   help="go ahead even when the sweep would exceed the profile's last known rate limits")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    fmt.add_argument("--csv", action="store_true", help="print only CSV (one row per target and level)")
    p.add_argument("--no-store", action="store_true", help="do not keep the sweep in the data folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(load(args, sys.stdin, sys.stdout, sys.stderr))


def _plan(args: argparse.Namespace) -> Any:
    from botticelli.bench.runner import targets_from_labels
    from botticelli.config import load_config
    from botticelli.load.metrics import Slo
    from botticelli.load.runner import DEFAULT_MAX_REQUESTS, LoadPlan
    from botticelli.load.schedule import Lengths, parse_levels

    try:
        if args.rate is not None:
            mode, levels = "rate", parse_levels(args.rate, "rate")
        else:
            mode, levels = "concurrency", parse_levels(args.concurrency or "1,2,4,8", "concurrency")
        prompt = Lengths.parse(args.prompt_tokens, "--prompt-tokens")
        answer = Lengths.parse(args.answer_tokens, "--answer-tokens")
        slo = Slo.parse(args.slo) if args.slo is not None else None
    except ValueError as exc:
        raise LoadUsageError(str(exc)) from None
    requests = args.requests if args.requests is not None or args.duration is not None else DEFAULT_REQUESTS
    targets = targets_from_labels(load_config(), args.targets)
    try:
        return LoadPlan(targets, mode, levels, requests=requests, duration_s=args.duration, arrival=args.arrival,
                        prompt_tokens=prompt, answer_tokens=answer, slo=slo, workers=args.workers,
                        max_requests=args.max_requests if args.max_requests is not None else DEFAULT_MAX_REQUESTS,
                        warmup=args.warmup, seed=args.seed)
    except ValueError as exc:
        raise LoadUsageError(str(exc)) from None


def quota_check(plan: Any, yes: bool, stdin: Any, err: TextIO) -> bool:
    """True to go ahead. Lines about exceeded limits are printed; then `--yes` goes, a terminal is asked,
    anything else is refused."""
    from botticelli.load.quota import over_limits, recall

    seen_profiles: dict[str, Any] = {}
    for target in plan.targets:
        if not target.profile.simulated:
            seen_profiles[target.profile.name] = target.profile
    lines = [line for profile in seen_profiles.values() for line in over_limits(plan, profile, recall(profile.name))]
    if not lines:
        return True
    for line in lines:
        err.write(f"warning: load: {line}\n")
    if yes:
        return True
    if stdin is not None and hasattr(stdin, "isatty") and stdin.isatty():
        err.write("go ahead anyway? [y/N] ")
        err.flush()
        answer = stdin.readline(16).strip().lower()
        return answer in ("y", "yes")
    err.write("error: load: refused: the sweep would exceed the last known rate limits (re-run with --yes to go "
              "ahead, or lower --max-requests / the levels)\n")
    return False


async def load(args: argparse.Namespace, stdin: Any, out: TextIO, err: TextIO) -> int:
    """The whole command with injectable streams; returns the exit code."""
    from botticelli.config import ConfigError
    from botticelli.load.quota import remember
    from botticelli.load.report import dumps_json, plan_text, progress_line, sweep_csv, sweep_table
    from botticelli.load.runner import LoadRunner
    from botticelli.load.store import save_sweep

    try:
        plan = _plan(args)
    except LoadUsageError as exc:
        err.write(f"error: load: {exc}\n")
        return 2
    except ConfigError as exc:
        err.write(exc.one_line() + "\n")
        return exc.exit_code
    total = plan.planned_total()
    if total is not None and total > plan.max_requests:
        err.write(f"error: load: the sweep needs {total:,} requests, over --max-requests {plan.max_requests:,} "
                  "(raise --max-requests or send fewer)\n")
        return 2
    if not quota_check(plan, args.yes, stdin, err):
        return 2

    err.write(f"load: {plan_text(plan)}\n")
    runner = LoadRunner(plan, on_level=lambda label, level: err.write(progress_line(label, level) + "\n"))
    try:
        result = await runner.run()
    except (KeyboardInterrupt, asyncio.CancelledError):
        result = runner.result
        result.interrupted = True
    for profile, info in result.rate_limits.items():
        remember(profile, info)
    if not args.no_store and any(sweep.levels for sweep in result.targets):
        try:
            path = save_sweep(result)
            err.write(f"kept in {path}\n")
        except OSError as exc:
            err.write(f"warning: load: the sweep was not kept ({exc.strerror or exc})\n")

    text = dumps_json(result) if args.json else sweep_csv(result) if args.csv else sweep_table(result)
    if not (args.json or args.csv):
        err.write("\n")
    out.write(text)
    out.flush()
    for sweep in result.targets:
        if sweep.error_line:
            err.write(sweep.error_line + "\n")
    return 130 if result.interrupted else result.exit_code()

"""Command-line entry point: the TUI by default, sub-commands for scripting.

Each sub-command lives in `botticelli.commands.<name>` and exposes `register(subparsers)`, which adds its parser
and sets `run=<callable(args) -> int>`. Heavy imports happen inside `run`, so `--help` and start-up stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from botticelli import __version__

COMMAND_MODULES = ("ask", "models", "bench", "speed", "load", "sessions", "config_cmd", "profiles", "simulate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="botticelli",
        description="Chat with, and race, fast OpenAI-compatible LLM providers. No sub-command opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"botticelli {__version__}")
    parser.add_argument("--profile", "-p", help="profile to start with (see `botticelli profiles`)")
    parser.add_argument("--model", "-m", help="model to start with")
    parser.add_argument("--session", help="session id to reopen")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"botticelli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"botticelli.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def run_tui(args: argparse.Namespace) -> int:
    from botticelli.commands.tui import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "run", None) or run_tui
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a short output meets a closed pipe only here
        return code
    except BrokenPipeError:
        return closed_pipe()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def closed_pipe() -> int:
    """The reader of stdout went away (`| head -n 1`): stop quietly with exit 0, like a Unix tool.

    stdout is pointed at /dev/null so that Python's own flush at exit does not complain either.
    """
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout): nothing to flush
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

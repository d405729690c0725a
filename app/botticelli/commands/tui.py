"""The default command: open the TUI."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    try:
        from botticelli.tui.app import run_app
    except ModuleNotFoundError:
        print("botticelli: the TUI is not built yet; try `botticelli ask --help`", file=sys.stderr)
        return 1
    return run_app(profile=args.profile, model=args.model, session=args.session)

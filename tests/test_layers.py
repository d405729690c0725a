"""The core never imports Textual (DESIGN.md layers): the CLI and other front ends can run headless."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "botticelli.providers.client",
    "botticelli.stats",
    "botticelli.config",
    "botticelli.sessions",
    "botticelli.bench.runner",
    "botticelli.bench.summary",
    "botticelli.targets",
    "botticelli.simulator.server",
    "botticelli.simulator.transport",
    "botticelli.safety",
    "botticelli.commands.ask",
]


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_cli_help_stays_light() -> None:
    """`botticelli --help` must not pay for the TUI, httpx or the simulator."""
    code = (
        "import sys\n"
        "from botticelli.cli import build_parser\n"
        "build_parser()\n"
        "heavy = [m for m in ('textual', 'httpx', 'botticelli.simulator.engine') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""

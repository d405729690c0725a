"""A fake system clipboard tool for the clipboard tests (put its folder on PATH)."""

from __future__ import annotations

import sys
from pathlib import Path


def fake_tool(folder: Path, name: str, body: str = "") -> Path:
    """An executable `name` in `folder` that writes its stdin to `folder/<name>.out` (then runs `body`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(folder / (name + '.out'))!r}).write_bytes(sys.stdin.buffer.read())\n{body}\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path

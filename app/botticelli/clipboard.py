"""Copying text out: which system clipboard tool to use (wl-copy, xclip, xsel, pbcopy), running it, and what
to tell the user. The terminal's own clipboard (OSC 52) is the TUI's job; it cannot confirm anything, so the
message says so when no tool took the text."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from botticelli.safety import strip_escapes

TIMEOUT_S = 3.0
"""A tool that has not exited by then is given up on (xclip and wl-copy fork and return at once)."""


@dataclass(frozen=True, slots=True)
class ClipboardTool:
    """A command that reads the text to copy on stdin."""

    name: str
    argv: tuple[str, ...]


# (name, arguments, the environment variable that must be set for it to reach a clipboard)
CANDIDATES: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard", "-in"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
    ("pbcopy", (), None),
)


def find_tool(env: Mapping[str, str] | None = None) -> ClipboardTool | None:
    """The first usable tool on `env`'s PATH (default: this process's environment), or None."""
    env = os.environ if env is None else env
    search = env.get("PATH", "")
    for name, args, needs in CANDIDATES:
        if needs is not None and not env.get(needs):
            continue
        if executable := shutil.which(name, path=search):
            return ClipboardTool(name, (executable, *args))
    return None


def run_tool(tool: ClipboardTool, text: str, timeout: float = TIMEOUT_S) -> str | None:
    """Give `text` to `tool`; None when it took it, else why not (one line)."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a forked child may keep it open
        try:
            result = subprocess.run(
                tool.argv,
                input=text.encode("utf-8", "replace"),
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"{tool.name} did not answer within {timeout:g} s"
        except OSError as error:
            return f"{tool.name} could not start ({error.strerror or error})"
        if result.returncode == 0:
            return None
        errors.seek(0)
        said = strip_escapes(errors.read(500).decode("utf-8", "replace")).strip().splitlines()
        return f"{tool.name} failed ({said[0] if said else f'exit code {result.returncode}'})"


def copy_out(text: str, what: str, env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """Copy `text` with the system's clipboard tool, if any; (confirmed, the message for the user).

    `what` names the text (`the last answer (1,204 characters)`). The caller has also sent it to the terminal's
    clipboard (OSC 52), which no terminal confirms: without a tool that took it, the message says so."""
    tool = find_tool(env)
    if tool is None:
        return False, (f"Sent {what} to the terminal's clipboard (OSC 52), which no terminal confirms. "
                       "No wl-copy, xclip, xsel or pbcopy here.")
    problem = run_tool(tool, text)
    if problem is None:
        return True, f"Copied {what} with {tool.name}."
    return False, f"Sent {what} to the terminal's clipboard (OSC 52) only, unconfirmed: {problem}."

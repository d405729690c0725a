"""The documentation's examples work: every config example loads, every documented command parses.

* each `docs/examples/*.toml` and each ```toml block of README.md and GROQ.md is written to a file with mode
  0600 and loaded with `botticelli.config.load_config` (README.md may not exist yet, or have no toml blocks);
* each `botticelli ...` command line in a ```console / ```sh block of GROQ.md names a real sub-command of
  `botticelli.cli.build_parser()`, and its arguments parse.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from botticelli.cli import build_parser
from botticelli.config import load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
MARKDOWN = ("README.md", "GROQ.md")
COMMAND_DOCS = ("GROQ.md",)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_SHELL_OPERATORS = frozenset("|&;<>()")
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--profile", "-p", "--model", "-m", "--session"})


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """(language, first line number, body) of every fenced code block in a Markdown text."""
    blocks: list[tuple[str, int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening.group("fence")
        language = (opening.group("info").split() or [""])[0].lower()
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if closing and closing.group("fence")[0] == fence[0] and len(closing.group("fence")) >= len(fence) \
                    and not closing.group("info").strip():
                break
            body.append(lines[i])
            i += 1
        blocks.append((language, start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def _markdown_toml_blocks() -> list[tuple[str, str]]:
    found = []
    for name in MARKDOWN:
        path = ROOT / name
        if not path.exists():
            continue
        for language, line, body in fenced_blocks(path.read_text(encoding="utf-8")):
            if language == "toml":
                found.append((f"{name}:{line}", body))
    return found


def _example_files() -> list[tuple[str, str]]:
    return [(f"docs/examples/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.toml"))]


CONFIG_EXAMPLES = _example_files() + _markdown_toml_blocks()


def test_the_example_configs_exist() -> None:
    names = {p.name for p in EXAMPLES.glob("*.toml")}
    assert {"groq.toml", "full-config.toml"} <= names


@pytest.mark.parametrize(("where", "text"), CONFIG_EXAMPLES, ids=[w for w, _ in CONFIG_EXAMPLES])
def test_config_example_loads(where: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path, env={})
    assert config.exists
    assert config.profiles, where


# -- commands -------------------------------------------------------------------------------------------------


def _subcommands() -> dict[str, object]:
    parser = build_parser()
    for action in parser._actions:
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict) and choices:
            return choices
    raise AssertionError("build_parser() has no sub-commands")


def _logical_lines(body: str) -> list[str]:
    """Lines with `\\` continuations joined."""
    out: list[str] = []
    pending = ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def command_lines(language: str, body: str) -> list[str]:
    """The shell command lines of a block: `$ ` lines in console blocks, non-comment lines in sh blocks."""
    commands = []
    for line in _logical_lines(body):
        stripped = line.strip()
        if language == "console":
            if stripped.startswith("$ "):
                commands.append(stripped[2:])
        elif stripped and not stripped.startswith("#"):
            commands.append(stripped)
    return commands


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def botticelli_invocations(command: str) -> list[list[str]]:
    """The argument lists given to `botticelli` in one shell command line (several with `;`, `&&`, `|`)."""
    tokens = _tokens(command)
    calls = []
    for index, token in enumerate(tokens):
        if token.rsplit("/", 1)[-1] != "botticelli":
            continue
        args: list[str] = []
        for arg in tokens[index + 1 :]:
            if arg and set(arg) <= _SHELL_OPERATORS:
                if args and args[-1].isdigit() and arg[0] in "<>":  # `2>/dev/null`: the 2 is not an argument
                    args.pop()
                break
            args.append(arg)
        calls.append(args)
    return calls


def subcommand_of(args: list[str]) -> str | None:
    """The sub-command named by `botticelli ARGS` (None: the TUI or a global flag such as --version)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


def _documented_commands() -> list[tuple[str, str, list[str]]]:
    found = []
    for name in COMMAND_DOCS:
        path = ROOT / name
        if not path.exists():
            continue
        for language, line, body in fenced_blocks(path.read_text(encoding="utf-8")):
            if language not in ("console", "sh", "shell", "bash"):
                continue
            for command in command_lines(language, body):
                for args in botticelli_invocations(command):
                    found.append((f"{name}:{line}", command, args))
    return found


DOCUMENTED = _documented_commands()


def test_groq_md_shows_commands() -> None:
    assert (ROOT / "GROQ.md").exists()
    used = {subcommand_of(args) for _, _, args in DOCUMENTED}
    assert {"ask", "models", "bench", "simulate"} <= used


@pytest.mark.parametrize(
    ("where", "command", "args"), DOCUMENTED, ids=[f"{w} {' '.join(a)[:60]}" for w, _, a in DOCUMENTED]
)
def test_documented_command_is_real(where: str, command: str, args: list[str]) -> None:
    subcommands = _subcommands()
    name = subcommand_of(args)
    if name is not None:
        assert name in subcommands, f"{where}: `botticelli {name}` is not a sub-command ({', '.join(subcommands)})"
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:  # argparse reports bad flags by exiting with 2
        assert exc.code == 0, f"{where}: `{command}` does not parse"


def test_helpers_understand_shell_syntax() -> None:
    calls = botticelli_invocations(
        'BOTTICELLI_CONFIG_DIR=/tmp/x .venv/bin/botticelli -p groq ask "[[fault:429]] hi" 2>/dev/null | head'
    )
    assert calls == [["-p", "groq", "ask", "[[fault:429]] hi"]]
    assert subcommand_of(calls[0]) == "ask"
    assert botticelli_invocations("botticelli simulate --port 8199 &") == [["simulate", "--port", "8199"]]
    assert command_lines("console", "$ botticelli models\nllama  (default)\n") == ["botticelli models"]
    joined = command_lines("sh", "# comment\nbotticelli bench \\\n  --runs 5\n")
    assert [line.split() for line in joined] == [["botticelli", "bench", "--runs", "5"]]
    blocks = fenced_blocks("a\n```toml\nx = 1\n```\n````console\n```\n$ b\n````\n")
    assert [(lang, body) for lang, _, body in blocks] == [("toml", "x = 1\n"), ("console", "```\n$ b\n")]

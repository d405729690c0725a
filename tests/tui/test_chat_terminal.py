"""The chat view in a real terminal: `botticelli` in a 120x40 pty, read through a pyte terminal emulator.

Regression for "the answer area goes blank after a long answer": after 8k- and 20k-token answers, flat out
and paced, the EMULATED SCREEN (not the widget's own lines) still shows the answer's last lines and its end
marker once the bar says done. Pacing is faster than the benchmarks' (about a second per answer) to keep
`make test` quick; `make bench` (bench_chat_terminal.py) runs the 2,000 tok/s cases.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

if not Path("/proc/self/stat").exists():
    pytest.skip("needs Linux (/proc) and a pty", allow_module_level=True)

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pace = _load("pace_server")
terminal = _load("terminal")
ANSWER_ROWS = range(0, 35)  # the transcript's rows at 120x40 (the prompt, bar and footer are below)
PICKER = 38  # columns taken by the model picker on the left


@pytest.fixture(scope="module")
def session() -> Iterator[tuple[object, object]]:
    folder = terminal.temp_folder()
    with terminal.PaceServer() as server:
        terminal.write_config(folder, [server.port])
        app = terminal.TerminalApp(["--profile", "pace"], folder)
        try:
            assert app.wait_text("Quit", 30.0) is not None, app.text()
            app.settle(quiet=0.3)
            yield app, server
        finally:
            app.close()
            shutil.rmtree(folder, ignore_errors=True)


def last_word(tokens: list[str]) -> str:
    """The last word of the answer's text before the end marker, as rendered (no Markdown marks)."""
    words = "".join(tokens[:-1]).split()
    return words[-1].strip("*`")


@pytest.mark.parametrize(("tokens", "tps"), [(8_000, 0), (8_000, 8_000), (20_000, 0), (20_000, 20_000)],
                         ids=["8k-flat-out", "8k-paced", "20k-flat-out", "20k-paced"])
def test_long_answer_stays_on_screen(session: tuple[object, object], tokens: int, tps: int) -> None:
    app, server = session
    ident = f"{tokens // 1000}k{tps}"
    marker = pace.end_marker(ident)
    app.ask(f"long answer tokens={tokens} tps={tps} id={ident}")
    assert app.wait_text(marker, 60.0) is not None, app.text()
    server.finished(10.0)
    assert app.wait_for(lambda a: " done " in a.lines()[-2], 20.0) is not None, app.text()
    # The view used to go blank as the stream ended: the marker must stay through the next half second.
    assert app.wait_for(lambda a: marker not in a.text(), 0.5) is None, app.text()

    screen = app.lines()
    answer = [screen[row][PICKER:].strip(" ▌│") for row in ANSWER_ROWS]
    filled = [line for line in answer if line]
    assert marker in "\n".join(answer), app.text()
    assert len(filled) >= 20, app.text()  # the transcript is full, not blank
    assert last_word(pace.make_tokens(tokens, ident)) in "\n".join(answer[-12:]), app.text()
    assert f"{tokens:,} tok" in screen[-2]

"""A streaming race column paints only the end of its text (a bounded cost per paint), all of it when done."""

from __future__ import annotations

from botticelli.tui.widgets import race_column
from botticelli.tui.widgets.race_column import TAIL_CHARS, _tail


def test_short_text_is_painted_whole() -> None:
    assert _tail("a\nb") == "a\nb"


def test_long_text_is_cut_at_a_line_start_and_marked() -> None:
    lines = [f"line {n} " + "word " * (n % 9) for n in range(5_000)]
    text = "\n".join(lines)
    shown = _tail(text)
    assert shown.startswith("…\n") and text.endswith(shown[2:])
    assert len(shown) <= TAIL_CHARS + 2 and shown[2:].split("\n")[0] in lines


def test_a_text_without_line_breaks_keeps_its_end() -> None:
    text = "x" * (3 * race_column.TAIL_CHARS)
    assert _tail(text) == "…\n" + "x" * TAIL_CHARS

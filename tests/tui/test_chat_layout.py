"""ChatLayout, the transcript's layout model, driven directly: no app, no widget, no event loop."""

from __future__ import annotations

from botticelli.tui.chat_layout import ChatLayout, MessageData
from botticelli.tui.markdown_render import render_markdown

WIDTH = 60
ANSWER = "# Plan\n\nFirst *paragraph* with `code[i]`.\n\n- a\n- b\n\n```python\nprint(1)\n```\n\nThe end.\n"


def text_of(lines: list) -> list[str]:
    return ["".join(text for text, _ in line).rstrip() for line in lines]


def all_lines(layout: ChatLayout) -> list[str]:
    """Every line of the transcript, rendering what is missing (as scrolling through it would)."""
    layout.render_window(0, 10**9, 0)
    out: list[str] = []
    y = 0
    while y < layout.total:
        located = layout.locate(y)
        assert located is not None
        _index, part, line = located
        assert part.lines is not None
        out.extend(text_of(part.lines[line:]))
        y += part.height - line
    return out


def test_heights_are_estimated_until_rendered_then_exact() -> None:
    layout = ChatLayout()
    layout.set_width(WIDTH)
    layout.set_messages([MessageData("user", f"question {n}") if n % 2 == 0 else MessageData("assistant", ANSWER)
                         for n in range(100)])
    assert all(entry.parts is None for entry in layout.entries)  # nothing built, nothing rendered
    estimated = layout.total
    _shift, count = layout.render_window(layout.total - 30, layout.total, layout.total - 30)
    assert count > 0
    assert sum(entry.parts is not None for entry in layout.entries) < 10  # only the window was built
    lines = all_lines(layout)
    assert len(lines) == layout.total and layout.total != estimated
    assert lines[:2] == ["You", "question 0"]


def test_locate_maps_lines_to_parts_across_messages() -> None:
    layout = ChatLayout()
    layout.set_width(WIDTH)
    layout.add(MessageData("user", "hello"))
    layout.add(MessageData("assistant", "world", footer="footer"))
    lines = all_lines(layout)
    assert lines == ["You", "hello", "", "assistant", "world", "footer"]
    index, part, line = layout.locate(4)  # type: ignore[misc]
    assert (index, part.kind, line) == (1, "md", 0)
    assert layout.locate(layout.total) is None and layout.locate(-1) is None


def test_a_stream_renders_like_the_whole_answer_and_reuses_final_blocks() -> None:
    layout = ChatLayout()
    layout.set_width(WIDTH)
    stream = layout.start_stream("assistant")
    rendered_blocks: list[int] = []
    for n in range(0, len(ANSWER), 7):
        stream.append(ANSWER[n : n + 7])
        layout.begin_frame()
        advance = layout.prepare(stream)
        rendered_blocks.append(sum(1 for _ in layout.prerender(advance, 1000)))
        layout.publish(advance)
        layout.render_window(0, layout.total, 0)
    stream.finish(footer="done")
    layout.begin_frame()
    advance = layout.prepare(stream)
    list(layout.prerender(advance, 1000))
    layout.publish(advance)
    assert stream.done and layout.entries[0].stream is None
    body = [part for part in layout.entries[0].parts or [] if part.kind == "md"]
    shown = [line for part in body for line in layout.part_lines(layout.entries[0], part)]
    assert text_of(shown) == [strip.text.rstrip() for strip in render_markdown(ANSWER, WIDTH)]
    assert max(rendered_blocks) <= 2  # per frame: the open tail (and a block that just became final)


def test_cache_is_bounded_and_evicted_parts_render_again() -> None:
    layout = ChatLayout()
    layout.CACHE_LINES = 50
    layout.set_width(WIDTH)
    layout.set_messages([MessageData("assistant", ANSWER) for _ in range(40)])
    first = all_lines(layout)
    layout.evict()
    assert layout._cached_lines <= 50
    assert all_lines(layout) == first


def test_width_change_lays_out_again() -> None:
    layout = ChatLayout()
    layout.set_width(WIDTH)
    layout.add(MessageData("user", "word " * 40))
    wide = all_lines(layout)
    assert layout.set_width(20) and not layout.set_width(20)
    narrow = all_lines(layout)
    assert len(narrow) > len(wide) and max(len(line) for line in narrow) <= 20


def test_reasoning_toggles_and_clear_ends_streams() -> None:
    layout = ChatLayout()
    layout.set_width(WIDTH)
    layout.add(MessageData("assistant", "answer", reasoning="step one\nstep two"))
    assert any("press r to expand" in line for line in all_lines(layout))
    assert layout.toggle_reasoning()
    assert "step two" in all_lines(layout)
    stream = layout.start_stream()
    layout.clear()
    assert stream.done and layout.total == 0 and not layout.streams
    assert not layout.toggle_reasoning()

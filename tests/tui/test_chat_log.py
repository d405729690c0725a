"""ChatLog pilot tests: streaming equals a fresh render, tricky Markdown, safety, scrolling, reasoning."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from botticelli.tui import APP_CSS
from botticelli.tui.markdown_render import render_markdown, render_text
from botticelli.tui.widgets.chat_log import ChatLog, MessageData, StreamingMessage

SIZE = (100, 30)

TABLE_LATE = "Intro line.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.\n"
FENCE = "Before.\n\n```python\ndef f(x):\n\n    return x[0]\n```\n\nAfter the fence.\n"
NESTED = "- one\n  - one.a\n    1. deep\n  - one.b\n- two\n\n  continued\n\n3. three\n4. four\n"
WIDE = "漢字とかなの混在した文章です。" * 12 + " 🎉🚀👍🏽\n\n| 名前 | 値 |\n|---|---|\n| 絵文字 🎉 | 👍🏽 |\n"
LONG_LINE = "x" * 450 + "\n\n" + " ".join(["wrapping"] * 120) + "\n"
ANSWER = (
    "# Plan\n\nFirst *paragraph* with `code[i]` and **bold**.\n\n"
    + TABLE_LATE
    + "\n"
    + FENCE
    + "\n"
    + NESTED
    + "\n> quote\nlazy\n\n---\n\nThe end.\n"
)


class FastLog(ChatLog):
    FRAME_INTERVAL = 0.005  # the tests wait on frames: keep them short


class LogApp(App[None]):
    CSS_PATH = APP_CSS

    def compose(self) -> ComposeResult:
        yield FastLog()


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], tries: int = 5000) -> None:
    """Poll a condition (the app runs on this event loop); no timing is asserted."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached")


async def settle(pilot: Pilot[None], stream: StreamingMessage) -> None:
    """Wait until the log has taken everything appended so far (state is read directly, not painted)."""
    await wait_until(pilot, lambda: stream.settled)


async def stream_text(
    pilot: Pilot[None], log: ChatLog, text: str, size: int, settle_every: int = 1
) -> StreamingMessage:
    stream = log.start_assistant(title="assistant · test")
    for i, start in enumerate(range(0, len(text), size)):
        stream.append(text[start : start + size])
        if i % settle_every == 0:
            await settle(pilot, stream)
    stream.finish(footer="test  100 tok/s")
    await wait_until(pilot, lambda: stream.done)
    await pilot.pause()
    return stream


def screen_lines(log: ChatLog) -> list[str]:
    return [log.render_line(y).text for y in range(log.scrollable_content_region.height)]


def assert_fresh(log: ChatLog, index: int, text: str) -> None:
    shown = log.body_lines(index)
    assert shown == render_markdown(text, log.content_width, log.render_theme)


@pytest.mark.parametrize(
    ("text", "size"),
    [(ANSWER, 7), (ANSWER, 40), (TABLE_LATE + FENCE[:60], 1), (WIDE, 5), (LONG_LINE, 33), (NESTED, 3)],
    ids=["answer-7", "answer-40", "one-char", "wide", "long-line", "nested"],
)
async def test_streamed_lines_equal_fresh_render(text: str, size: int) -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.add_message("user", "Explain, please.")
        stream = await stream_text(pilot, log, text, size)
        assert stream.text == text
        assert log.messages[1].text == text
        assert_fresh(log, 1, text)


async def test_unsettled_stream_is_still_exact() -> None:
    """Chunks arriving faster than frames: blocks finalize many at a time."""
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        await stream_text(pilot, log, ANSWER * 3, 11, settle_every=9)
        assert_fresh(log, 0, ANSWER * 3)


async def test_table_switches_when_separator_arrives() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        stream = log.start_assistant()
        stream.append("Intro.\n\n| a | b |\n")
        await settle(pilot, stream)
        assert any("| a | b |" in line for line in screen_lines(log))
        stream.append("|---|---|\n| 1 | 2 |\n")
        await settle(pilot, stream)
        shown = screen_lines(log)
        assert not any("| a | b |" in line for line in shown)
        assert any("─" in line for line in shown)
        stream.finish()
        await wait_until(pilot, lambda: stream.done)


async def test_resize_while_streaming_renders_at_new_width() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        wide = log.content_width
        stream = log.start_assistant()
        half = len(ANSWER) // 2
        stream.append(ANSWER[:half])
        await settle(pilot, stream)
        await pilot.resize_terminal(70, 30)
        await wait_until(pilot, lambda: log.content_width < wide)
        stream.append(ANSWER[half:])
        stream.finish()
        await wait_until(pilot, lambda: stream.done)
        assert_fresh(log, 0, ANSWER)
        assert all(len(line) == 69 for line in screen_lines(log))


PAYLOADS = ["[INST] hi [/INST]", "[/]", "x [/", "array[i]", "[bold]x[/bold]", "[link=http://e.vil]y[/link]"]


async def test_markup_payloads_are_literal() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        joined = " ".join(PAYLOADS)
        log.add_message("user", joined, title="[b]You[/b]")
        log.add_message("assistant", f"{joined}\n\n`{joined}`\n\n- {joined}\n", footer=joined, error=joined)
        await stream_text(pilot, log, f"{joined}\n\n[a link]({PAYLOADS[1]})\n", 4)
        await pilot.pause()
        text = "\n".join(log.lines_text())
        assert "[b]You[/b]" in text
        assert text.count("[bold]x[/bold]") >= 6
        for payload in PAYLOADS:
            assert payload in text


async def test_escape_sequences_never_reach_the_output() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        payload = "a\x1b[31mred\x1b]0;pwned\x07 b\x08\x9b c\r\n\n```\n\x1b[2Jx\n```\n"
        log.add_message("user", payload, footer=payload)
        log.add_message("assistant", payload, reasoning=payload, error=payload)
        stream = log.start_assistant(title=payload)
        stream.append_reasoning(payload)
        for char in payload:
            stream.append(char)
        stream.finish(footer=payload, error=payload)
        await wait_until(pilot, lambda: stream.done)
        log.toggle_reasoning(1)
        log.toggle_reasoning(2)
        await pilot.pause()
        strips = [log.render_line(y) for y in range(30)]
        strips += log.body_lines(0) + log.body_lines(1) + log.body_lines(2)
        for strip in strips:
            for segment in strip:
                assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in segment.text), segment
        assert all("\x1b" not in m.text and "\x07" not in m.text for m in log.messages)


async def test_follows_bottom_while_streaming_and_stays_when_scrolled_up() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        stream = log.start_assistant()
        for i in range(40):
            stream.append(f"Paragraph {i} " + "word " * 30 + "\n\n")
            await settle(pilot, stream)
            assert log.scroll_y == log.max_scroll_y
        assert log.max_scroll_y > 0 and log.is_following
        log.focus()
        await pilot.press("pageup")
        held = log.scroll_y
        assert held < log.max_scroll_y and not log.is_following
        for i in range(10):
            stream.append(f"More {i} " + "word " * 30 + "\n\n")
            await settle(pilot, stream)
            assert log.scroll_y == held
        await pilot.press("end")
        stream.append("Last words.\n")
        await settle(pilot, stream)
        assert log.scroll_y == log.max_scroll_y
        stream.finish()
        await wait_until(pilot, lambda: stream.done)
        assert log.scroll_y == log.max_scroll_y
        assert screen_lines(log)[-1].rstrip() == "▌ Last words."


def session(count: int) -> list[MessageData]:
    messages = []
    for i in range(count):
        if i % 2 == 0:
            messages.append(MessageData("user", f"Question {i}: " + "why " * (i % 17)))
        else:
            body = f"Answer **{i}**.\n\n- a\n- b\n\n```python\nprint({i})\n```\n"
            messages.append(MessageData("assistant", body, title="assistant · demo", footer=f"footer {i}"))
    return messages


async def test_thousand_messages_open_at_bottom_lazily_and_scroll_home() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.set_messages(session(1000))
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > 0
        assert any("footer 999" in line for line in screen_lines(log))
        built = sum(entry.parts is not None for entry in log.model.entries)
        assert built < 30
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert log.scroll_y == 0
        assert screen_lines(log)[:2] == ["▌ You".ljust(99), "▌ Question 0:".ljust(99)]
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert log.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y
        assert any("footer 999" in line for line in screen_lines(log))
        assert len(log.messages) == 1000


async def test_scroll_up_page_by_page_keeps_content_continuous() -> None:
    """Estimated heights become exact on the way up without making the text jump."""
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(ChatLog)
        log.set_messages(session(24))
        await pilot.pause()
        seen: list[list[str]] = [screen_lines(log)]
        while log.scroll_y > 0:
            log.scroll_up()  # scrolling is immediate; the lines are read without waiting for a paint
            seen.append(screen_lines(log))
        for before, after in itertools.pairwise(seen):
            assert after[1:] == before[:-1]


async def test_reasoning_collapsed_then_expanded() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.add_message("assistant", "Answer.", reasoning="Let me think about it. " * 3)
        await pilot.pause()
        lines = log.lines_text()
        assert any("▸ reasoning (69 chars)" in line for line in lines)
        assert not any("Let me think" in line for line in lines)
        log.focus()
        await pilot.press("r")
        await pilot.pause()
        assert any("Let me think" in line for line in log.lines_text())
        await pilot.click(FastLog, offset=(5, 1))
        await pilot.pause()
        assert not any("Let me think" in line for line in log.lines_text())


async def test_streamed_reasoning_then_answer() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        stream = log.start_assistant()
        await pilot.pause()
        assert any("…" in line for line in screen_lines(log))
        for word in ("thinking", "step", "by", "step"):
            stream.append_reasoning(word + " ")
            await settle(pilot, stream)
        assert any("▸ reasoning (22 chars)" in line for line in screen_lines(log))
        stream.append("The **answer**.")
        stream.finish(footer="groq  TTFT 0.21s  840 tok/s")
        await wait_until(pilot, lambda: stream.done)
        message = log.messages[0]
        assert (message.text, message.reasoning) == ("The **answer**.", "thinking step by step ")
        lines = log.lines_text()
        assert lines[-1].startswith("▌ groq  TTFT 0.21s  840 tok/s")
        assert any("The answer." in line for line in lines)


async def test_error_cancel_footer_and_roles() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.add_message("system", "Be brief. **not markdown**")
        log.add_message("error", "provider unreachable")
        stream = log.start_assistant(title="assistant · groq · llama-3.1-8b-instant")
        stream.append("Partial")
        stream.finish(error="rate limited (retry in 2s)", footer="groq  cancelled")
        await wait_until(pilot, lambda: stream.done)
        cancelled = log.start_assistant()
        cancelled.append("Half an answer")
        cancelled.finish(cancelled=True)
        await wait_until(pilot, lambda: cancelled.done)
        lines = [line.rstrip() for line in log.lines_text()]
        assert "▌ system" in lines and "▌ Be brief. **not markdown**" in lines
        assert "▌ ✖ provider unreachable" in lines
        assert "▌ assistant · groq · llama-3.1-8b-instant" in lines
        assert "▌ ✖ rate limited (retry in 2s)" in lines and "▌ Partial" in lines
        assert "▌ ⏹ cancelled" in lines
        assert log.messages[2].error == "rate limited (retry in 2s)"
        assert log.messages[3].cancelled


async def test_messages_last_code_block_and_clear() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        assert log.add_message("user", "code?", key="u1") == 0
        log.add_message("assistant", "x\n\n```sh\nls\n```\n\n```python\nprint(1)\n```\n")
        stream = log.start_assistant()
        stream.append("Streaming ```py\nno\n")
        assert log.messages[-1].text == "Streaming ```py\nno\n"
        assert log.last_code_block() is None
        stream.finish()
        await wait_until(pilot, lambda: stream.done)
        log.add_message("user", "thanks")
        assert log.messages[0].key == "u1"
        assert [m.role for m in log.messages] == ["user", "assistant", "assistant", "user"]
        log.set_messages(log.messages[:2])
        assert log.last_code_block() == "print(1)\n"
        log.clear()
        await pilot.pause()
        assert log.messages == [] and log.virtual_size.height == 0
        stream.append("ignored after clear")


async def test_theme_change_rerenders_with_the_new_theme() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.add_message("assistant", FENCE)
        await pilot.pause()
        dark = log.render_theme
        assert dark.code_theme == ChatLog.CODE_THEMES[0]
        app.theme = "textual-light"
        await wait_until(pilot, lambda: log.render_theme != dark)
        assert log.render_theme.code_theme == ChatLog.CODE_THEMES[1]
        assert_fresh(log, 0, FENCE)
        assert log.body_lines(0) != render_markdown(FENCE, log.content_width, dark)


async def test_roles_are_visually_distinct() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        log.add_message("user", "hi")
        log.add_message("assistant", "hello", footer="groq  840 tok/s")
        log.add_message("error", "boom")
        await pilot.pause()
        rows = [log.render_line(y) for y in range(9)]
        assert all(rows[y].text.startswith("▌ ") for y in (0, 3, 7))
        colors = [next(iter(rows[y])).style.color for y in (0, 3, 7)]
        assert len(set(colors)) == 3  # the left border has a colour per role
        label = next(seg for seg in rows[0] if seg.text.strip() == "You")
        assert label.style.bold
        body = next(seg for seg in rows[4] if seg.text.strip() == "hello")
        footer = next(seg for seg in rows[5] if "840 tok/s" in seg.text)
        assert footer.style.color != body.style.color
        assert list(rows[0])[-1].style.bgcolor != list(rows[4])[-1].style.bgcolor  # user lines are shaded


async def test_long_plain_message_renders_like_one_piece() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        text = "\n".join(f"line {i} " + "word " * (i % 40) for i in range(300))
        log.add_message("user", text)
        await pilot.pause()
        assert len(log.model.entries[0].parts or []) > 4
        whole = [strip.text for strip in render_text(text, log.content_width)]
        assert [strip.text for strip in log.body_lines(0)] == whole


async def test_messages_set_before_mount_open_at_the_bottom() -> None:
    class EarlyApp(App[None]):
        CSS_PATH = APP_CSS

        def compose(self) -> ComposeResult:
            log = FastLog()
            log.set_messages(session(200))
            yield log

    app = EarlyApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > 0
        assert any("footer 199" in line for line in screen_lines(log))
        assert log.virtual_size.height < 200 * 20  # estimated at the real width, not one cell wide


class CountingLog(FastLog):
    """Counts the rows Textual asks for: what a frame repaints."""

    painted = 0

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        CountingLog.painted += 1
        return super().render_line(y)


class CountingApp(App[None]):
    CSS_PATH = APP_CSS

    def compose(self) -> ComposeResult:
        yield CountingLog()


async def test_a_stream_below_the_view_does_not_repaint_it() -> None:
    """Reading earlier messages while an answer streams below: the rows on screen are not painted again
    (only what changed is repainted); back at the bottom, the new text shows."""
    app = CountingApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(CountingLog)
        log.set_messages(session(40))
        stream = log.start_assistant(title="assistant · test")
        stream.append("start\n\n")
        await settle(pilot, stream)
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        before = screen_lines(log)
        CountingLog.painted = 0
        for n in range(20):
            stream.append(f"more text {n}\n\n")
            await settle(pilot, stream)
            await pilot.pause()
        assert CountingLog.painted == 0
        assert not log.is_following and screen_lines(log) == before
        await pilot.press("end")
        await pilot.pause()
        assert any("more text 19" in line for line in screen_lines(log))

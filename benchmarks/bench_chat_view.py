"""Chat view benchmark, headless (reference only): ChatLog streaming, flat out, a long session, memory.

Under `app.run_test` Textual writes nothing to a terminal and tokens are appended straight to the widget, with
no client and no app around it: these figures describe the widget in memory. They are kept as labelled
references; the chat view's goals are judged on the real-terminal figures of bench_chat_terminal.py.

Run: .venv/bin/python benchmarks/bench_chat_view.py   (headless, 120x40, bounded to about 2 minutes)
Every figure is printed next to its target, then as a JSON line; `main()` returns them as dicts.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from _common import CpuMeter, Heartbeat, figure, peak_rss_mb, rss_mb
from botticelli.tui import APP_CSS
from botticelli.tui.markdown_render import render_markdown
from botticelli.tui.widgets.chat_log import ChatLog, MessageData, StreamingMessage

SIZE = (120, 40)
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "tokens",
    "stream",
    "from",
    "a",
    "fast",
    "model",
    "and",
    "the",
    "terminal",
    "keeps",
    "up",
    "with",
    "every",
    "answer",
    "latency",
    "throughput",
    "buffer",
    "render",
    "array",
    "index",
    "value",
]


def make_tokens(count: int, seed: int = 7) -> list[str]:
    """A deterministic Markdown answer of `count` tokens (about 4 characters each): paragraphs,
    headings, lists, tables and fenced code."""
    rnd = random.Random(seed)
    tokens: list[str] = []

    def words(n: int) -> None:
        for _ in range(n):
            word = rnd.choice(WORDS)
            roll = rnd.random()
            if roll < 0.04:
                word = f"**{word}**"
            elif roll < 0.07:
                word = f"`{word}[i]`"
            elif roll < 0.09:
                word = f"*{word}*"
            tokens.append(word + " ")

    while len(tokens) < count:
        kind = rnd.random()
        if kind < 0.08:
            tokens.append(f"## Section {len(tokens)}\n\n")
        elif kind < 0.45:
            words(rnd.randint(20, 60))
            tokens.append("\n\n")
        elif kind < 0.65:
            for i in range(rnd.randint(2, 6)):
                tokens.append("- " if rnd.random() < 0.6 else f"{i + 1}. ")
                words(rnd.randint(4, 14))
                tokens.append("\n")
            tokens.append("\n")
        elif kind < 0.8:
            tokens += ["| name | value | notes |\n", "|---|---:|---|\n"]
            for i in range(rnd.randint(2, 6)):
                tokens.append(f"| row{i} | {rnd.randint(1, 9999)} | ")
                words(rnd.randint(2, 6))
                tokens.append("|\n")
            tokens.append("\n")
        else:
            tokens.append("```python\n")
            for i in range(rnd.randint(3, 12)):
                tokens += [f"def f{i}(x):\n", f"    return x[{i}] + {i}  # "]
                words(3)
                tokens.append("\n")
            tokens.append("```\n\n")
    return tokens[:count]


def make_session(count: int, seed: int = 11) -> list[MessageData]:
    """Alternating user / assistant messages; replies of 1-3 paragraphs, some lists and code."""
    rnd = random.Random(seed)

    def paragraph() -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(15, 50)))

    messages: list[MessageData] = []
    for i in range(count):
        if i % 2 == 0:
            messages.append(MessageData("user", paragraph() + "?"))
            continue
        parts = [paragraph() for _ in range(rnd.randint(1, 3))]
        if rnd.random() < 0.4:
            parts.append("\n".join(f"- {paragraph()[:60]}" for _ in range(rnd.randint(2, 5))))
        if rnd.random() < 0.3:
            parts.append("```python\n" + "\n".join(f"x{j} = {j} * 2" for j in range(rnd.randint(2, 8))) + "\n```")
        messages.append(
            MessageData("assistant", "\n\n".join(parts), title="assistant · demo", footer="demo  420 tok/s")
        )
    return messages


class ChatApp(App[None]):
    """A bare app hosting one ChatLog. `freeze`: move the start-up heap out of the garbage collector's
    reach once mounted (`gc.freeze()`), as an app can do, so full collections only scan newer objects."""

    CSS_PATH = APP_CSS

    def __init__(self, freeze: bool = False) -> None:
        super().__init__()
        self.freeze = freeze

    def compose(self) -> ComposeResult:
        yield ChatLog()

    def on_mount(self) -> None:
        if self.freeze:
            gc.collect()
            gc.freeze()

    def on_unmount(self) -> None:
        if self.freeze:
            gc.unfreeze()


class MarkdownApp(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="chat"):
            yield Markdown(id="msg")


async def wait_done(log: ChatLog, stream: StreamingMessage, limit: float = 120.0) -> None:
    """Wait until the whole answer is on screen (and painted); fail instead of hanging if it never is."""
    deadline = time.perf_counter() + limit
    while not stream.done:
        if time.perf_counter() > deadline or not log.app.is_running:
            raise RuntimeError("the chat log never finished rendering the answer")
        await asyncio.sleep(0.002)
    await log.wait_for_refresh()


def check_correct(log: ChatLog, index: int, text: str) -> None:
    """The displayed body must equal a fresh render of the whole text at the same width."""
    shown = log.body_lines(index)
    fresh = render_markdown(text, log.content_width, log.render_theme)
    assert shown == fresh, f"streamed lines differ from a fresh render ({len(shown)} vs {len(fresh)} lines)"


async def paced(tokens: list[str], rate: float, earlier: int, freeze: bool = False) -> dict[str, float]:
    """Stream `tokens` at `rate` tokens/s on an absolute schedule; returns lag, loop lag and CPU."""
    app = ChatApp(freeze)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        if earlier:
            log.set_messages(make_session(earlier))
        await pilot.pause()
        gc.collect()
        beat = Heartbeat().start()
        cpu = CpuMeter()
        stream = log.start_assistant(title="assistant · bench")
        start = time.perf_counter()
        sent = 0
        while sent < len(tokens):
            due = min(len(tokens), int((time.perf_counter() - start) * rate) + 1)
            while sent < due:
                stream.append(tokens[sent])
                sent += 1
            await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
        stream.finish(footer="bench")
        last_byte = time.perf_counter()
        await wait_done(log, stream)
        lag = time.perf_counter() - last_byte
        cpu_percent = cpu.percent()
        await beat.stop()
        check_correct(log, len(log.messages) - 1, "".join(tokens))
        return {
            "lag": lag,
            "p99": beat.percentile(99),
            "max": beat.max,
            "cpu": cpu_percent,
            "wall": last_byte - start,
        }


async def flat_out(tokens: list[str], every: int = 10) -> tuple[float, float]:
    """Tokens/s when the producer never waits (a yield every `every` tokens), until the screen shows the
    complete answer; also the time to render every block of it (off-screen blocks are only rendered when
    scrolled to, which the correctness check forces)."""
    app = ChatApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        await pilot.pause()
        stream = log.start_assistant(title="assistant · bench")
        start = time.perf_counter()
        for i, token in enumerate(tokens):
            stream.append(token)
            if i % every == 0:
                await asyncio.sleep(0)
        stream.finish()
        await wait_done(log, stream)
        elapsed = time.perf_counter() - start
        started = time.perf_counter()
        check_correct(log, 0, "".join(tokens))
        return len(tokens) / elapsed, time.perf_counter() - started


async def markdown_stream_baseline(tokens: list[str]) -> float:
    """Textual's MarkdownStream, one write per token: tokens/s until the document is complete."""
    app = MarkdownApp()
    async with app.run_test(size=SIZE) as pilot:
        markdown = app.query_one("#msg", Markdown)
        app.query_one("#chat", VerticalScroll).anchor()
        await pilot.pause()
        start = time.perf_counter()
        stream = Markdown.get_stream(markdown)
        try:
            for token in tokens:
                await stream.write(token)
        finally:
            await stream.stop()
        await markdown.wait_for_refresh()
        elapsed = time.perf_counter() - start
        assert markdown.source == "".join(tokens)
        return len(tokens) / elapsed


async def open_session(count: int, freeze: bool = False) -> dict[str, float]:
    """Open a `count`-message session: time to the last screen, then page up to the top."""
    messages = make_session(count)
    app = ChatApp(freeze)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        await pilot.pause()
        start = time.perf_counter()
        log.set_messages(messages)
        await log.wait_for_refresh()
        first_screen = time.perf_counter() - start
        assert log.scroll_y == log.max_scroll_y
        steps: list[float] = []
        while log.scroll_y > 0 and len(steps) < 10_000:
            step = time.perf_counter()
            log.scroll_page_up()
            await log.wait_for_refresh()
            steps.append(time.perf_counter() - step)
        assert log.scroll_y == 0 and log.lines_text(0)[0].strip().startswith("▌ You")
        steps.sort()
        return {
            "first_screen": first_screen,
            "worst_page": steps[-1],
            "median_page": steps[len(steps) // 2],
            "pages": len(steps),
            "rss": peak_rss_mb(),
        }


async def repeated_answers(tokens: list[str], answers: int) -> list[float]:
    """RSS after each of `answers` consecutive answers streamed into the same conversation."""
    app = ChatApp()
    text = "".join(tokens)
    chunks = [text[i : i + 64] for i in range(0, len(text), 64)]
    rss: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ChatLog)
        await pilot.pause()
        for _ in range(answers):
            log.add_message("user", "Write it all again, please.")
            stream = log.start_assistant(title="assistant · bench")
            for i, chunk in enumerate(chunks):
                stream.append(chunk)
                if i % 4 == 0:
                    await asyncio.sleep(0)
            stream.finish(footer="bench")
            await wait_done(log, stream)
            gc.collect()
            rss.append(rss_mb())
    return rss


def _target(target: str, met: bool, shipped: bool) -> tuple[str, bool | None]:
    """The target for the configuration the app ships (gc frozen); a reference line for the other."""
    return (target, met) if shipped else (f"(reference; {target})", None)


FROZEN = "gc.freeze() at app start"
PLAIN = "default gc"


async def run() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    tokens = make_tokens(20_000)
    print(f"answer: {len(tokens):,} tokens, {len(''.join(tokens)):,} chars; terminal {SIZE[0]}x{SIZE[1]}")

    # The app calls gc.freeze() once its first screen is up (tui/app.py), so the frozen runs are the product's
    # figures and carry the targets; the default-gc runs are kept as a reference for the widget on its own.
    for freeze in (True, False):  # first, while RSS is that of a fresh process
        opened = await open_session(1000, freeze)
        tag, config = ("" if freeze else "_default_gc"), (FROZEN if freeze else PLAIN)
        first, worst = opened["first_screen"], opened["worst_page"]
        results.append(figure(
            f"open_1000_messages{tag}_last_screen_s", first, *_target("<= 0.3", first <= 0.3, freeze), "s",
            config=config,
        ))
        results.append(figure(
            f"open_1000_messages{tag}_worst_page_up_ms", worst * 1000, *_target("<= 100", worst <= 0.1, freeze), "ms",
            pages=opened["pages"], median_ms=round(opened["median_page"] * 1000, 1), config=config,
        ))
        if freeze:
            results.append(figure("open_1000_messages_peak_rss_mb", opened["rss"], "<= 150", opened["rss"] <= 150, "MB",
                                  note="VmHWM of the benchmark process (the first case run in it)"))

    for earlier, freeze in ((0, True), (200, True), (200, False)):
        label = f"chat_2000tps_{earlier}_earlier" + ("" if freeze else "_default_gc")
        config = FROZEN if freeze else PLAIN
        run_ = await paced(tokens, 2000.0, earlier, freeze)
        lag, p99, worst, cpu = run_["lag"], run_["p99"], run_["max"], run_["cpu"]
        for name, value, target, met, unit in (
            ("lag_after_last_byte_s", lag, "<= 0.25", lag <= 0.25, "s"),
            ("loop_lag_p99_ms", p99 * 1000, "<= 50", p99 <= 0.05, "ms"),
            ("loop_lag_max_ms", worst * 1000, "<= 150", worst <= 0.15, "ms"),
            ("cpu_percent", cpu, "<= 60", cpu <= 60, "%"),
        ):
            results.append(figure(f"{label}_{name}", value, *_target(target, met, freeze), unit, config=config))

    tps, full_render = await flat_out(tokens)
    results.append(figure("chat_flat_out_tps", tps, ">= 5000", tps >= 5000, "tok/s"))
    results.append(figure("chat_render_every_block_of_the_answer_s", full_render, "(reference)", None, "s"))
    baseline = await markdown_stream_baseline(tokens[:2000])
    results.append(figure("markdown_stream_baseline_2000_tokens_tps", baseline, "(reference)", None, "tok/s"))
    results.append(figure("chat_flat_out_vs_baseline_ratio", tps / baseline, "(reference)", None, "x"))

    rss = await repeated_answers(tokens, 10)
    growth = 100.0 * (rss[-1] - rss[0]) / rss[0]
    results.append(
        figure("ten_answers_rss_growth_percent", growth, "<= 10", growth <= 10, "%", rss_mb=[round(r, 1) for r in rss])
    )
    return results


def main() -> list[dict[str, Any]]:
    """Run every measurement; returns one dict per figure. Headless figures are references only: the goals
    are judged on the real-terminal figures of bench_chat_terminal.py."""
    results = asyncio.run(run())
    for record in results:
        target = record.get("target", "")
        record["name"] = "headless_" + record["name"]
        record["target"] = "(headless reference)" + (f" was {target}" if target and not target.startswith("(") else "")
        record["met"] = None
    return results


if __name__ == "__main__":
    main()

"""Figure 4 (TUI part): open a saved 1,000-message session in the real app, then scroll it to the top.

A temporary database gets one session of 1,000 messages (alternating prompts and Markdown answers: paragraphs
with bold and inline code, lists, tables, headings and fenced code, every answer with its stored speed figures).
The full app runs headless at 120x40 against that database:
- from the session browser's open action until the last screen is painted (the load on the store's thread,
  rebuilding the exchanges and stats footers, `ChatLog.set_messages`, the first paint with every visible line
  rendered);
- then page up to the top, timing each page (scroll plus repaint);
- the process RSS after both;
- for reference, the same from a cold `BotticelliApp(session=ID)` start (app start-up included).

Run: .venv/bin/python benchmarks/bench_session_open.py   (about 30 s; bounded to about a minute)
Every figure is printed next to its target, then as a JSON line; `main()` returns them as dicts.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from _common import figure, peak_rss_mb

SIZE = (120, 40)
MESSAGES = 1000
MAX_PAGES = 5000
DEADLINE_S = 60.0
_WORD_TEXT = (
    "the a of to and in is it that for on with as this be are by from at or an model token tokens stream "
    "latency throughput provider request response server client connection pool retry backoff timeout "
    "buffer render terminal widget screen scroll message session answer question prompt context window "
    "speed fast slow decode prefill cache batch queue limit rate minute second error status header json"
)
WORDS = _WORD_TEXT.split()


def sentence(rnd: random.Random) -> str:
    words = [rnd.choice(WORDS) for _ in range(rnd.randint(6, 18))]
    if rnd.random() < 0.3:
        words[rnd.randrange(len(words))] = f"**{rnd.choice(WORDS)}**"
    if rnd.random() < 0.3:
        words[rnd.randrange(len(words))] = f"`{rnd.choice(WORDS)}()`"
    return " ".join(words).capitalize() + "."


def paragraph(rnd: random.Random) -> str:
    return " ".join(sentence(rnd) for _ in range(rnd.randint(2, 5)))


def answer(rnd: random.Random, index: int) -> str:
    """A Markdown answer of 1-6 blocks, like a chat model writes them."""
    parts = [paragraph(rnd)]
    for _ in range(rnd.randint(0, 5)):
        roll = rnd.random()
        if roll < 0.35:
            parts.append(paragraph(rnd))
        elif roll < 0.55:
            parts.append("\n".join(f"- {sentence(rnd)}" for _ in range(rnd.randint(2, 5))))
        elif roll < 0.62:
            parts.append("\n".join(f"{n}. {sentence(rnd)}" for n in range(1, rnd.randint(3, 5))))
        elif roll < 0.72:
            rows = "\n".join(f"| {rnd.choice(WORDS)} | {rnd.randint(1, 999)} ms |" for _ in range(rnd.randint(2, 5)))
            parts.append(f"| name | latency |\n|---|---:|\n{rows}")
        elif roll < 0.8:
            parts.append(f"### {sentence(rnd)[:40]}")
        else:
            body = "\n".join(f"    total += item[{j}] * {rnd.randint(2, 9)}" for j in range(rnd.randint(2, 10)))
            parts.append(f"```python\ndef step_{index}(item):\n    total = 0\n{body}\n    return total\n```")
    return "\n\n".join(parts)


def build(path: Path, seed: int = 4) -> str:
    """Write the 1,000-message session; returns its id."""
    from botticelli.sessions import NewMessage, NewSession, SessionStore

    rnd = random.Random(seed)
    messages = []
    for i in range(MESSAGES):
        when = f"2026-11-24T{10 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
        if i % 2 == 0:
            messages.append(NewMessage("user", sentence(rnd) + " " + sentence(rnd), when))
            continue
        tokens = rnd.randint(80, 900)
        stats = {"ttft_s": rnd.uniform(0.1, 0.9), "total_s": tokens / 700 + 0.3, "completion_tokens": tokens,
                 "tokens_exact": True, "decode_tps": rnd.uniform(500, 900), "e2e_tps": rnd.uniform(300, 600),
                 "server_tps": rnd.uniform(800, 1100), "queue_s": rnd.uniform(0.01, 0.05)}
        messages.append(NewMessage("assistant", answer(rnd, i), when, profile="demo", model="demo-fast",
                                   finish_reason="stop", stats=stats))
    with SessionStore.open(path) as store:
        return store.import_session(NewSession("A long conversation", "2026-11-24T10:00:00Z", None, messages)).id


async def painted(log: Any) -> None:
    """Wait for a repaint that leaves nothing of the visible part still to render."""
    for _ in range(50):
        await log.wait_for_refresh()
        if not log._ensure_scheduled and not log._ensuring:
            return


async def open_from_browser(session_id: str) -> dict[str, float]:
    from botticelli.tui.app import BotticelliApp
    from botticelli.tui.screens.sessions import SessionBrowser

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        while not app.chat.ready:
            await pilot.pause(0.01)
        app.action_open_sessions()
        while not (isinstance(app.screen, SessionBrowser) and app.screen.loaded):
            await pilot.pause(0.01)
        browser = app.screen
        assert browser.highlighted_id == session_id
        await pilot.pause()
        log = app.chat.chat_log
        start = time.perf_counter()
        browser.action_open()
        while len(log.messages) < MESSAGES:
            await asyncio.sleep(0.001)
        await painted(log)
        first_screen = time.perf_counter() - start
        assert app.sessions.session_id == session_id and log.scroll_y == log.max_scroll_y
        load_start = time.perf_counter()
        await app.sessions.load(session_id)
        load_s = time.perf_counter() - load_start
        pages: list[float] = []
        deadline = time.perf_counter() + DEADLINE_S
        while log.scroll_y > 0 and len(pages) < MAX_PAGES and time.perf_counter() < deadline:
            step = time.perf_counter()
            log.scroll_page_up()
            await painted(log)
            pages.append(time.perf_counter() - step)
        assert log.scroll_y == 0, "did not reach the top in time"
        assert log.lines_text(0)[0].strip().startswith("▌ You")
        gc.collect()
        pages.sort()
        return {"first_screen": first_screen, "load": load_s, "worst_page": pages[-1],
                "median_page": pages[len(pages) // 2], "pages": len(pages), "rss": peak_rss_mb()}


async def start_on_session(session_id: str) -> float:
    from botticelli.tui.app import BotticelliApp

    start = time.perf_counter()
    app = BotticelliApp(session=session_id)
    async with app.run_test(size=SIZE) as pilot:
        log = None
        while log is None or len(log.messages) < MESSAGES:
            await pilot.pause(0.001)
            log = app.chat.chat_log if app.chat.ready else None
        await painted(log)
        return time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="botticelli-bench-") as folder:
        os.environ["BOTTICELLI_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["BOTTICELLI_CONFIG_DIR"] = str(Path(folder) / "config")  # built-in profiles only
        from botticelli import paths

        session_id = build(paths.sessions_db())
        size = paths.sessions_db().stat().st_size / 1e6
        print(f"session: {MESSAGES:,} messages, database {size:.1f} MB; terminal {SIZE[0]}x{SIZE[1]}", flush=True)
        opened = asyncio.run(open_from_browser(session_id))
        first, worst = opened["first_screen"], opened["worst_page"]
        results.append(figure("session_open_1000_from_browser_last_screen_s", first, "<= 0.3", first <= 0.3, "s",
                              note="browser open action -> last screen painted (store load included)"))
        results.append(figure("session_open_1000_store_load_s", opened["load"], "(reference)", None, "s",
                              note="one query + rebuilding exchanges, footers and transcript data"))
        results.append(figure("session_open_1000_worst_page_up_ms", worst * 1000, "<= 100", worst <= 0.1, "ms",
                              pages=opened["pages"], median_ms=round(opened["median_page"] * 1000, 1)))
        results.append(figure("session_open_1000_peak_rss_mb", opened["rss"], "< 150", opened["rss"] < 150, "MB",
                              note="VmHWM of the benchmark process (database built in it first)"))
        cold = asyncio.run(start_on_session(session_id))
        results.append(figure("session_start_with_session_1000_last_screen_s", cold, "(reference)", None, "s",
                              note="BotticelliApp(session=ID): app start-up + open, to the last screen"))
    return results


def main() -> list[dict[str, Any]]:
    """Build the session, open it, scroll it; returns one dict per figure (name, value, unit, target, met)."""
    return run()


if __name__ == "__main__":
    main()

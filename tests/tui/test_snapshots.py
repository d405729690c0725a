"""Snapshot tests of the main screens (`pytest --snapshot-update` regenerates them after a deliberate change).

The app runs in `deterministic` mode: timing figures come from a stepped clock and rate-limit counters are
hidden, so every run draws the same screen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from botticelli.tui.screens.sessions import SessionBrowser
from botticelli.tui.sessions_demo import seed_sessions

from .app_helpers import picker_of, prompt_of, send, settle_picker, wait_until, when_ready

SIZE = (120, 36)


async def _ready(pilot: Pilot) -> None:
    await when_ready(pilot)
    prompt_of(pilot.app).cursor_blink = False  # type: ignore[arg-type]
    await settle_picker(pilot)


def test_start_screen(snap_compare) -> None:
    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=_ready)


def test_finished_answer_with_code_and_stats(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await send(pilot, "Show me how decode speed is computed")
        assert "```" in pilot.app.chat.exchanges[-1].answer  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_rate_limit_error(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await send(pilot, "[[fault:429 retry_after=31]] hello")
        await wait_until(pilot, lambda: pilot.app.screen.query("Toast"), "the error notification")
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_picker_with_a_missing_key(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        picker = picker_of(pilot.app)  # type: ignore[arg-type]
        groq = picker._profile_nodes["groq"]
        picker._profile_nodes["demo"].collapse()
        groq.expand()
        await settle_picker(pilot, "groq")
        picker.focus()
        await wait_until(pilot, lambda: picker.has_focus, "the picker's focus")
        picker.move_cursor(groq)
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: pilot.app.screen.id != "_default" and pilot.app.screen.is_modal, "help")
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def utc_clock() -> Iterator[None]:
    """Local time is UTC while the test runs (the session browser shows dates in local time)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_session_browser_search(snap_compare, utc_clock: None) -> None:
    with SessionStore.open() as store:
        seed_sessions(store)

    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionBrowser), "the session browser")
        browser = pilot.app.screen
        assert isinstance(browser, SessionBrowser)
        browser.filter_input.cursor_blink = False
        await pilot.press(*"cache")
        await wait_until(pilot, lambda: browser.shown_query == "cache", "the search results")
        assert sum(row.hit is not None for row in browser.rows) >= 2
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)

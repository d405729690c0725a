"""Costs in the TUI: each answer's cost in the stats bar and stored with its figures (as `ask --session` does),
prices and context sizes in the picker, each session's total in the browser, cost per target in the race."""

from __future__ import annotations

import pytest

from botticelli.catalog import Cost
from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from botticelli.tui.widgets.stats_bar import StatsBar
from helpers_bench import write_config

from .app_helpers import send, wait_until

SIZE = (120, 40)
PRICE = {"input": 1000, "output": 2000}
"""Dollars per 1M tokens: dear enough that a short answer shows four significant digits."""


def bar_text(app: BotticelliApp) -> str:
    return app.chat.query_one(StatsBar).render_content().plain


def stored_stats() -> dict[str, object]:
    with SessionStore.open() as store:
        (session,) = store.list_sessions()
        answer = store.messages(session.id)[-1]
    assert answer.role == "assistant" and answer.stats is not None
    return answer.stats


async def test_an_answers_cost_is_shown_in_the_stats_bar_and_stored_with_its_figures() -> None:
    write_config({"demo": {"prices": {"demo-fast": PRICE}}})
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello [[tokens:30]] [[tps:5000]]")
        await wait_until(pilot, lambda: not app.sessions.recording, "the answer's end")
        await app.sessions.flush()
        bar = app.chat.query_one(StatsBar)
        assert bar.cost is not None and bar.cost.usd > 0
        assert bar.cost.label() in bar_text(app) and bar.cost.label().startswith(("$", "~$"))
        stats = stored_stats()
        assert stats["completion_tokens"] == 30
        assert stats["cost_usd"] == bar.cost.usd and stats["cost_estimated"] == bar.cost.estimated
        prompt_tokens = (bar.cost.usd * 1e6 - 30 * PRICE["output"]) / PRICE["input"]
        assert prompt_tokens == pytest.approx(round(prompt_tokens)) and prompt_tokens >= 1  # tokens × price


async def test_no_price_no_cost_in_the_bar_nor_in_the_store() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello [[tokens:30]] [[tps:5000]]")
        await wait_until(pilot, lambda: not app.sessions.recording, "the answer's end")
        await app.sessions.flush()
        assert app.chat.query_one(StatsBar).cost is None and "$" not in bar_text(app)
        assert "cost_usd" not in stored_stats()


async def test_the_bar_marks_an_estimated_cost_and_forgets_it_on_a_new_chat() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello [[tokens:5]] [[tps:5000]]")
        bar = app.chat.query_one(StatsBar)
        bar.finish("done", app.chat.exchanges[-1].figures, cost=Cost(0.00012, estimated=True))
        assert "~$0.00012" in bar_text(app)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: bar.state == "idle", "the new chat")
        assert "$" not in bar_text(app)

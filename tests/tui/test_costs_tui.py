"""Costs in the TUI: each answer's cost in the stats bar and stored with its figures (as `ask --session` does),
prices and context sizes in the picker, each session's total in the browser, cost per target in the race."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widgets import DataTable, OptionList

from botticelli.bench.runner import targets_from_labels
from botticelli.catalog import Cost, total_cost
from botticelli.config import load_config
from botticelli.providers.types import ModelInfo
from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from botticelli.tui.race_demo import RaceHostApp
from botticelli.tui.screens.race import RaceScreen
from botticelli.tui.screens.sessions import SessionBrowser
from botticelli.tui.widgets.race_summary import COST_COLUMN, RaceSummary
from botticelli.tui.widgets.stats_bar import StatsBar
from helpers_bench import write_config

from .app_helpers import picker_of, send, settle_picker, wait_until

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


# -- the picker: context size, vision, price ------------------------------------------------------------------


def model_labels(app: BotticelliApp, profile: str = "demo") -> dict[str, str]:
    picker = picker_of(app)
    return {child.data.model: str(child.label) for child in picker._profile_nodes[profile].children
            if child.data is not None and child.data.model}


async def test_the_picker_shows_context_size_vision_and_price_per_model() -> None:
    write_config({"demo": {"prices": {"demo-fast": {"input": 0.5, "output": 1.25}}}})
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle_picker(pilot)
        shown = model_labels(app)
        assert shown["demo-fast"].endswith("demo-fast 131k $0.50/1.25")  # config price
        # built-in Groq table; the context size makes room for the price in a narrow pane
        assert shown["openai/gpt-oss-20b"].endswith("openai/gpt-oss-20b $0.075/0.30")
        assert shown["demo-slow"].endswith("demo-slow 131k")  # no price known: none shown
        picker = picker_of(app)
        listed = picker.model_list("demo")
        assert listed is not None
        seeing = ModelInfo("demo-fast", context_window=1_048_576, input_modalities=("text", "image"))
        picker._lists["demo"] = replace(listed, info={**listed.info, "demo-fast": seeing})
        picker._fill("demo")
        assert model_labels(app)["demo-fast"].endswith("demo-fast 1M img $0.50/1.25")
        picker.focus()
        picker.move_cursor(picker._profile_nodes["demo"].children[0])
        await wait_until(pilot, lambda: str(picker.border_subtitle) == "1M img $0.50/$1.25 per 1M", "the details")


# -- the session browser: each session's total ----------------------------------------------------------------


async def test_the_session_browser_shows_each_sessions_total_cost() -> None:
    write_config({"demo": {"prices": {"demo-fast": PRICE}}})
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first [[tokens:10]] [[tps:5000]]")
        await send(pilot, "second [[tokens:20]] [[tps:5000]]")
        await wait_until(pilot, lambda: not app.sessions.recording, "the answers' ends")
        await app.sessions.flush()
        with SessionStore.open() as store:
            (session,) = store.list_sessions()
            answers = [m.stats for m in store.messages(session.id) if m.role == "assistant"]
            unpriced = store.create_session(profile="demo", model="demo-slow")
            store.add_message(unpriced.id, "user", "no price here")
        total = total_cost(answers)
        assert total is not None and len(answers) == 2
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionBrowser), "the session browser")
        browser = app.screen
        assert isinstance(browser, SessionBrowser)
        await wait_until(pilot, lambda: browser.loaded > 0, "the session list")
        options = browser.query_one(OptionList)
        shown = {str(options.get_option_at_index(i).id): str(options.get_option_at_index(i).prompt)
                 for i in range(options.option_count)}
        assert shown[session.id].rstrip().endswith(total.label())
        assert "$" not in shown[unpriced.id]
        assert "Cost" in str(browser.header.render())


# -- the race summary: cost per target ------------------------------------------------------------------------


async def test_the_race_summary_shows_cost_per_run_for_each_priced_target() -> None:
    write_config({"demo": {"prices": {"demo-fast": PRICE}}})
    config = load_config()
    targets = targets_from_labels(config, ["demo:demo-fast", "demo:demo-slow"])
    app = RaceHostApp(lambda: RaceScreen(config, targets, "[[tokens:20]] [[tps:5000]] Hi."))  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.race.result is not None, "the race's end")
        result = app.race.result
        assert result is not None
        summary = app.race.query_one(RaceSummary)
        table = summary.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2, "the summary table")
        column = -1
        assert str(table.ordered_columns[column].label) == COST_COLUMN
        fast = str(table.get_row("demo:demo-fast")[column])
        (run,) = result.runs_of("demo:demo-fast")
        assert run.stats is not None and run.stats.completion_tokens == 20
        assert fast.startswith(("$", "~$")) and float(fast.lstrip("~$")) >= 20 * PRICE["output"] / 1e6
        assert str(table.get_row("demo:demo-slow")[column]) == "—"  # no price known

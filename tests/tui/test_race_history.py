"""Race history in the race screen: f5 lists the stored races (date, targets, winner), enter shows one as it
finished (table, bars, per-run chart), `r` races it again with the same prompt and targets; a snapshot."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from botticelli.bench.runner import targets_from_labels
from botticelli.config import load_config
from botticelli.history.demo import seed_history
from botticelli.sessions import SessionStore
from botticelli.tui.race_demo import RaceHostApp, still_inputs
from botticelli.tui.screens.race import RaceScreen
from botticelli.tui.screens.race_history import RaceHistoryScreen
from botticelli.tui.widgets.race_runs_chart import RaceRunsChart
from botticelli.tui.widgets.race_summary import RaceBars, RaceSummary
from helpers_speed import seed_race
from tui.app_helpers import wait_until

SIZE = (120, 40)
EVIL = "\x1b]52;c;cHduZWQ=\x07[b]x[/b]"


def host(**kw: object) -> RaceHostApp:
    config = load_config()
    targets = targets_from_labels(config, ["demo:demo-fast", "demo:demo-slow"])
    return RaceHostApp(lambda: RaceScreen(config, targets, "Say hi.", **kw))  # type: ignore[arg-type]


def seed_two_races() -> None:
    with SessionStore.open() as store:
        seed_race(store, "older", "2026-12-01T09:00:00Z", "Name a colour.",
                  [("demo:demo-fast", 1, 0.2, 800.0), ("demo:demo-slow", 1, 0.8, 60.0),
                   ("demo:demo-fast", 2, 0.3, 700.0), ("demo:demo-slow", 2, 0.9, 50.0)])
        seed_race(store, "newer", "2026-12-03T17:45:00Z", f"Evil {EVIL} prompt",
                  [("demo:demo-slow", 1, 0.5, 90.0), ("gone:model", 1, None, None)])


async def open_history(pilot) -> RaceHistoryScreen:
    await pilot.pause()
    await pilot.press("f5")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RaceHistoryScreen), "the race history")
    history = pilot.app.screen
    await wait_until(pilot, lambda: history.loaded, "the stored races")
    return history


async def test_history_lists_stored_races_and_opens_one_as_it_finished() -> None:
    seed_two_races()
    app = host(store_results=False)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        table = history.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][:4] == ["2026-12-03 17:45", "demo:demo-slow vs gone:model", "—", "1"]
        assert rows[0][4] == "Evil [b]x[/b] prompt"  # escapes stripped, markup shown as text
        assert rows[1][:4] == ["2026-12-01 09:00", "demo:demo-fast vs demo:demo-slow", "★ demo:demo-fast", "2"]

        await pilot.press("down", "enter")
        screen = app.race
        summary = screen.query_one(RaceSummary)
        await wait_until(pilot, lambda: summary.winner == "demo:demo-fast", "the stored race shown")
        caption = str(summary.query_one("#race-caption", Static).render())
        assert "stored race of 2026-12-01 09:00 UTC · 2 runs each" in caption
        cells = [str(c) for c in summary.query_one(DataTable).get_row("demo:demo-fast")]
        assert cells[2:5] == ["2/2", "0.250 (0.200–0.300)", "750 (700–800)"]
        bars = summary.query_one(RaceBars).rows
        assert [(b.label, b.decode_tps) for b in bars] == [("demo:demo-fast", 750.0), ("demo:demo-slow", 55.0)]
        chart = summary.query_one(RaceRunsChart)
        assert chart.points == {"demo:demo-fast": [(1, 0.2, 800.0), (2, 0.3, 700.0)],
                                "demo:demo-slow": [(1, 0.8, 60.0), (2, 0.9, 50.0)]}
        assert not chart.display
        await pilot.press("f6")
        assert chart.display and not summary.query_one(RaceBars).display
        assert "decode tok/s per run" in chart.plt.build()
        assert screen.prompt_input.value == "Name a colour."
        assert sorted(screen.target_list.selected) == ["demo:demo-fast", "demo:demo-slow"]


async def test_race_again_runs_the_same_prompt_and_targets() -> None:
    with SessionStore.open() as store:
        seed_race(store, "once", "2026-12-02T10:00:00Z", "[[tokens:20]] Say hello.",
                  [("demo:demo-slow", 1, 0.8, 60.0), ("demo:demo-fast", 1, 0.2, 800.0)])
    app = host(store_results=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("r")
        screen = app.race
        await wait_until(pilot, lambda: screen.result is not None and len(screen.result.runs) == 2, "the new race")
        result = screen.result
        assert result.plan.prompt == "[[tokens:20]] Say hello."
        assert sorted(result.plan.labels) == ["demo:demo-fast", "demo:demo-slow"] and result.plan.runs == 1
        assert all(r.ok for r in result.runs)


async def test_an_empty_history_says_so() -> None:
    app = host(store_results=False)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        assert "No stored races yet" in str(history.query_one("#race-history-hint", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RaceScreen), "back to the race")


def test_race_history_snapshot(snap_compare) -> None:
    with SessionStore.open() as store:
        seed_history(store, answers=0)

    async def run_before(pilot) -> None:
        await pilot.pause()
        still_inputs(pilot.app.race)
        await open_history(pilot)
        await pilot.pause()

    assert snap_compare(host(store_results=False), terminal_size=SIZE, run_before=run_before)


def test_stored_race_snapshot(snap_compare) -> None:
    with SessionStore.open() as store:
        seed_history(store, answers=0)

    async def run_before(pilot) -> None:
        await pilot.pause()
        still_inputs(pilot.app.race)
        await open_history(pilot)
        await pilot.press("enter")
        summary = pilot.app.race.query_one(RaceSummary)
        await wait_until(pilot, lambda: summary.winner is not None, "the stored race")
        await pilot.press("f6")
        await pilot.pause()

    assert snap_compare(host(store_results=False), terminal_size=SIZE, run_before=run_before)

"""The race screen with Pilot: a race to the end with a winner, failures in their own columns, repeat with
medians, export, escape cancelling a race. Small answers and fast simulators; no timed assertions."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, SelectionList, Static
from textual.worker import WorkerState

from botticelli.bench.runner import targets_from_labels
from botticelli.config import load_config
from botticelli.sessions import SessionStore
from botticelli.tui.race_demo import DEMO_RATES, RaceHostApp, fixed_meters
from botticelli.tui.screens.race import RaceScreen
from botticelli.tui.widgets.race_column import RaceColumn
from botticelli.tui.widgets.race_summary import RaceBars, RaceSummary
from helpers_bench import simulated_profiles

SIZE = (120, 40)


def host(labels: list[str], prompt: str = "Say hi.", **kw: object) -> RaceHostApp:
    config = load_config()
    targets = targets_from_labels(config, labels)
    return RaceHostApp(lambda: RaceScreen(config, targets, prompt, **kw))  # type: ignore[arg-type]


async def finish(app: RaceHostApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_race_two_demo_targets_to_a_winner() -> None:
    # Fixed-rate meters: the winner must not depend on how loaded the machine running the tests is.
    app = host(["demo:demo-fast", "demo:demo-slow"], prompt="[[tokens:60]] Name a colour.",
               meter_factory=fixed_meters(DEMO_RATES))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.race
        assert screen.selected_targets()[0].label == "demo:demo-fast"
        await pilot.press("enter")  # the prompt input has focus
        await finish(app, pilot)
        result = screen.result
        assert result is not None and [r.ok for r in result.runs] == [True, True]
        fast, slow = screen.columns
        assert fast.state == slow.state == "done"
        assert fast.text and fast.text == slow.text
        assert fast.figures.server_tps == pytest.approx(800) and slow.figures.server_tps == pytest.approx(60)
        summary = screen.query_one(RaceSummary)
        assert not summary.has_class("-hidden")
        assert summary.winner == "demo:demo-fast"
        assert fast.winner and fast.has_class("-winner") and not slow.winner
        table = summary.query_one(DataTable)
        assert table.row_count == 2
        row = [str(cell) for cell in table.get_row("demo:demo-fast")]
        assert row[0] == "★" and row[1] == "demo:demo-fast" and re.fullmatch(r"[\d,.]+× / [\d.]+×", row[-1])
        assert [str(c) for c in table.get_row("demo:demo-slow")][-1] == "slowest / slowest"
        assert [b.label for b in summary.query_one(RaceBars).rows] == ["demo:demo-fast", "demo:demo-slow"]
        assert "demo:demo-fast wins" in str(screen.query_one("#race-status", Static).render())
    with SessionStore.open() as store:
        assert len(store.list_bench_runs(race_id=result.race_id)) == 2


async def test_an_answer_cut_by_max_tokens_is_marked_cut_in_its_column() -> None:
    app = host(["demo:demo-fast", "demo:demo-slow"], prompt="[[tokens:60]] [[tps:5000]] Name a colour.", max_tokens=5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await finish(app, pilot)
        assert [r.finish_reason for r in app.race.result.runs] == ["length", "length"]
        for column in app.race.columns:
            assert column.state == "done" and column.cut
            assert "done · cut" in str(column.border_subtitle)


async def test_failing_targets_show_their_error_and_never_stop_the_others() -> None:
    simulated_profiles()
    app = host(["quick:sim-quick", "flaky:sim-flaky", "groq:llama-3.1-8b-instant"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await finish(app, pilot)
        quick, flaky, groq = app.race.columns
        assert quick.state == "done" and quick.text
        assert flaky.state == "failed" and flaky.has_class("-failed")
        assert flaky.text.startswith("✗ rate limit · HTTP 429\n→ wait 0 s and try again\n")
        assert groq.state == "failed" and groq.text.endswith("no API key for profile 'groq'")
        assert groq.text.startswith("✗ auth\n→ set GROQ_API_KEY\n")
        table = app.race.query_one(DataTable)
        assert str(table.get_row("flaky:sim-flaky")[3]) == "✗ rate limit"
        assert app.race.summary.winner is None


async def test_a_cut_stream_shows_the_error_and_the_part_received() -> None:
    path = simulated_profiles()
    path.write_text(path.read_text() + """
[profiles.cutoff]
base_url = "http://sim.botticelli.invalid/v1"
simulated = true
default_model = "sim-cut"
headers = { "x-sim-tokens" = "12", "x-sim-tps" = "4000", "x-sim-fault" = "cut after=6" }
""")
    app = host(["quick:sim-quick", "cutoff:sim-cut"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.race.action_race()
        await finish(app, pilot)
        quick, cut = app.race.columns
        assert quick.state == "done"
        assert cut.state == "failed" and cut.text.startswith("✗ network\n→ ")
        head, _, received = cut.text.partition("\n\n— the part received —\n")
        assert "the connection was cut mid-stream" in head and received.strip()


async def test_keyless_profiles_are_listed_with_the_variable_to_set() -> None:
    app = host(["demo:demo-fast", "demo:demo-slow"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        options = app.race.query_one(SelectionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert prompts[0].startswith("demo:demo-fast")
        assert "groq:llama-3.1-8b-instant  set GROQ_API_KEY" in prompts
        assert any(p.startswith("huggingface:") and p.endswith("set HF_TOKEN or HUGGINGFACE_API_KEY") for p in prompts)


async def test_repeat_runs_warmup_and_rounds_with_medians() -> None:
    simulated_profiles()
    app = host(["quick:sim-quick", "steady:sim-steady"],
               meter_factory=fixed_meters({"sim-quick": (0.01, 4000.0), "sim-steady": (0.02, 2000.0)}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        repeat = app.race.query_one("#race-repeat", Input)
        repeat.value = "2"
        await pilot.press("ctrl+g")
        await finish(app, pilot)
        result = app.race.result
        assert (len(result.warmups), len(result.runs), result.plan.runs) == (2, 4, 2)
        quick, steady = app.race.columns
        assert quick.run_label == "median of 2" and quick.figures.decode_tps == pytest.approx(4000)
        assert steady.figures.ttft_s == pytest.approx(0.02)
        assert app.race.summary.winner == "quick:sim-quick"
        assert [str(c) for c in app.race.query_one(DataTable).get_row("quick:sim-quick")][2] == "2/2"


async def test_only_one_target_is_refused() -> None:
    app = host(["demo:demo-fast"])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.race.result is None and not app.race.racing
        assert any("Choose 2 to 4 targets" in n.message for n in app._notifications)


async def test_export_csv_and_json_write_files(isolated_dirs: Path) -> None:
    simulated_profiles()
    app = host(["quick:sim-quick", "steady:sim-steady"])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert any("Nothing to export" in n.message for n in app._notifications)
        await pilot.press("ctrl+r")
        await finish(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        csv_path = app.race.last_export
        await pilot.press("ctrl+o")
        await pilot.pause()
        json_path = app.race.last_export
        assert any(n.message == str(csv_path) for n in app._notifications)
    assert csv_path.parent == isolated_dirs / "data" / "races" and csv_path.suffix == ".csv"
    rows = list(csv.reader(csv_path.open()))
    assert rows[0][:2] == ["target", "run"] and {r[0] for r in rows[1:]} == {"quick:sim-quick", "steady:sim-steady"}
    assert json.loads(json_path.read_text())["runs_per_target"] == 1


async def test_model_text_is_shown_literally_without_escapes() -> None:
    simulated_profiles()
    prompt = "[[echo]] [bold]not markup[/bold] \x1b]0;title\x07done"
    app = host(["quick:sim-quick", "steady:sim-steady"], prompt=prompt)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.race.action_race()
        await finish(app, pilot)
        column = app.race.columns[0]
        assert column.text == "[bold]not markup[/bold] done"
        body = column.query_one(".race-column--body", Static)
        assert "[bold]not markup[/bold] done" in str(body.render())


async def test_escape_cancels_the_race_and_closes_the_screen() -> None:
    app = host(["demo:demo-fast", "demo:demo-slow"], prompt="[[tokens:400]] Tell a long story.")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.race
        screen.action_race()
        while not any(c.state == "streaming" for c in screen.query(RaceColumn)):
            await pilot.pause(0.05)
        worker = screen._worker
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RaceScreen)
        await app.workers.wait_for_complete()
        assert worker.state == WorkerState.CANCELLED
        assert screen.result is None and screen.runner.live == {}

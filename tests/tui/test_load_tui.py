"""The Load screen with Pilot: opened from the chat (f4 and the palette entry), it charts the stored sweep's
curves per target and lists every level; [ and ] move between sweeps, l changes the latency charted, r reads
the folder again, escape goes back; hostile target names stay literal; and snapshots of a stored sweep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.app import App

from botticelli.load.store import loads_dir
from botticelli.tui.app import BotticelliApp
from botticelli.tui.commands import CHAT_ACTIONS
from botticelli.tui.screens.load import LoadScreen
from botticelli.tui.widgets.load_chart import LoadChart
from botticelli.tui.widgets.load_table import LoadTable
from tui.app_helpers import wait_until, when_ready

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "load_sweep.json"
"""A real sweep: two simulator models, concurrency 1-16, the simulator's capacity 1,500 tok/s."""
EVIL = "\x1b]52;c;cHduZWQ=\x07[bold red]x[/]"


class LoadHost(App[None]):
    """Shows one Load screen."""

    def __init__(self, screen: LoadScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


def store_fixture(name: str = "20261204-120000-fixture.json", **changes: object) -> Path:
    folder = loads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if changes:
        data = json.loads(FIXTURE.read_text())
        data.update(changes)
        path.write_text(json.dumps(data))
    else:
        shutil.copy(FIXTURE, path)
    return path


def loaded(screen: LoadScreen) -> bool:
    return screen.sweeps is not None and not screen.workers


def status(screen: LoadScreen) -> str:
    return str(screen.query_one("#load-status").render())


async def test_f4_opens_the_load_screen_and_r_reads_new_sweeps() -> None:
    async with BotticelliApp().run_test(size=(120, 36)) as pilot:
        await when_ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoadScreen), "the load screen")
        screen = pilot.app.screen
        assert isinstance(screen, LoadScreen)
        await wait_until(pilot, lambda: loaded(screen), "the sweeps")
        assert status(screen).startswith("No load sweeps yet: run `botticelli load")
        assert "no load sweeps yet" in screen.query_one(LoadChart).plt.build()

        store_fixture()
        await pilot.press("r")
        await wait_until(pilot, lambda: loaded(screen) and screen.sweeps, "the stored sweep")
        assert status(screen).startswith("Sweep 1 of 1 · 20261204-120000-fixture · concurrency 1,2,4,8,16 · "
                                         "2 targets · TTFT p50 (s)")
        chart = screen.query_one(LoadChart)
        assert chart.targets_drawn == 2
        built = chart.plt.build()
        assert "sim:m-fast" in built and "sim:m-slow" in built and "output tok/s" in built
        table = screen.query_one(LoadTable)
        assert table.row_count == 10
        assert [str(c) for c in table.get_row_at(0)][:4] == ["sim:m-fast", "1", "16/16", ""]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, LoadScreen), "the chat again")


async def test_brackets_move_between_sweeps_and_l_changes_the_latency() -> None:
    store_fixture()
    store_fixture("20261205-090000-second.json", id="20261205-090000-second", levels=[1, 2],
                  targets=[json.loads(FIXTURE.read_text())["targets"][0]])
    app = LoadHost(LoadScreen())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, LoadScreen)
        await wait_until(pilot, lambda: loaded(screen) and screen.sweeps, "the sweeps")
        assert status(screen).startswith("Sweep 1 of 2 · 20261205-090000-second")  # newest first
        assert screen.query_one(LoadChart).targets_drawn == 1
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: screen.index == 1, "the older sweep")
        assert status(screen).startswith("Sweep 2 of 2 · 20261204-120000-fixture")
        assert screen.query_one(LoadChart).targets_drawn == 2
        await pilot.press("left_square_bracket")  # no older one: stays
        assert screen.index == 1
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.index == 0, "the newer sweep")
        await pilot.press("l")
        await wait_until(pilot, lambda: screen.latency == "ttft_p99", "TTFT p99")
        assert "TTFT p99 (s) against output tok/s" in screen.query_one(LoadChart).plt.build()


async def test_damaged_files_are_skipped_and_names_stay_literal() -> None:
    folder = loads_dir()
    folder.mkdir(parents=True)
    (folder / "20261206-000000-broken.json").write_text("{not json")
    data = json.loads(FIXTURE.read_text())
    data["targets"][0]["target"] = f"evil:m{EVIL}"
    data["targets"][1]["levels"][0]["output_tps"] = "fast"  # a wrong type: that figure is left out
    (folder / "20261205-000000-evil.json").write_text(json.dumps(data))
    app = LoadHost(LoadScreen())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, LoadScreen)
        await wait_until(pilot, lambda: loaded(screen) and screen.sweeps, "the sweeps")
        assert len(screen.sweeps or []) == 1
        first = [str(c) for c in screen.query_one(LoadTable).get_row_at(0)]
        assert first[0] == "evil:m[bold red]x[/]"  # escapes stripped, the markup left as text
        assert first[5] == "298"
        assert [str(c) for c in screen.query_one(LoadTable).get_row_at(5)][5] == "—"
        assert "\x1b]52" not in screen.query_one(LoadChart).plt.build()


def test_the_palette_lists_load_sweeps() -> None:
    entry = next(e for e in CHAT_ACTIONS if e.action == "app.open_load")
    assert entry.key == "f4" and entry.title.startswith("Load sweeps")
    assert any(b.key == "f4" and b.action == "open_load" and b.show for b in BotticelliApp.BINDINGS)


def test_load_screen_snapshot(snap_compare) -> None:
    store_fixture()

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: loaded(pilot.app.screen) and pilot.app.screen.sweeps, "the sweep")
        await pilot.pause()

    assert snap_compare(LoadHost(LoadScreen()), terminal_size=(110, 34), run_before=run_before)


def test_load_screen_snapshot_at_80x24(snap_compare) -> None:
    store_fixture()

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: loaded(pilot.app.screen) and pilot.app.screen.sweeps, "the sweep")
        await pilot.press("l", "l")
        await pilot.pause()

    assert snap_compare(LoadHost(LoadScreen()), terminal_size=(80, 24), run_before=run_before)

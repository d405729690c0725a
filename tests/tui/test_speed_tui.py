"""The Speed screen with Pilot: opened from the chat (f3 and the palette entry), its table shows the seeded
figures, space picks the charted targets, w and s change the window and source, escape goes back; and a
snapshot of the screen with two targets."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App
from textual.widgets import Static, TabbedContent

from botticelli.history.demo import END, seed_history
from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from botticelli.tui.commands import CHAT_ACTIONS
from botticelli.tui.screens.speed import SpeedScreen
from botticelli.tui.widgets.speed_charts import SpeedCharts
from botticelli.tui.widgets.speed_table import SpeedTable
from helpers_speed import Answer, seed_answers, seed_race
from tui.app_helpers import wait_until, when_ready

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
GROQ = "groq:llama-3.1-8b-instant"
HF = "huggingface:meta-llama/Llama-3.3-70B-Instruct:cerebras"
EVIL = "\x1b]52;c;cHduZWQ=\x07[bold red]x[/]"


class SpeedHost(App[None]):
    """Shows one Speed screen."""

    def __init__(self, screen: SpeedScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


def seed_two_targets() -> None:
    """Groq: TTFT 0.1–1.0 s, decode 100–1,000 tok/s on Dec 3; HF: three answers on Dec 4, one rate-limited."""
    with SessionStore.open() as store:
        seed_answers(store, [
            *(Answer(GROQ, f"2026-12-03T10:{i:02d}:00Z", ttft_s=i / 10, decode_tps=100.0 * i) for i in range(1, 11)),
            Answer(HF, "2026-12-04T08:00:00Z", ttft_s=0.5, decode_tps=2000.0),
            Answer(HF, "2026-12-04T09:00:00Z", ttft_s=0.7, decode_tps=1000.0),
            Answer(HF, "2026-12-04T09:30:00Z", error="rate_limit"),
            Answer(GROQ, "2026-11-10T09:00:00Z", ttft_s=9.0, decode_tps=1.0),
        ])


def loaded(screen: SpeedScreen) -> bool:
    """The screen shows the history of its current window and source."""
    return screen.history is not None and screen.history.window == screen.current_window() and not screen.workers


def cells(screen: SpeedScreen) -> dict[str, list[str]]:
    table = screen.query_one(SpeedTable)
    return {f.target: [str(c) for c in table.get_row(f.target)] for f in table.figures}


async def test_f3_opens_the_speed_screen_with_the_seeded_figures() -> None:
    seed_two_targets()
    async with BotticelliApp().run_test(size=(120, 36)) as pilot:
        await when_ready(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SpeedScreen), "the speed screen")
        screen = pilot.app.screen
        assert isinstance(screen, SpeedScreen)
        screen.now = NOW
        screen.action_reload()
        await wait_until(pilot, lambda: loaded(screen), "the history")
        assert screen.history.window.since == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        rows = cells(screen)
        assert rows[GROQ][:8] == ["✓", GROQ, "10", "10", "550ms", "910ms", "991ms", "550"]
        assert rows[HF][1:5] == ["huggingface…/Llama-3.3-70B-Instruct:cerebras", "3", "2", "600ms"]
        assert rows[HF][-1] == "rate_limit 1"
        status = str(screen.query_one("#speed-status", Static).render())
        assert status.startswith("Last 7d · chat + race · 13 answers · 2 targets")
        assert screen.query_one(SpeedCharts).targets == (GROQ, HF)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SpeedScreen), "the chat again")


async def test_space_picks_the_charted_targets_and_keys_change_window_and_source() -> None:
    seed_two_targets()
    with SessionStore.open() as store:
        seed_race(store, "r1", "2026-12-04T11:00:00Z", "p", [("demo:demo-fast", 1, 0.1, 900.0)])
    app = SpeedHost(SpeedScreen(now=NOW, picked=[GROQ]))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, SpeedScreen)
        await wait_until(pilot, lambda: loaded(screen), "the history")
        charts = screen.query_one(SpeedCharts)
        assert charts.targets == (GROQ,)
        table = screen.query_one(SpeedTable)
        assert [f.target for f in table.figures] == ["demo:demo-fast", GROQ, HF]
        table.move_cursor(row=2)
        await pilot.press("space")
        await wait_until(pilot, lambda: charts.targets == (GROQ, HF), "HF charted too")
        assert cells(screen)[HF][0] == "✓"
        await pilot.press("enter")  # enter toggles as well
        await wait_until(pilot, lambda: charts.targets == (GROQ,), "HF dropped")

        await pilot.press("s")  # all -> chat: the race's target goes
        await wait_until(pilot, lambda: loaded(screen) and screen.source == "chat", "chat only")
        assert [f.target for f in table.figures] == [GROQ, HF]
        await pilot.press("w")  # 7d -> 30d
        await wait_until(pilot, lambda: loaded(screen) and screen.window_name == "30d", "30 days")
        assert cells(screen)[GROQ][2] == "11"  # the November answer is back

        await pilot.press("h")
        assert screen.query_one(TabbedContent).active == "speed-tab-hist"
        plot = charts.plot("hist")
        await wait_until(pilot, lambda: "TTFT (s): how many answers" in plot.plt.build(), "the histogram")


async def test_an_empty_store_says_what_to_do_and_target_names_stay_literal() -> None:
    app = SpeedHost(SpeedScreen(now=NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SpeedScreen)
        await wait_until(pilot, lambda: loaded(screen), "the history")
        assert "nothing measured yet" in str(screen.query_one("#speed-status", Static).render())
        with SessionStore.open() as store:
            seed_answers(store, [Answer(f"evil:m{EVIL}", "2026-12-04T08:00:00Z")])
        await pilot.press("r")
        await wait_until(pilot, lambda: loaded(screen) and screen.figures, "the evil row")
        (name,) = [row[1] for row in cells(screen).values()]
        assert name == "evil:m[bold red]x[/]"  # escapes stripped, the markup left as text
        assert "\x1b" not in screen.query_one(SpeedCharts).plot("decode").plt.build().replace("\x1b[", "")


def test_the_palette_lists_speed_history() -> None:
    entry = next(e for e in CHAT_ACTIONS if e.action == "app.open_speed")
    assert entry.key == "f3" and entry.title.startswith("Speed history")
    assert any(b.key == "f3" and b.action == "open_speed" and b.show for b in BotticelliApp.BINDINGS)


def test_speed_screen_snapshot_two_targets(snap_compare) -> None:
    with SessionStore.open() as store:
        seed_history(store, answers=300, races=False)

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: loaded(pilot.app.screen), "the history")
        await pilot.pause()

    assert snap_compare(SpeedHost(SpeedScreen(now=END)), terminal_size=(110, 36), run_before=run_before)


def test_speed_screen_snapshot_at_80x24(snap_compare) -> None:
    with SessionStore.open() as store:
        seed_history(store, answers=120, races=False)

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: loaded(pilot.app.screen), "the history")
        await pilot.press("t")
        await pilot.pause()

    assert snap_compare(SpeedHost(SpeedScreen(now=END, window="all")), terminal_size=(80, 24),
                        run_before=run_before)


async def test_a_read_finishing_after_the_screen_closed_is_dropped() -> None:
    seed_two_targets()
    app = SpeedHost(SpeedScreen(now=NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SpeedScreen)
        await wait_until(pilot, lambda: loaded(screen), "the history")
        history, figures = screen.history, screen.figures
        screen.dismiss(None)
        await wait_until(pilot, lambda: not screen.is_attached, "the screen closed")
        screen._show(history, figures)  # what a worker thread finishing late calls
        screen._failed("error: the store went away")
        await pilot.pause()
        assert app.return_code is None and not app.screen.query("Toast")


async def test_a_cached_hf_catalogue_gives_the_charts_their_published_reference_lines(fixtures_dir) -> None:
    import json

    from botticelli.catalog.cache import default_cache
    from botticelli.config import load_config
    from botticelli.providers.models import parse_models

    seed_two_targets()
    config = load_config()
    payload = json.loads((fixtures_dir / "hf_router_models_sample.json").read_text(encoding="utf-8"))
    default_cache().save(config.profile("huggingface"), parse_models(payload))
    async with SpeedHost(SpeedScreen(now=NOW, config=config)).run_test(size=(120, 36)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, SpeedScreen)
        await wait_until(pilot, lambda: loaded(screen), "the history")
        assert screen.references["huggingface:deepseek-ai/DeepSeek-R1:together"]["decode_tps"] == 48.25
        assert "huggingface:deepseek-ai/DeepSeek-R1:deepinfra" not in screen.references  # not live: no line

"""Every screen and dialog works at 80×24 (item 14): what must be reachable is on screen and not covered,
and a snapshot of each (chat, settings, race, sessions, help) shows the whole of it.

Update the pictures with `pytest tests/tui/test_80x24.py --snapshot-update` after looking at them.
"""

from __future__ import annotations

from textual.app import App
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, DataTable
from textual.widgets._footer import FooterKey

from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from botticelli.tui.deferred import _footer_drawn
from botticelli.tui.race_demo import RaceHostApp, demo_config, fixed_meters, still_inputs
from botticelli.tui.screens.help import HelpScreen
from botticelli.tui.screens.race import RaceScreen
from botticelli.tui.screens.sessions import SessionBrowser
from botticelli.tui.screens.settings import SettingsScreen
from botticelli.tui.sessions_demo import seed_sessions

from .app_helpers import prompt_of, send, settle_picker, wait_until, when_ready
from .test_snapshots import utc_clock  # noqa: F401  (a fixture)

SIZE = (80, 24)
RATES = {"demo-fast": (0.2, 800.0), "demo-slow": (0.8, 60.0)}


def reachable(app: App, widget: Widget) -> bool:
    """The widget lies inside the terminal and its middle is not covered by anything else."""
    region = widget.region
    if not region or region.right > app.size.width or region.bottom > app.size.height:
        return False
    hit, _ = app.screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    return hit is widget or widget in hit.ancestors


def footer_keys(app: App) -> dict[str, FooterKey]:
    return {key.key: key for key in app.screen.query(FooterKey) if key.display}


async def _ready(pilot: Pilot) -> None:
    await when_ready(pilot)
    prompt_of(pilot.app).cursor_blink = False  # type: ignore[arg-type]
    await settle_picker(pilot)


async def test_chat_footer_keeps_help_and_the_palette_whole() -> None:
    app = BotticelliApp(deterministic=True)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        keys = footer_keys(app)
        assert {"f1", "ctrl+p", "ctrl+b", "ctrl+q"} <= set(keys)
        for key in keys.values():
            assert reachable(app, key), key.key
        assert sum(key.region.width + 1 for key in keys.values()) <= SIZE[0] + 1  # no key cut at the edge
        assert not app.chat.picker.display  # narrow: the chat gets the width, ctrl+b brings the picker
        await pilot.press("ctrl+b")
        assert app.chat.picker.display and app.focused is app.chat.picker


async def test_a_fitted_footer_counts_as_drawn() -> None:
    """The work deferred to after the first frame waits for the footer's keys to be drawn: the keys the
    fitting footer leaves out (display off) must not make it wait for ever (well, MAX_WAITS refreshes)."""
    app = BotticelliApp(deterministic=True)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert any(not key.display for key in app.screen.query(FooterKey))
        assert _footer_drawn(app.chat)


async def test_settings_buttons_are_on_screen() -> None:
    app = BotticelliApp(deterministic=True)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), "the settings")
        await pilot.pause()
        for name in ("#save", "#cancel", "#temperature", "#max-tokens", "#system-prompt"):
            assert reachable(app, app.screen.query_one(name)), name
        await pilot.click("#cancel")
        await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen), "the dialog to close")


def race_app() -> RaceHostApp:
    return RaceHostApp(lambda: RaceScreen(
        demo_config(), prompt="Explain in about 200 words how a CPU cache works.", max_tokens=60,
        meter_factory=fixed_meters(RATES), store_results=False,
    ))


async def run_race(pilot: Pilot) -> None:
    await pilot.pause()
    still_inputs(pilot.app.race)  # type: ignore[attr-defined]
    pilot.app.race.action_race()  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await wait_until(pilot, lambda: pilot.app.race.result is not None, "the race's result")  # type: ignore[attr-defined]
    await pilot.pause()


async def test_race_buttons_columns_and_table_are_on_screen() -> None:
    app = race_app()
    async with app.run_test(size=SIZE) as pilot:
        await run_race(pilot)
        screen = app.race
        for button in screen.query(Button):
            assert reachable(app, button), button.id
        assert reachable(app, screen.query_one("#race-repeat"))
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        # the header and both rows show, below the columns, above the footer
        assert table.region.height >= 3 and table.region.bottom <= SIZE[1] - 1
        for column in screen.columns:
            assert column.region.height >= 5 and reachable(app, column)
        keys = footer_keys(app)
        assert {"ctrl+r", "ctrl+g", "escape", "ctrl+p"} <= set(keys)
        assert all(reachable(app, key) for key in keys.values())


def test_chat_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await send(pilot, "Show me how decode speed is computed")
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_settings_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen), "the settings")
        pilot.app.screen.query_one("#system-prompt").cursor_blink = False
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_race_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await run_race(pilot)
        for column in pilot.app.race.columns:  # type: ignore[attr-defined]
            column.query_one(VerticalScroll).scroll_home(animate=False)  # where streaming left it varies
        await pilot.pause()

    assert snap_compare(race_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_80x24(snap_compare, utc_clock: None) -> None:  # noqa: F811
    with SessionStore.open() as store:
        seed_sessions(store)

    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionBrowser), "the session browser")
        browser = pilot.app.screen
        assert isinstance(browser, SessionBrowser)
        browser.filter_input.cursor_blink = False
        await wait_until(pilot, lambda: browser.rows, "the sessions")
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)


def test_help_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help")
        await pilot.pause()

    assert snap_compare(BotticelliApp(deterministic=True), terminal_size=SIZE, run_before=run_before)

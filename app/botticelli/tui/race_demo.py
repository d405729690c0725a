"""A bare host app for the race screen (tests, snapshots) and the README screenshot `screenshots/08-race.svg`.

`capture_race_screenshot(path)` races the two offline demo models with frozen figures, so the picture is the
same on every machine: `await capture_race_screenshot("screenshots/08-race.svg")`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from textual.app import App
from textual.widgets import Input

from botticelli.chat.meters import SteppedMeter
from botticelli.config import Config, builtin_profiles
from botticelli.stats import SpeedMeter
from botticelli.targets import Target
from botticelli.tui.screens.race import RaceScreen

SCREENSHOT_SIZE = (120, 40)
DEMO_RATES: dict[str, tuple[float, float]] = {"demo-fast": (0.2, 800.0), "demo-slow": (0.8, 60.0)}
"""(TTFT s, tok/s) the screenshot shows for each demo model: the simulator's own speeds."""


class FixedRateMeter(SteppedMeter):
    """A meter whose clock moves a fixed TTFT to the first delta, then 1/tps per delta (one token each).

    The figures it reports are the same on every run, whatever the machine's load: snapshots and screenshots.
    """

    finish_step_s = 0.0

    def __init__(self, ttft_s: float, tps: float) -> None:
        super().__init__(ttft_s=ttft_s, token_s=1.0 / tps)

    def step(self, text: str) -> float:
        return self._token_s


def fixed_meters(rates: Mapping[str, tuple[float, float]]) -> Callable[[Target], SpeedMeter]:
    """A meter factory: `FixedRateMeter(*rates[model])` per target (unknown models: 0.5 s, 100 tok/s)."""
    def factory(target: Target) -> SpeedMeter:
        ttft, tps = rates.get(target.model, (0.5, 100.0))
        return FixedRateMeter(ttft, tps)

    return factory


class RaceHostApp(App[None]):
    """An app whose only job is to show one race screen (built by `make_screen` at mount)."""

    TITLE = "Botticelli · race"

    def __init__(self, make_screen: Callable[[], RaceScreen]) -> None:
        super().__init__()
        self._make_screen = make_screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())

    @property
    def race(self) -> RaceScreen:
        screen = self.screen
        assert isinstance(screen, RaceScreen)
        return screen


def demo_config() -> Config:
    """Only the built-in profiles, the demo as default: what a fresh install sees."""
    return Config(path=Path("config.toml"), profiles=builtin_profiles(), default_profile="demo")


def still_inputs(screen: RaceScreen) -> None:
    """No blinking cursors, so two pictures of the same state are identical."""
    for widget in screen.query(Input):
        widget.cursor_blink = False


async def capture_race_screenshot(path: str | Path, *, max_tokens: int = 120) -> Path:
    """Race demo-fast against demo-slow (offline, about 3 s) and save the finished screen as SVG at `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    app = RaceHostApp(lambda: RaceScreen(
        demo_config(),
        prompt="Explain in about 200 words how a CPU cache works.",
        max_tokens=max_tokens,
        meter_factory=fixed_meters(DEMO_RATES),
        store_results=False,
    ))
    async with app.run_test(size=SCREENSHOT_SIZE) as pilot:
        await pilot.pause()
        still_inputs(app.race)
        app.race.action_race()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        saved = app.save_screenshot(filename=target.name, path=str(target.parent))
    return Path(saved)

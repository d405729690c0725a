"""A snapshot of the finished race screen: two simulated targets with frozen figures, and a failing one.

Deterministic: the answers come from the simulator (same prompt, same text), the figures from fixed-rate meters,
cursors do not blink. Update with `pytest tests/tui/test_race_snapshot.py --snapshot-update`.
"""

from __future__ import annotations

from botticelli.bench.runner import targets_from_labels
from botticelli.config import load_config
from botticelli.tui.race_demo import RaceHostApp, fixed_meters, still_inputs
from botticelli.tui.screens.race import RaceScreen
from helpers_bench import simulated_profiles

RATES = {"sim-quick": (0.2, 800.0), "sim-steady": (0.8, 60.0)}


def test_finished_race_snapshot(snap_compare) -> None:
    simulated_profiles(fast_tps=800, slow_tps=60, tokens=12)
    config = load_config()
    targets = targets_from_labels(config, ["quick:sim-quick", "steady:sim-steady", "flaky:sim-flaky"])
    app = RaceHostApp(lambda: RaceScreen(config, targets, "Explain in about 200 words how a CPU cache works.",
                                         meter_factory=fixed_meters(RATES), store_results=False))

    async def run_before(pilot) -> None:
        await pilot.pause()
        still_inputs(pilot.app.race)
        pilot.app.race.action_race()
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)

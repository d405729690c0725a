"""Speed meters for reproducible output: the clock moves by fixed steps, not with the wall clock."""

from __future__ import annotations

from botticelli.stats import SpeedFigures, SpeedMeter


class SteppedMeter(SpeedMeter):
    """A meter whose clock moves by fixed steps per event instead of with the wall clock.

    Used by the app's `deterministic` mode (snapshot tests, README screenshots): every run of the same prompt
    shows the same TTFT, tok/s and elapsed time. Server-reported timings are kept (the simulator's are exact).
    """

    def __init__(self, ttft_s: float = 0.2, token_s: float = 1 / 800) -> None:
        self._now = 0.0
        self._ttft_s = ttft_s
        self._token_s = token_s
        super().__init__(clock=self._read)

    def _read(self) -> float:
        return self._now

    def request_sent(self) -> None:
        self._now = 0.0
        super().request_sent()

    def on_text(self, text: str) -> None:
        if text:
            self._now += self._ttft_s if self.t_first is None else self.step(text)
        super().on_text(text)

    def step(self, text: str) -> float:
        """How far the clock moves for one delta after the first: one step per estimated token."""
        return self._token_s * max(1, round(len(text) / 4))

    def finish(self) -> SpeedFigures:
        self._now += self.finish_step_s
        return super().finish()

    finish_step_s = 0.001

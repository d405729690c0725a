"""One style for figures, waits and rate limits on every surface."""

from __future__ import annotations

import pytest

from botticelli import format as fmt
from botticelli.providers.types import RateLimitInfo
from botticelli.stats import SpeedFigures


@pytest.mark.parametrize(("value", "text"), [
    (0.21, "210ms"), (1.523, "1.52s"), (125, "2m05s"), (3900, "1h05m"), (None, "—"), (float("inf"), "—"),
])
def test_measured_durations(value: float | None, text: str) -> None:
    assert fmt.seconds(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (2.2, "2.2 s"), (3, "3 s"), (59, "59 s"), (100, "1 min 40 s"), (5400, "1 h 30 min"), (86399, "24 h"),
    (3 * 86400, "3 d"), (-5, "0 s"), (float("inf"), "a very long time"), (None, "—"),
])
def test_waits_are_in_human_units(value: float | None, text: str) -> None:
    assert fmt.wait(value) == text


def test_the_summary_line_is_the_same_style_as_the_bar_and_marks_a_cut_answer() -> None:
    figures = SpeedFigures(ttft_s=0.21, total_s=1.5, completion_tokens=128, tokens_exact=True, decode_tps=840.0,
                           server_tps=1010.0, queue_s=0.017)
    line = fmt.summary_line(figures)
    assert line == "TTFT 210ms · 840 tok/s · 128 tok · server 1,010 tok/s · queue 17ms · total 1.50s"
    assert fmt.summary_line(figures, "length").endswith("· cut (max tokens or context full)")
    estimated = SpeedFigures(ttft_s=0.2, total_s=1, completion_tokens=50, decode_tps=100.0)
    assert "~100 tok/s · ~50 tok" in fmt.summary_line(estimated)


def test_rate_limits_say_what_is_left_and_when_it_resets() -> None:
    info = RateLimitInfo(limit_requests=14400, limit_tokens=250000, remaining_requests=14399,
                         remaining_tokens=249811, reset_requests_s=6.0, reset_tokens_s=1.0)
    assert fmt.rate_limit_text(info) == ("14,399 requests left, resets in 6 s · "
                                         "249,811 tokens left, resets in 1 s")
    assert fmt.scarcest_limit(info) == "249,811 tokens left, resets in 1 s"  # 99.92 % < 99.99 % left
    assert fmt.rate_limit_text(RateLimitInfo()) is None

"""The load arithmetic: percentiles, per-level figures, errors with 429s apart, goodput against SLOs."""

from __future__ import annotations

import statistics

import pytest

from botticelli.load.metrics import ClientHealth, RequestRecord, Slo, level_metrics, parse_duration, percentile


def test_percentile_interpolates_linearly_between_ranks() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile(values, 99) == pytest.approx(9.91)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 10.0
    # the same method as statistics.quantiles(method="inclusive") (and numpy's default)
    assert percentile(values, 90) == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[8])


def test_percentile_edge_cases() -> None:
    assert percentile([], 50) is None
    assert percentile([0.25], 99) == 0.25
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def ok(sent: float, done: float, ttft: float, itl: float | None, tokens: int) -> RequestRecord:
    return RequestRecord(sent, done, ttft, itl, tokens)


def test_level_figures_from_records() -> None:
    records = [
        ok(0.0, 2.0, 0.2, 0.010, 100),
        ok(0.5, 3.0, 0.4, 0.020, 200),
        ok(1.0, 4.0, 1.5, 0.010, 100),  # misses the TTFT objective
        ok(1.5, 3.5, 0.3, 0.080, 50),  # misses the ITL objective
        RequestRecord(2.0, 2.1, error_kind="rate_limit", status=429),
        RequestRecord(2.0, 2.2, error_kind="rate_limit", status=429),
        RequestRecord(2.5, 2.6, error_kind="server", status=503),
        RequestRecord(2.5, 3.0, error_kind="network"),
    ]
    m = level_metrics("concurrency", 4, records, Slo(ttft_s=1.0, itl_s=0.050))
    assert m.duration_s == pytest.approx(4.0)  # first request sent (0.0) -> last answer complete (4.0)
    assert (m.requests, m.completed, m.failed) == (8, 4, 4)
    assert m.request_throughput == pytest.approx(4 / 4.0)
    assert m.output_tokens == 450
    assert m.output_tps == pytest.approx(450 / 4.0)  # failed requests' tokens never count
    assert m.rate_limited == 2
    assert m.errors == {"network": 1, "server": 1}  # 429s are counted apart
    assert m.good == 2 and m.goodput_rps == pytest.approx(2 / 4.0)
    assert m.ttft_s["p50"] == pytest.approx(0.35)
    assert m.e2e_s["p50"] == pytest.approx(2.25)  # e2e of 2.0, 2.5, 3.0, 2.0
    assert m.itl_s["p99"] == pytest.approx(percentile([0.01, 0.02, 0.01, 0.08], 99))


def test_goodput_needs_every_objective_and_a_known_figure() -> None:
    slo = Slo.parse("ttft=500ms,itl=20ms,e2e=2s")
    assert slo.met(ok(0, 1.0, 0.4, 0.010, 10))
    assert not slo.met(ok(0, 2.5, 0.4, 0.010, 10))  # e2e over
    assert not slo.met(ok(0, 1.0, 0.4, None, 1))  # one token: no ITL, so the ITL objective is not met
    assert not slo.met(RequestRecord(0, 0.1, error_kind="server"))
    assert level_metrics("rate", 1, [ok(0, 1, 0.1, 0.01, 5)]).goodput_rps is None  # no --slo, no goodput


def test_no_records_gives_zero_rates() -> None:
    m = level_metrics("rate", 2.0, [])
    assert m.requests == 0 and m.request_throughput == 0.0 and m.ttft_s["p50"] is None


@pytest.mark.parametrize(("text", "seconds"), [("1s", 1.0), ("50ms", 0.05), ("1.5", 1.5), (" 2S ", 2.0)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ttft", "ttft=", "ttft=-1s", "ttft=fast", "tpot=1s", "ttft=inf"])
def test_bad_slo_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="--slo"):
        Slo.parse(text)


def test_slo_round_trips_as_text() -> None:
    assert str(Slo.parse("ttft=1s,itl=50ms")) == "ttft=1s,itl=50ms"


def test_client_flagged_over_5ms_lag() -> None:
    assert not ClientHealth(0.004, 20.0).flagged
    assert ClientHealth(0.0051, 20.0).flagged
    assert ClientHealth(0.0051, 20.0).to_dict() == {"lag_p99_ms": 5.1, "cpu_pct": 20.0, "workers": 1,
                                                    "flagged": True}

"""Rate schedules and load levels: poisson arrivals have the right mean, constant ones are evenly spaced."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from botticelli.load.schedule import Lengths, arrival_times, parse_levels, split


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_poisson_arrivals_have_the_right_mean_and_spread() -> None:
    rate = 5.0
    times = arrival_times(rate, "poisson", random.Random(42), count=20_000)
    intervals = [times[0], *gaps(times)]
    mean = statistics.fmean(intervals)
    assert mean == pytest.approx(1 / rate, rel=0.03)
    # exponential gaps: the standard deviation equals the mean (a constant schedule would have 0)
    assert statistics.pstdev(intervals) == pytest.approx(mean, rel=0.05)
    assert len(times) / times[-1] == pytest.approx(rate, rel=0.03)


def test_poisson_arrivals_over_a_duration() -> None:
    counts = [len(arrival_times(10.0, "poisson", random.Random(seed), duration_s=20.0)) for seed in range(20)]
    assert statistics.fmean(counts) == pytest.approx(200, rel=0.05)
    assert len(set(counts)) > 1  # random, not a fixed count


def test_constant_arrivals_are_evenly_spaced_from_zero() -> None:
    times = arrival_times(4.0, "constant", random.Random(0), count=9)
    assert times[0] == 0.0 and len(times) == 9
    assert all(g == pytest.approx(0.25) for g in gaps(times))
    assert len(arrival_times(4.0, "constant", random.Random(0), duration_s=2.0)) == 8


def test_arrivals_are_reproducible_with_a_seed() -> None:
    assert arrival_times(3.0, "poisson", random.Random(7), count=50) == \
        arrival_times(3.0, "poisson", random.Random(7), count=50)


def test_arrival_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        arrival_times(0.0, "poisson", random.Random(0), count=3)
    with pytest.raises(ValueError):
        arrival_times(1.0, "burst", random.Random(0), count=3)
    with pytest.raises(ValueError):
        arrival_times(1.0, "poisson", random.Random(0))


def test_parse_levels() -> None:
    assert parse_levels("1,2, 4,8", "concurrency") == (1, 2, 4, 8)
    assert parse_levels("0.5,2", "rate") == (0.5, 2.0)


@pytest.mark.parametrize(("text", "mode"), [("", "concurrency"), ("0", "concurrency"), ("1.5", "concurrency"),
                                            ("a", "rate"), ("0", "rate"), ("nan", "rate"), ("inf", "rate"),
                                            ("-1", "rate"), (",".join(["1"] * 33), "concurrency")])
def test_bad_levels_say_which_flag(text: str, mode: str) -> None:
    with pytest.raises(ValueError, match=f"--{mode}"):
        parse_levels(text, mode)


def test_lengths_fixed_or_sampled() -> None:
    rng = random.Random(1)
    assert Lengths.parse("256", "x").sample(rng) == 256
    sampled = Lengths.parse("100-300", "x")
    draws = [sampled.sample(rng) for _ in range(500)]
    assert min(draws) >= 100 and max(draws) <= 300 and len(set(draws)) > 50
    assert sampled.mean == 200 and str(sampled) == "100-300"
    for bad in ("0", "300-100", "a-b", "1-2-3", "-5"):
        with pytest.raises(ValueError, match="--answer-tokens"):
            Lengths.parse(bad, "--answer-tokens")


def test_split_shares_evenly() -> None:
    assert split(10, 3) == [4, 3, 3]
    assert split(2, 4) == [1, 1, 0, 0]
    assert sum(split(64, 4)) == 64

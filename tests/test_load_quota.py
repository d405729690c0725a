"""Quota safety: the last rate-limit headers are kept, and a sweep that would go past them needs a yes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from botticelli.cli import main
from botticelli.config.profile import Profile, RateLimits
from botticelli.load.quota import SeenLimits, over_limits, recall, remember
from botticelli.load.runner import LoadPlan
from botticelli.load.schedule import Lengths
from botticelli.providers.types import RateLimitInfo
from botticelli.targets import Target
from helpers_bench import sim_profiles

NOW = 1_000_000.0


def plan(profile: Profile, **kw: object) -> LoadPlan:
    base: dict[str, object] = {"targets": (Target(profile, "m"),), "mode": "concurrency", "levels": (1, 2),
                               "requests": 50, "answer_tokens": Lengths(100, 100), "prompt_tokens": Lengths(50, 50)}
    return LoadPlan(**{**base, **kw})  # type: ignore[arg-type]


def test_remember_and_recall_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "limits.json"
    info = RateLimitInfo(limit_requests=1000, limit_tokens=6000, remaining_requests=90, remaining_tokens=5000,
                         reset_requests_s=60.0, reset_tokens_s=1.5)
    assert remember("groq", info, path, now=NOW)
    seen = recall("groq", path)
    assert seen == SeenLimits(NOW, 1000, 6000, 90, 5000, 60.0, 1.5)
    assert recall("other", path) is None
    assert "key" not in path.read_text()


@pytest.mark.parametrize("text", ["{not json", "[]", '{"groq": 3}', '{"groq": {"seen_at": "yesterday"}}'])
def test_a_damaged_memory_is_ignored(tmp_path: Path, text: str) -> None:
    path = tmp_path / "limits.json"
    path.write_text(text)
    assert recall("groq", path) is None
    assert remember("groq", RateLimitInfo(remaining_requests=5), path, now=NOW)  # and rewritten cleanly
    assert recall("groq", path).remaining_requests == 5  # type: ignore[union-attr]


def test_over_the_remaining_requests_is_reported() -> None:
    profile = Profile(name="groq", base_url="https://api.groq.com/openai/v1")
    seen = SeenLimits(NOW - 30, limit_requests=1000, remaining_requests=90, reset_requests_s=600.0)
    lines = over_limits(plan(profile), profile, seen, now=NOW)  # 1 warm-up + 2 × 50 = 101 requests
    assert len(lines) == 1 and "101 requests" in lines[0] and "left 90 of 1,000" in lines[0]
    assert over_limits(plan(profile, requests=40), profile, seen, now=NOW) == []  # 81 fit


def test_limits_seen_before_their_reset_count_as_full_again() -> None:
    profile = Profile(name="groq", base_url="https://api.groq.com/openai/v1")
    seen = SeenLimits(NOW - 700, limit_requests=1000, remaining_requests=90, reset_requests_s=600.0)
    assert over_limits(plan(profile), profile, seen, now=NOW) == []


def test_open_ended_sweeps_count_the_hard_cap() -> None:
    profile = Profile(name="groq", base_url="https://api.groq.com/openai/v1",
                      rate_limits=RateLimits(requests_per_day=500))
    lines = over_limits(plan(profile, requests=None, duration_s=30.0, max_requests=800), profile, None, now=NOW)
    assert lines == ["groq: the sweep sends up to 800 requests (--max-requests), over the profile's "
                     "requests_per_day 500"]


def test_rate_sweeps_check_the_per_minute_limits() -> None:
    profile = Profile(name="groq", base_url="https://api.groq.com/openai/v1",
                      rate_limits=RateLimits(requests_per_minute=30))
    seen = SeenLimits(NOW, limit_tokens=6000)
    lines = over_limits(plan(profile, mode="rate", levels=(0.2, 1.0), requests=10), profile, seen, now=NOW)
    assert any("60/min, over the profile's requests_per_minute 30" in line for line in lines)
    assert any("9,000 tokens/min" in line and "(6,000)" in line for line in lines)


def test_the_command_refuses_without_yes_and_goes_with_it(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with sim_profiles() as server:
        # the simulator's groq flavour allows 14,400 requests a day; remember that only 3 are left
        remember("fast", RateLimitInfo(limit_requests=14400, remaining_requests=3, reset_requests_s=3600.0))
        argv = ["load", "-t", "fast:m-fast", "--concurrency", "1", "--requests", "4", "--answer-tokens", "8"]
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "left 3 of 14,400 requests" in err and "re-run with --yes" in err
        assert server.state.chat_requests == 0  # nothing was sent

        assert main([*argv, "--yes", "--json"]) == 0
        out = capsys.readouterr().out
        assert json.loads(out)["targets"][0]["levels"][0]["completed"] == 4
        seen = recall("fast")  # the headers of this sweep replace the old memory
        assert seen is not None and seen.remaining_requests is not None and seen.remaining_requests > 3


def test_a_terminal_is_asked(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with sim_profiles() as server:
        remember("fast", RateLimitInfo(limit_requests=14400, remaining_requests=1, reset_requests_s=3600.0))
        monkeypatch.setattr("sys.stdin", Tty("n\n"))
        assert main(["load", "-t", "fast:m-fast", "--concurrency", "1", "--requests", "2"]) == 2
        assert "go ahead anyway? [y/N]" in capsys.readouterr().err
        assert server.state.chat_requests == 0

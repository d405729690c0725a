"""Helpers for the bench and race tests: a config file with profiles on a simulator, quick prompts."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import tomli_w

from botticelli.simulator.server import SimServer, running_simulator
from botticelli.simulator.settings import ModelSpeed, SimSettings

QUICK = "[[tokens:6]] Say hi."
"""A prompt whose answer is 6 tokens: quick at the speeds below."""
FAST_TPS = 4000.0
SLOW_TPS = 2000.0


def write_config(profiles: Mapping[str, Mapping[str, object]]) -> Path:
    """Write `config.toml` with these `[profiles.NAME]` tables into BOTTICELLI_CONFIG_DIR."""
    folder = Path(os.environ["BOTTICELLI_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(tomli_w.dumps({"profiles": {k: dict(v) for k, v in profiles.items()}}), encoding="utf-8")
    path.chmod(0o600)
    return path


def sim_profile(base_url: str, model: str, **extra: object) -> dict[str, object]:
    return {"base_url": base_url, "default_model": model, "models": [model], **extra}


@contextmanager
def sim_profiles(**extra_profiles: Mapping[str, object]) -> Iterator[SimServer]:
    """A real loopback simulator serving `m-fast` (4,000 tok/s) and `m-slow` (2,000 tok/s), TTFT 10 ms, and a
    config with profiles `fast`, `slow` (and `broken`: every request gets a 429) pointing at it."""
    settings = SimSettings(
        flavor="groq",
        speeds={"m-fast": ModelSpeed(FAST_TPS, 0.01), "m-slow": ModelSpeed(SLOW_TPS, 0.01)},
    )
    with running_simulator(settings) as server:
        url = server.base_url
        write_config({
            "fast": sim_profile(url, "m-fast"),
            "slow": sim_profile(url, "m-slow"),
            "broken": sim_profile(url, "m-fast", headers={"x-sim-fault": "429 retry_after=0"}),
            **{name: {"base_url": url, **p} for name, p in extra_profiles.items()},
        })
        yield server


def simulated_profiles(fast_tps: float = FAST_TPS, slow_tps: float = SLOW_TPS, tokens: int = 60) -> Path:
    """A config with in-process simulated profiles `quick` and `steady` (and `flaky`: always 429)."""
    def profile(model: str, **headers: str) -> dict[str, object]:
        return {
            "base_url": "http://sim.botticelli.invalid/v1",
            "simulated": True,
            "default_model": model,
            "models": [model],
            "headers": {"x-sim-tokens": str(tokens), **headers},
        }

    return write_config({
        "quick": profile("sim-quick", **{"x-sim-tps": f"{fast_tps:g}", "x-sim-ttft": "0.01"}),
        "steady": profile("sim-steady", **{"x-sim-tps": f"{slow_tps:g}", "x-sim-ttft": "0.02"}),
        "flaky": profile("sim-flaky", **{"x-sim-fault": "429 retry_after=0"}),
    })

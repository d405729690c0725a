"""What a simulator instance is: its flavour, its speeds and its model catalogue."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from botticelli.simulator.capacity import Capacity
from botticelli.simulator.catalog import builtin_models
from botticelli.simulator.specs import FLAVORS, ModelSpeed, SimModel

__all__ = ["FLAVORS", "ModelSpeed", "SimModel", "SimSettings"]


@dataclass(slots=True)
class SimSettings:
    """A simulator's configuration; `models=None` means the flavour's built-in catalogue."""

    flavor: str = "groq"
    tps: float = 500.0
    ttft_s: float = 0.2
    speeds: dict[str, ModelSpeed] = field(default_factory=dict)
    models: tuple[SimModel, ...] | None = None
    requests_per_day: int = 14400
    tokens_per_minute: int = 250_000
    capacity_tps: float = 0.0  # decode tokens/s shared by all streams; 0 = unlimited (see capacity.py)
    max_concurrency: int = 0  # answers at once, more wait in a queue; 0 = unlimited
    max_rps: float = 0.0  # requests/s above which the answer is a 429; 0 = unlimited
    extra_models: tuple[str, ...] = ()  # ids served besides the catalogue (at the default speed)

    def __post_init__(self) -> None:
        if self.flavor not in FLAVORS:
            raise ValueError(f"unknown simulator flavour {self.flavor!r} (choose one of {', '.join(FLAVORS)})")
        ModelSpeed(self.tps, self.ttft_s)  # validates
        if any(not isinstance(m, str) or not m.strip() for m in self.extra_models):
            raise ValueError("extra_models must be non-empty model ids")
        self.capacity()  # validates

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SimSettings:
        """Settings from `botticelli simulate` flags (`--flavor`, `--tps`, `--ttft`, capacity flags, `--model`)."""
        return cls(
            flavor=getattr(args, "flavor", "groq"),
            tps=float(getattr(args, "tps", 500.0)),
            ttft_s=float(getattr(args, "ttft", 0.2)),
            capacity_tps=float(getattr(args, "capacity_tps", 0.0)),
            max_concurrency=int(getattr(args, "max_concurrency", 0)),
            max_rps=float(getattr(args, "max_rps", 0.0)),
            extra_models=tuple(getattr(args, "models", None) or ()),
        )

    @property
    def limited(self) -> bool:
        """True when any capacity limit is set."""
        return bool(self.capacity_tps or self.max_concurrency or self.max_rps)

    def capacity(self) -> Capacity:
        """A fresh `Capacity` (shared limits, live state) for these settings."""
        return Capacity(self.capacity_tps, self.max_concurrency, self.max_rps)

    def catalogue(self) -> tuple[SimModel, ...]:
        """The models `/models` lists."""
        if self.models is not None:
            return self.models
        return builtin_models(self.flavor)

    def model(self, model_id: str) -> SimModel | None:
        """The catalogue entry for `model_id` (a `:provider` suffix is ignored), if listed."""
        base = model_id.split(":", 1)[0]
        for entry in self.catalogue():
            if entry.id in (model_id, base):
                return entry
        return None

    def serves(self, model_id: str) -> bool:
        """True for a catalogue model, one with its own speed, or one of `extra_models`; others get a 404."""
        return model_id in self.speeds or model_id in self.extra_models or self.model(model_id) is not None

    def speed_for(self, model_id: str) -> ModelSpeed:
        """Per-model override, else the catalogue's speed, else the default."""
        if model_id in self.speeds:
            return self.speeds[model_id]
        entry = self.model(model_id)
        if entry is not None and entry.speed is not None:
            return entry.speed
        return ModelSpeed(self.tps, self.ttft_s)

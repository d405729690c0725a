"""What a simulator instance is: its flavour, its speeds and its model catalogue."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

from botticelli.simulator.capacity import Capacity

FLAVORS: tuple[str, ...] = ("groq", "huggingface", "openai")


@dataclass(frozen=True, slots=True)
class ModelSpeed:
    """Decode rate in tokens per second (0 or inf: as fast as possible) and time to first token."""

    tps: float
    ttft_s: float

    def __post_init__(self) -> None:
        if math.isnan(self.tps) or self.tps < 0:
            raise ValueError(f"tps must be >= 0 (0 = unpaced), not {self.tps}")
        if math.isnan(self.ttft_s) or self.ttft_s < 0 or math.isinf(self.ttft_s):
            raise ValueError(f"ttft must be a finite number of seconds >= 0, not {self.ttft_s}")

    @property
    def interval_s(self) -> float:
        """Seconds between two tokens; 0 when unpaced."""
        return 0.0 if self.tps == 0 or math.isinf(self.tps) else 1.0 / self.tps


@dataclass(frozen=True, slots=True)
class SimModel:
    """One entry of the `/models` list, with what the simulator needs to serve it."""

    id: str
    owned_by: str
    created: int
    name: str = ""
    context_window: int = 131072
    max_completion_tokens: int = 32768
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    supported_features: tuple[str, ...] = ()
    active: bool = True
    reasoning: bool = False
    speed: ModelSpeed | None = None
    served_as: str | None = None  # the id echoed in responses (OpenAI returns the dated snapshot)
    hf_providers: tuple[str, ...] = ()


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

    def __post_init__(self) -> None:
        if self.flavor not in FLAVORS:
            raise ValueError(f"unknown simulator flavour {self.flavor!r} (choose one of {', '.join(FLAVORS)})")
        ModelSpeed(self.tps, self.ttft_s)  # validates
        self.capacity()  # validates

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SimSettings:
        """Settings from `botticelli simulate` flags (`--flavor`, `--tps`, `--ttft`, capacity flags)."""
        return cls(
            flavor=getattr(args, "flavor", "groq"),
            tps=float(getattr(args, "tps", 500.0)),
            ttft_s=float(getattr(args, "ttft", 0.2)),
            capacity_tps=float(getattr(args, "capacity_tps", 0.0)),
            max_concurrency=int(getattr(args, "max_concurrency", 0)),
            max_rps=float(getattr(args, "max_rps", 0.0)),
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
        from botticelli.simulator.catalog import builtin_models

        return builtin_models(self.flavor)

    def model(self, model_id: str) -> SimModel | None:
        """The catalogue entry for `model_id` (a `:provider` suffix is ignored), if listed."""
        base = model_id.split(":", 1)[0]
        for entry in self.catalogue():
            if entry.id in (model_id, base):
                return entry
        return None

    def speed_for(self, model_id: str) -> ModelSpeed:
        """Per-model override, else the catalogue's speed, else the default."""
        if model_id in self.speeds:
            return self.speeds[model_id]
        entry = self.model(model_id)
        if entry is not None and entry.speed is not None:
            return entry.speed
        return ModelSpeed(self.tps, self.ttft_s)

"""What one simulated model is: its speed and its `/models` entry. A leaf: the catalogue and the settings use it."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    price: tuple[float, float] | None = None
    """USD per 1M tokens (in, out) its HF-flavour providers publish (the first; each next one 50% more)."""

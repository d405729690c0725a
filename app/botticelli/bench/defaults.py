"""The bench's defaults, importable without loading the client (the CLI builds its parser from them)."""

from __future__ import annotations

DEFAULT_PROMPT = "Explain in about 200 words how a CPU cache works."
DEFAULT_RUNS = 5
DEFAULT_WARMUP = 1
DEFAULT_MAX_TOKENS = 256
MAX_TARGETS = 4
TEMPERATURE = 0.0

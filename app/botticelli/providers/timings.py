"""llama.cpp's `timings` object (final stream chunk, non-streamed replies) as the server's own figures.

llama-server reports `prompt_n`, `prompt_ms`, `predicted_n`, `predicted_ms` and `predicted_per_second`. We turn
them into Groq-style seconds (`prompt_time`, `completion_time`) and the server's own rate (`Usage.server_tps`),
so the server tok/s is llama.cpp's, as Groq's comes from `x_groq.usage`. The object is untrusted: a field that
is not a finite, non-negative number in range is dropped, never trusted or raised.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from botticelli.providers.types import Usage

MAX_MS = 86_400_000.0  # one day: a longer phase is a broken field, not a measurement
MAX_TOKENS = 10_000_000
MAX_TPS = 10_000_000.0


def _ms(value: Any) -> float | None:
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= MAX_MS:
        return None
    return float(value)


def _count(value: Any) -> int | None:
    if type(value) is float and value.is_integer():
        value = int(value)
    return value if type(value) is int and 0 <= value <= MAX_TOKENS else None


def timing_fields(timings: Any) -> dict[str, float]:
    """`{"prompt_time": s, "completion_time": s, "server_tps": rate}` from a `timings` object; only the fields
    that are valid.

    A zero `predicted_ms` is left out: it cannot give a rate (and llama.cpp sends 0 before decoding started).
    `server_tps` is llama.cpp's own `predicted_per_second`, taken as stated: recent versions count decode steps
    (n − 1: the first token comes from the prompt pass), as Botticelli's decode tok/s does.
    """
    if not isinstance(timings, dict):
        return {}
    seconds: dict[str, float] = {}
    prompt_ms = _ms(timings.get("prompt_ms"))
    if prompt_ms is not None:
        seconds["prompt_time"] = prompt_ms / 1000
    predicted_ms = _ms(timings.get("predicted_ms"))
    if predicted_ms:
        seconds["completion_time"] = predicted_ms / 1000
    rate = timings.get("predicted_per_second")
    if type(rate) in (int, float) and math.isfinite(rate) and 0 < rate <= MAX_TPS:
        seconds["server_tps"] = float(rate)
    return seconds


def usage_from_timings(timings: Any) -> Usage | None:
    """A Usage built from `timings` alone (a server that sent no `usage`): token counts and times, or None."""
    if not isinstance(timings, dict):
        return None
    completion = _count(timings.get("predicted_n"))
    processed, cached = _count(timings.get("prompt_n")), _count(timings.get("cache_n"))
    prompt = processed + (cached or 0) if processed is not None else None
    seconds = timing_fields(timings)
    if completion is None and not seconds:
        return None
    total = completion + prompt if completion is not None and prompt is not None else None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, **seconds)


def usage_with_timings(usage: dict[str, Any], timings: Any, time_info: dict[str, Any] | None = None) -> Usage:
    """The `usage` object, with llama.cpp's timings filling the times it lacks (the usage's own win)."""
    seconds = timing_fields(timings)
    if not seconds:
        return Usage.from_dict(usage, time_info)
    rate = seconds.pop("server_tps", None)
    return replace(Usage.from_dict(usage, {**seconds, **(time_info or {})}), server_tps=rate)


def reply_usage(usage: Any, timings: Any) -> Usage | None:
    """A non-streamed reply's usage: its `usage` with the `timings`, or the timings alone, or None."""
    return usage_with_timings(usage, timings) if isinstance(usage, dict) else usage_from_timings(timings)

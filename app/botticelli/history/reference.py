"""Published speed figures for reference lines: the HF router's `GET /models` gives, per model and provider,
`throughput` (tok/s) and `first_token_latency_ms`. The charts draw them next to what was measured here.

The provider catalogue does not keep these fields yet (a later catalogue issue does): until then the app
passes no references, and this parser is the hook that turns a `/models` body into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botticelli.history.query import number

MAX_MODELS = 10_000


def references_from_models(profile: str, payload: Any) -> dict[str, dict[str, float]]:
    """`{"profile:model:provider": {"decode_tps": …, "ttft_s": …}}` from an HF router `/models` body; entries
    or fields that are missing, of the wrong type or out of range are left out."""
    entries = payload.get("data") if isinstance(payload, Mapping) else None
    found: dict[str, dict[str, float]] = {}
    for entry in entries[:MAX_MODELS] if isinstance(entries, list) else ():
        model = entry.get("id") if isinstance(entry, Mapping) else None
        providers = entry.get("providers") if isinstance(entry, Mapping) else None
        if not isinstance(model, str) or not model or not isinstance(providers, list):
            continue
        for item in providers:
            name = item.get("provider") if isinstance(item, Mapping) else None
            if not isinstance(name, str) or not name or item.get("status", "live") != "live":
                continue
            figures: dict[str, float] = {}
            if (tps := number(item.get("throughput"))) is not None and tps > 0:
                figures["decode_tps"] = tps
            if (latency := number(item.get("first_token_latency_ms"))) is not None:
                figures["ttft_s"] = latency / 1000
            if figures:
                found[f"{profile}:{model}:{name}"] = figures
    return found

"""Published speed figures for reference lines: the HF router's `GET /models` gives, per model and provider,
`throughput` (tok/s) and `first_token_latency_ms`; the model catalogue (`catalog/`) keeps them as
`ProviderOffer.throughput_tps` / `ttft_ms`. The Speed screen's charts draw them next to what was measured here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botticelli.config import Config
from botticelli.providers.models import parse_models
from botticelli.providers.types import ModelInfo

References = dict[str, dict[str, float]]


def references_from_catalogue(profile: str, models: Iterable[ModelInfo]) -> References:
    """`{"profile:model:provider": {"decode_tps": …, "ttft_s": …}}` from a profile's catalogue: live providers
    with a published figure only (the catalogue has already validated every value)."""
    found: References = {}
    for model in models:
        for offer in model.providers or ():
            if not offer.live:
                continue
            figures: dict[str, float] = {}
            if offer.throughput_tps is not None and offer.throughput_tps > 0:
                figures["decode_tps"] = offer.throughput_tps
            if offer.ttft_ms is not None:
                figures["ttft_s"] = offer.ttft_ms / 1000
            if figures:
                found[f"{profile}:{model.id}:{offer.provider}"] = figures
    return found


def references_from_models(profile: str, payload: Any) -> References:
    """The same from a raw `/models` body, read by the catalogue's parser (fields that are missing, of the wrong
    type or out of range are left out)."""
    return references_from_catalogue(profile, parse_models(payload) if isinstance(payload, Mapping) else ())


def published_references(config: Config) -> References:
    """The reference figures of every profile whose catalogue is cached and fresh (no request is made)."""
    from botticelli.catalog.cache import default_cache

    cache = default_cache()
    found: References = {}
    for profile in config.profiles.values():
        if (models := cache.load(profile)) is not None:
            found.update(references_from_catalogue(profile.name, models))
    return found

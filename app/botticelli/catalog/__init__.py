"""The model catalogue: what each profile's `/models` publishes (cached), prices, and the cost of an answer."""

from __future__ import annotations

from botticelli.catalog.cache import CACHE_TTL_S, CatalogueCache, cached_models
from botticelli.catalog.cost import Cost, answer_cost, estimate_prompt_tokens
from botticelli.catalog.prices import GROQ_PRICES, GROQ_PRICES_DATE, PriceQuote, price_for

__all__ = [
    "CACHE_TTL_S", "GROQ_PRICES", "GROQ_PRICES_DATE", "CatalogueCache", "Cost", "PriceQuote", "answer_cost",
    "cached_models", "estimate_prompt_tokens", "price_for",
]

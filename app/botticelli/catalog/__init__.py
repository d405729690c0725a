"""The model catalogue: what each profile's `/models` publishes (cached), prices, and the cost of an answer."""

from __future__ import annotations

from botticelli.catalog.cache import CACHE_TTL_S, CatalogueCache, cached_models
from botticelli.catalog.cost import Cost, answer_cost, cost_of_answer, estimate_prompt_tokens, stored_cost, total_cost
from botticelli.catalog.prices import GROQ_PRICES, GROQ_PRICES_DATE, PriceQuote, known_price, price_for

__all__ = [
    "CACHE_TTL_S", "GROQ_PRICES", "GROQ_PRICES_DATE", "CatalogueCache", "Cost", "PriceQuote", "answer_cost",
    "cached_models", "cost_of_answer", "estimate_prompt_tokens", "known_price", "price_for", "stored_cost",
    "total_cost",
]

"""Which price applies to a model: config.toml, else the provider's catalogue, else a built-in table (Groq).

Groq's `/models` publishes no prices, so its price table ships here, with the date it was taken. Source: the
models page of console.groq.com/docs/models as clipped on 2026-10-01, transcribed in
/work/shared/reference/wire-formats.md §2.7 ("Models page, 2026-10-01"). Models listed there as "contact sales"
(llama-3.1-8b-instant, llama-3.3-70b-versatile, minimaxai/minimax-m2.7) and non-token prices (speech) are left
out: no price is better than a guessed one. `[profiles.groq.prices."MODEL"]` overrides any of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from botticelli.config import Profile
from botticelli.providers.types import ModelInfo, Price

GROQ_PRICES_DATE = "2026-10-01"
GROQ_PRICES: dict[str, Price] = {
    "openai/gpt-oss-120b": Price(0.15, 0.60),
    "openai/gpt-oss-20b": Price(0.075, 0.30),
    "openai/gpt-oss-safeguard-20b": Price(0.075, 0.30),
    "qwen/qwen3.8-27b": Price(0.80, 4.00),
    "meta-llama/llama-prompt-guard-2-22m": Price(0.03, 0.04),
    "meta-llama/llama-prompt-guard-2-86m": Price(0.03, 0.04),
}


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A price and where it came from: `config`, `catalogue` or `built-in 2026-10-01`."""

    price: Price
    source: str

    def to_dict(self) -> dict[str, object]:
        return {**self.price.to_dict(), "source": self.source}


def _offer_price(model: ModelInfo, suffix: str) -> Price | None:
    """The price behind an HF-router suffix: `:fastest` (the router's default), `:cheapest` (the lowest
    output price, as the router picks), or `:provider` (a pin)."""
    if suffix == "fastest":
        return model.price
    live = [o for o in model.providers if o.live and o.price is not None]
    if suffix == "cheapest":
        return min((o.price for o in live if o.price), key=lambda p: p.output_per_m, default=None)
    return next((o.price for o in live if o.provider == suffix), None)


def _catalogue_price(model_id: str, models: Iterable[ModelInfo]) -> Price | None:
    """The catalogue's price; `model:provider`, `:fastest` or `:cheapest` (HF-router suffixes) as the router
    would serve it."""
    base, _, suffix = model_id.partition(":")
    for model in models:
        if model.id == model_id and model.price is not None:
            return model.price
        if suffix and model.id == base:
            return _offer_price(model, suffix)
    return None


def price_for(profile: Profile, model_id: str, models: Iterable[ModelInfo] = ()) -> PriceQuote | None:
    """The price of `model_id` on `profile`, or None when nobody publishes one."""
    configured = profile.prices.get(model_id)
    if configured is not None:
        return PriceQuote(Price(*configured), "config")
    published = _catalogue_price(model_id, models)
    if published is not None:
        return PriceQuote(published, "catalogue")
    if profile.flavor == "groq" and model_id in GROQ_PRICES:
        return PriceQuote(GROQ_PRICES[model_id], f"built-in {GROQ_PRICES_DATE}")
    return None


async def known_price(profile: Profile, model_id: str, fetch: Callable[[], Awaitable[list[ModelInfo]]]
                      ) -> PriceQuote | None:
    """The price without a needless request: config and built-in first, then the cached catalogue; only a
    profile whose `/models` publishes prices (the HF router) is asked when nothing is cached. Errors: no price."""
    from botticelli.catalog.cache import cached_models, default_cache
    from botticelli.errors import BotticelliError

    quote = price_for(profile, model_id)
    if quote is not None:
        return quote
    models = default_cache().load(profile)
    if models is None and profile.flavor == "huggingface":
        try:
            models = await cached_models(profile, fetch)
        except BotticelliError:
            models = None
    return price_for(profile, model_id, models or ())

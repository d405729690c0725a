"""Reading `GET /models` lists: the generic OpenAI shape, with the flavour adapters' extra fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from botticelli.providers.types import ModelInfo, Price, ProviderOffer

# Ids of models one cannot chat with: speech-to-text, text-to-speech, classifiers, embeddings, images.
_NON_CHAT = re.compile(
    r"whisper|tts|orpheus|playai|guard|embed|moderation|dall-e|gpt-image|transcribe|audio|rerank",
    re.IGNORECASE,
)


MAX_CONTEXT = 100_000_000  # tokens: a larger "context" is a broken field
MAX_PRICE = 10_000.0  # US dollars per 1M tokens: a larger price is a broken field
MAX_TTFT_MS = 600_000.0  # ten minutes: a larger published first-token latency is a broken field
MAX_TPS = 1_000_000.0  # tokens per second: far beyond any published throughput
MAX_LIST = 32  # items kept of a modalities or features list
MAX_NAME = 64  # characters of a modality, feature, status or provider name
MAX_PROVIDERS = 64  # providers kept per HF-router model


def is_chat_model_id(model_id: str) -> bool:
    return _NON_CHAT.search(model_id) is None


def _modalities_allow_chat(inputs: Any, outputs: Any) -> bool | None:
    if not isinstance(outputs, list) and not isinstance(inputs, list):
        return None
    out_ok = not isinstance(outputs, list) or "text" in outputs
    in_ok = not isinstance(inputs, list) or "text" in inputs
    return out_ok and in_ok


def _tokens(value: Any) -> int | None:
    """A context size from untrusted JSON: a positive int (not a bool) up to MAX_CONTEXT, else None."""
    return value if type(value) is int and 0 < value <= MAX_CONTEXT else None


def _context_of(entry: Mapping[str, Any], providers: Any) -> int | None:
    """The context window, by the first field that holds a valid size.

    Groq `context_window`; OpenRouter-style `context_length`; LiteLLM `max_input_tokens`; llama-server
    `meta.n_ctx` (what each slot serves, set by `-c`), else `meta.n_ctx_train` (what the model was trained on,
    the only one older llama-server versions report); the HF router: the largest of its providers'.
    """
    meta = entry.get("meta") if isinstance(entry.get("meta"), Mapping) else {}
    for value in (entry.get("context_window"), entry.get("context_length"), entry.get("max_input_tokens"),
                  meta.get("n_ctx"), meta.get("n_ctx_train")):
        if (tokens := _tokens(value)) is not None:
            return tokens
    if isinstance(providers, list):
        lengths = [n for p in providers if isinstance(p, Mapping) and (n := _tokens(p.get("context_length")))]
        return max(lengths) if lengths else None
    return None


def _number(value: Any, maximum: float) -> float | None:
    """A finite number from untrusted JSON (not a bool) from 0 to `maximum`, else None."""
    if type(value) not in (int, float) or not 0 <= value <= maximum:  # NaN fails the comparison
        return None
    return float(value)


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_NAME else None


def _names(value: Any) -> tuple[str, ...] | None:
    """A list of short names (modalities, features); None when the field is absent or not a list."""
    if not isinstance(value, list):
        return None
    return tuple(n for n in (_name(v) for v in value[:MAX_LIST]) if n is not None)


def parse_price(value: Any) -> Price | None:
    """`{"input": 3, "output": 7}` (USD per 1M tokens) from untrusted JSON, else None."""
    if not isinstance(value, Mapping):
        return None
    price_in, price_out = _number(value.get("input"), MAX_PRICE), _number(value.get("output"), MAX_PRICE)
    return Price(price_in, price_out) if price_in is not None and price_out is not None else None


def parse_offer(value: Any) -> ProviderOffer | None:
    """One entry of an HF-router model's `providers`, else None when it names no provider."""
    if not isinstance(value, Mapping) or (provider := _name(value.get("provider"))) is None:
        return None
    tools = value.get("supports_tools")
    return ProviderOffer(
        provider=provider,
        status=_name(value.get("status")),
        context_length=_tokens(value.get("context_length")),
        price=parse_price(value.get("pricing")),
        supports_tools=tools if isinstance(tools, bool) else None,
        ttft_ms=_number(value.get("first_token_latency_ms"), MAX_TTFT_MS),
        throughput_tps=_number(value.get("throughput"), MAX_TPS),
    )


def default_offer(offers: Iterable[ProviderOffer]) -> ProviderOffer | None:
    """The offer the HF router's default policy (`:fastest`, highest published throughput) would pick.

    Without published throughputs, the only live offer; None when that cannot be told.
    """
    live = [o for o in offers if o.live]
    measured = [o for o in live if o.throughput_tps is not None]
    if measured:
        return max(measured, key=lambda o: o.throughput_tps or 0.0)
    return live[0] if len(live) == 1 else None


def _supports_tools(features: tuple[str, ...] | None, offers: tuple[ProviderOffer, ...]) -> bool | None:
    if features is not None:
        return "tools" in features
    said = [o.supports_tools for o in offers if o.live and o.supports_tools is not None]
    return any(said) if said else None


def parse_model_entry(entry: Mapping[str, Any]) -> ModelInfo | None:
    """One entry of `data`: Groq's context_window/active/modalities, the HF router's providers[], or plain."""
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    architecture = entry.get("architecture") if isinstance(entry.get("architecture"), Mapping) else {}
    inputs = entry.get("input_modalities", architecture.get("input_modalities"))
    outputs = entry.get("output_modalities", architecture.get("output_modalities"))
    by_modality = _modalities_allow_chat(inputs, outputs)
    chat = is_chat_model_id(model_id) if by_modality is None else (by_modality and is_chat_model_id(model_id))

    providers = entry.get("providers")
    context = _context_of(entry, providers)
    active = entry.get("active")
    if isinstance(providers, list) and providers:
        active = any(isinstance(p, Mapping) and p.get("status", "live") == "live" for p in providers)
    offers = tuple(o for o in (parse_offer(p) for p in providers[:MAX_PROVIDERS]) if o is not None) \
        if isinstance(providers, list) else ()
    features = _names(entry.get("supported_features"))
    chosen = default_offer(offers)
    price = parse_price(entry.get("pricing")) or (chosen.price if chosen else None)
    return ModelInfo(
        id=model_id,
        owned_by=entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None,
        context_window=context,
        active=active is not False,
        chat=chat,
        max_completion_tokens=_tokens(entry.get("max_completion_tokens", entry.get("max_output_tokens"))),
        input_modalities=_names(inputs),
        features=features,
        supports_tools=_supports_tools(features, offers),
        price=price,
        providers=offers,
    )


def parse_models(payload: Any) -> list[ModelInfo]:
    """All entries of a `/models` body (`{"data": [...]}` or a bare list), sorted by id."""
    entries: Iterable[Any] = payload.get("data", []) if isinstance(payload, Mapping) else payload or []
    models = [m for m in (parse_model_entry(e) for e in entries if isinstance(e, Mapping)) if m is not None]
    return sorted(models, key=lambda m: m.id)


def chat_models(models: Iterable[ModelInfo]) -> list[ModelInfo]:
    """Only active models one can chat with."""
    return [m for m in models if m.chat and m.active]


def _pricing(price: Price | None) -> dict[str, Any]:
    return {"pricing": {"input": price.input_per_m, "output": price.output_per_m}} if price else {}


def catalogue_entry(model: ModelInfo) -> dict[str, Any]:
    """The `/models` entry that `parse_model_entry` reads back as `model` (the catalogue cache's shape)."""
    entry: dict[str, Any] = {
        "id": model.id, "owned_by": model.owned_by, "context_window": model.context_window, "active": model.active,
        "max_completion_tokens": model.max_completion_tokens, "output_modalities": ["text" if model.chat else "none"],
        **_pricing(model.price),
    }
    if model.input_modalities is not None:
        entry["input_modalities"] = list(model.input_modalities)
    if model.features is not None:
        entry["supported_features"] = list(model.features)
    if model.providers:
        entry["providers"] = [
            {"provider": o.provider, "status": o.status, "context_length": o.context_length, **_pricing(o.price),
             "supports_tools": o.supports_tools, "first_token_latency_ms": o.ttft_ms, "throughput": o.throughput_tps}
            for o in model.providers
        ]
    return entry


def model_json(model: ModelInfo) -> dict[str, Any]:
    """The `models --json` object of one model: the catalogue fields, None where not published."""
    return {
        "id": model.id, "owned_by": model.owned_by, "context_window": model.context_window, "active": model.active,
        "chat": model.chat, "max_completion_tokens": model.max_completion_tokens,
        "input_modalities": list(model.input_modalities) if model.input_modalities is not None else None,
        "vision": model.vision, "features": list(model.features) if model.features is not None else None,
        "supports_tools": model.supports_tools, "price": model.price.to_dict() if model.price else None,
        "providers": [o.to_dict() for o in model.providers],
    }

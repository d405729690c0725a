"""Reading `GET /models` lists: the generic OpenAI shape, with the flavour adapters' extra fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from botticelli.providers.types import ModelInfo

# Ids of models one cannot chat with: speech-to-text, text-to-speech, classifiers, embeddings, images.
_NON_CHAT = re.compile(
    r"whisper|tts|orpheus|playai|guard|embed|moderation|dall-e|gpt-image|transcribe|audio|rerank",
    re.IGNORECASE,
)


def is_chat_model_id(model_id: str) -> bool:
    return _NON_CHAT.search(model_id) is None


def _modalities_allow_chat(inputs: Any, outputs: Any) -> bool | None:
    if not isinstance(outputs, list) and not isinstance(inputs, list):
        return None
    out_ok = not isinstance(outputs, list) or "text" in outputs
    in_ok = not isinstance(inputs, list) or "text" in inputs
    return out_ok and in_ok


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

    context = entry.get("context_window") or entry.get("context_length")
    providers = entry.get("providers")
    if context is None and isinstance(providers, list):
        lengths = [p.get("context_length") for p in providers if isinstance(p, Mapping)]
        lengths = [n for n in lengths if isinstance(n, int)]
        context = max(lengths) if lengths else None
    active = entry.get("active")
    if isinstance(providers, list) and providers:
        active = any(isinstance(p, Mapping) and p.get("status", "live") == "live" for p in providers)
    return ModelInfo(
        id=model_id,
        owned_by=entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None,
        context_window=context if isinstance(context, int) else None,
        active=active is not False,
        chat=chat,
    )


def parse_models(payload: Any) -> list[ModelInfo]:
    """All entries of a `/models` body (`{"data": [...]}` or a bare list), sorted by id."""
    entries: Iterable[Any] = payload.get("data", []) if isinstance(payload, Mapping) else payload or []
    models = [m for m in (parse_model_entry(e) for e in entries if isinstance(e, Mapping)) if m is not None]
    return sorted(models, key=lambda m: m.id)


def chat_models(models: Iterable[ModelInfo]) -> list[ModelInfo]:
    """Only active models one can chat with."""
    return [m for m in models if m.chat and m.active]

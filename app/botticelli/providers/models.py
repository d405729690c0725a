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


MAX_CONTEXT = 100_000_000  # tokens: a larger "context" is a broken field


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
    return ModelInfo(
        id=model_id,
        owned_by=entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None,
        context_window=context,
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

"""Built-in model catalogues per flavour and the `/models` bodies in each provider's shape.

Field shapes follow the recordings: groq_models_2026.json (Groq), hf_router_models_sample.json (HF router) and
OpenAI's minimal `id/object/created/owned_by`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botticelli.simulator.specs import ModelSpeed, SimModel

if TYPE_CHECKING:  # the settings hold the catalogue; the bodies below only read them
    from botticelli.simulator.settings import SimSettings

_DEMO_CREATED = 1767225600  # 2026-01-01

DEMO_MODELS: tuple[SimModel, ...] = (
    SimModel("demo-fast", "Botticelli", _DEMO_CREATED, name="Demo Fast (Groq-like)",
             supported_features=("tools", "json_mode"), speed=ModelSpeed(800.0, 0.2),
             hf_providers=("groq",), price=(0.05, 0.08)),
    SimModel("demo-slow", "Botticelli", _DEMO_CREATED, name="Demo Slow (HF-router-like)",
             speed=ModelSpeed(60.0, 0.8), hf_providers=("hf-inference",), price=(0.1, 0.2)),
    SimModel("demo-reasoning", "Botticelli", _DEMO_CREATED, name="Demo Reasoning",
             supported_features=("reasoning",), reasoning=True, speed=ModelSpeed(400.0, 0.3),
             hf_providers=("cerebras",), price=(0.6, 1.2)),
)

_GROQ: tuple[SimModel, ...] = (
    SimModel("llama-3.1-8b-instant", "Meta", 1693721698, name="Llama 3.1 8B", max_completion_tokens=131072,
             supported_features=("tools", "json_mode")),
    SimModel("llama-3.3-70b-versatile", "Meta", 1733447754, name="Llama 3.3 70B",
             supported_features=("tools", "json_mode")),
    SimModel("openai/gpt-oss-20b", "OpenAI", 1754407957, name="GPT OSS 20B", max_completion_tokens=65536,
             supported_features=("tools", "json_mode", "structured_outputs", "reasoning"), reasoning=True),
    SimModel("openai/gpt-oss-120b", "OpenAI", 1754408224, name="GPT OSS 120B", max_completion_tokens=65536,
             supported_features=("tools", "json_mode", "structured_outputs", "reasoning"), reasoning=True),
    SimModel("qwen/qwen3-32b", "Alibaba Cloud", 1748396646, name="Qwen3 32B", max_completion_tokens=40960,
             supported_features=("tools", "json_mode", "reasoning"), reasoning=True),
    SimModel("whisper-large-v3", "OpenAI", 1693721698, name="Whisper", context_window=448,
             max_completion_tokens=448, input_modalities=("audio",), output_modalities=("transcription",)),
    SimModel("canopylabs/orpheus-v1-english", "Canopy Labs", 1766186316, name="Canopy Labs Orpheus V1 English",
             context_window=4000, max_completion_tokens=50000, output_modalities=("speech",)),
    SimModel("meta-llama/llama-prompt-guard-2-22m", "Meta", 1748632101, name="Prompt Guard 2 22M",
             context_window=512, max_completion_tokens=512),
    SimModel("gemma2-9b-it", "Google", 1693721698, name="Gemma 2 9B", context_window=8192,
             max_completion_tokens=8192, active=False),
)

_HF: tuple[SimModel, ...] = (
    SimModel("meta-llama/Llama-3.1-8B-Instruct", "meta-llama", 1721692800,
             hf_providers=("novita", "cerebras", "hf-inference"), price=(0.02, 0.05)),
    SimModel("meta-llama/Llama-3.3-70B-Instruct", "meta-llama", 1733356800,
             hf_providers=("together", "groq", "nebius"), price=(0.59, 0.79)),
    SimModel("openai/gpt-oss-120b", "openai", 1754352000, reasoning=True,
             hf_providers=("groq", "cerebras", "fireworks-ai"), price=(0.15, 0.6)),
    SimModel("deepseek-ai/DeepSeek-R1", "deepseek-ai", 1738368000, reasoning=True,
             hf_providers=("together", "novita"), price=(3.0, 7.0)),
    SimModel("Qwen/Qwen3-32B", "Qwen", 1745884800, reasoning=True, hf_providers=("nebius", "groq"), price=(0.1, 0.3)),
    SimModel("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen", 1737936000, input_modalities=("text", "image"),
             hf_providers=("hyperbolic", "nebius"), price=(0.2, 0.2)),
)

_OPENAI: tuple[SimModel, ...] = (
    SimModel("gpt-4o-mini", "system", 1721172741, served_as="gpt-4o-mini-2024-07-18"),
    SimModel("gpt-4.1-mini", "system", 1744318173, served_as="gpt-4.1-mini-2025-04-14"),
    SimModel("gpt-4.1-nano", "system", 1744321707, served_as="gpt-4.1-nano-2025-04-14"),
    SimModel("text-embedding-3-small", "system", 1705948997, output_modalities=("embedding",)),
    SimModel("whisper-1", "openai-internal", 1677532384, input_modalities=("audio",),
             output_modalities=("transcription",)),
    SimModel("tts-1", "openai-internal", 1681940951, output_modalities=("speech",)),
)

_BY_FLAVOR: dict[str, tuple[SimModel, ...]] = {
    "groq": DEMO_MODELS + _GROQ,
    "huggingface": DEMO_MODELS + _HF,
    "openai": DEMO_MODELS + _OPENAI,
}


def builtin_models(flavor: str) -> tuple[SimModel, ...]:
    """The built-in catalogue of `flavor`: the three demo models, then realistic ids."""
    return _BY_FLAVOR[flavor]


def _groq_entry(model: SimModel) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by,
        "active": model.active, "context_window": model.context_window, "public_apps": None,
        "max_completion_tokens": model.max_completion_tokens, "name": model.name or model.id,
        "input_modalities": list(model.input_modalities), "output_modalities": list(model.output_modalities),
    }
    if model.supported_features:
        entry["supported_features"] = list(model.supported_features)
    return entry


def _offer_price(price: tuple[float, float], index: int) -> dict[str, float]:
    """The `pricing` of a model's `index`-th HF provider: the model's price, 50% more per later provider."""
    scale = 1 + 0.5 * index
    return {"input": round(price[0] * scale, 4), "output": round(price[1] * scale, 4)}


def _hf_entry(model: SimModel, settings: SimSettings) -> dict[str, Any]:
    speed = settings.speed_for(model.id)
    providers = [
        {
            "provider": provider, "status": "live", "context_length": model.context_window,
            **({"pricing": _offer_price(model.price, index)} if model.price else {}), "is_free": False,
            "supports_tools": "tools" in model.supported_features or provider != "hf-inference",
            "supports_structured_output": provider != "hf-inference",
            "first_token_latency_ms": round(speed.ttft_s * 1000, 1), "throughput": round(speed.tps, 2),
            "is_model_author": False,
        }
        for index, provider in enumerate(model.hf_providers or ("hf-inference",))
    ]
    return {
        "id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by,
        "architecture": {"input_modalities": list(model.input_modalities),
                         "output_modalities": list(model.output_modalities)},
        "providers": providers,
    }


def _openai_entry(model: SimModel) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}


def model_entry(model: SimModel, settings: SimSettings) -> dict[str, Any]:
    """One `/models` entry in the shape of `settings.flavor`."""
    if settings.flavor == "groq":
        return _groq_entry(model)
    if settings.flavor == "huggingface":
        return _hf_entry(model, settings)
    return _openai_entry(model)


def models_body(settings: SimSettings) -> bytes:
    """The `GET /models` body (compact JSON; Groq's ends with a newline)."""
    data = [model_entry(m, settings) for m in settings.catalogue()]
    body = json.dumps({"object": "list", "data": data}, separators=(",", ":")).encode()
    return body + b"\n" if settings.flavor == "groq" else body

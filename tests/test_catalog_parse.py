"""Catalogue fields from the recorded `/models` answers (Groq 2026, HF router, llama-server, LiteLLM), untrusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli.providers.models import default_offer, parse_model_entry, parse_models
from botticelli.providers.types import Price, ProviderOffer

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
SERVERS = Path(__file__).parent / "fixtures" / "servers"


def _by_id(path: Path) -> dict:
    return {m.id: m for m in parse_models(json.loads(path.read_text()))}


def test_groq_2026_context_completion_modalities_and_features() -> None:
    models = _by_id(RECORDED / "groq_models_2026.json")
    qwen = models["qwen/qwen3.8-27b"]
    assert (qwen.context_window, qwen.max_completion_tokens) == (131072, 16384)
    assert qwen.input_modalities == ("text", "image") and qwen.vision is True
    assert qwen.features == ("tools", "json_mode", "reasoning") and qwen.supports_tools is True
    oss = models["openai/gpt-oss-20b"]
    assert oss.vision is False and oss.supports_tools is True and oss.max_completion_tokens == 65536
    assert models["allam-2-7b"].supports_tools is False  # features listed, tools not among them
    assert models["whisper-large-v3"].input_modalities == ("audio",)
    assert all(m.price is None for m in models.values())  # Groq publishes no prices in /models
    assert all(m.providers == () for m in models.values())


def test_groq_2024_has_no_catalogue_fields_beyond_context() -> None:
    model = _by_id(RECORDED / "groq_models.json")["llama3-8b-8192"]
    assert model.context_window == 8192
    assert (model.max_completion_tokens, model.input_modalities, model.vision, model.supports_tools) == (
        None, None, None, None)


def test_hf_router_providers_prices_and_published_speeds() -> None:
    model = _by_id(RECORDED / "hf_router_models_sample.json")["deepseek-ai/DeepSeek-R1"]
    together, deepinfra = model.providers
    assert together == ProviderOffer("together", "live", 131072, Price(3.0, 7.0), True, 220.5, 48.25)
    assert deepinfra == ProviderOffer("deepinfra", "error")  # an offer in error has no context or price
    assert not deepinfra.live
    assert model.price == Price(3.0, 7.0)  # the live provider's
    assert model.context_window == 131072 and model.supports_tools is True and model.vision is False


def test_llama_server_and_litellm_shapes() -> None:
    tiny = _by_id(SERVERS / "llama_models.json")["tiny"]
    assert tiny.context_window == 2048 and tiny.input_modalities == ("text",) and tiny.price is None
    litellm = _by_id(SERVERS / "litellm_models.json")
    assert litellm["mock-gpt"].context_window == 8192
    assert litellm["groq/llama-3.1-8b-instant"].context_window is None


def test_the_router_default_is_the_highest_published_throughput() -> None:
    slow = ProviderOffer("a", "live", price=Price(1, 1), throughput_tps=40.0)
    fast = ProviderOffer("b", "live", price=Price(2, 3), throughput_tps=90.0)
    down = ProviderOffer("c", "error", price=Price(0.1, 0.1), throughput_tps=900.0)
    assert default_offer([slow, fast, down]) is fast
    assert default_offer([ProviderOffer("a", "live"), ProviderOffer("b", "live")]) is None  # cannot tell
    assert default_offer([ProviderOffer("a", "live"), down]) == ProviderOffer("a", "live")


@pytest.mark.parametrize("bad", [
    {"input": -1, "output": 2}, {"input": "3", "output": 7}, {"input": True, "output": 7},
    {"input": float("nan"), "output": 1}, {"input": 1e300, "output": 1}, {"input": 1}, [3, 7], "cheap",
])
def test_a_malformed_price_is_no_price(bad: object) -> None:
    entry = {"id": "m", "providers": [{"provider": "p", "status": "live", "pricing": bad, "throughput": 10}]}
    model = parse_model_entry(entry)
    assert model is not None and model.price is None and model.providers[0].price is None


def test_malformed_catalogue_fields_are_absent_not_errors() -> None:
    entry = {
        "id": "m", "context_window": "131072", "max_completion_tokens": -5,
        "input_modalities": ["text", 7, "x" * 500, None, "image"], "supported_features": "tools",
        "providers": [None, "groq", {"provider": 5}, {"provider": "ok", "status": ["live"], "context_length": 1e9,
                      "supports_tools": "yes", "first_token_latency_ms": -1, "throughput": float("inf")}],
    }
    model = parse_model_entry(entry)
    assert model is not None
    assert (model.context_window, model.max_completion_tokens) == (None, None)
    assert model.input_modalities == ("text", "image") and model.vision is True
    assert model.features is None and model.supports_tools is None
    assert model.providers == (ProviderOffer("ok"),)


def test_huge_lists_are_capped() -> None:
    entry = {"id": "m", "input_modalities": ["text"] * 10_000,
             "providers": [{"provider": f"p{i}", "status": "live"} for i in range(10_000)]}
    model = parse_model_entry(entry)
    assert model is not None and len(model.input_modalities or ()) == 32 and len(model.providers) == 64


@pytest.mark.parametrize("path", [
    RECORDED / "groq_models_2026.json", RECORDED / "groq_models.json", RECORDED / "hf_router_models_sample.json",
    SERVERS / "llama_models.json", SERVERS / "litellm_models.json",
])
def test_the_cache_shape_reads_back_as_the_same_model(path: Path) -> None:
    from botticelli.providers.models import catalogue_entry

    for model in parse_models(json.loads(path.read_text())):
        assert parse_model_entry(json.loads(json.dumps(catalogue_entry(model)))) == model

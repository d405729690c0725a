"""Tests against the real Groq and Hugging Face APIs. Run with `make test-live`; skipped without keys."""

from __future__ import annotations

import os

import pytest

from botticelli.config import load_config
from botticelli.providers.errors import ModelNotFoundError
from botticelli.providers.models import chat_models
from botticelli.providers.types import ChatMessage, ChatRequest, ContentDelta
from botticelli.targets import open_client

pytestmark = pytest.mark.live

PROVIDERS = [
    pytest.param("groq", "llama-3.1-8b-instant", "GROQ_API_KEY", id="groq"),
    pytest.param("huggingface", "meta-llama/Llama-3.1-8B-Instruct", "HF_TOKEN", id="huggingface"),
]


def _client(profile_name: str, key_var: str):
    if not os.environ.get(key_var) and not (key_var == "HF_TOKEN" and os.environ.get("HUGGINGFACE_API_KEY")):
        pytest.skip(f"{key_var} is not set")
    return open_client(load_config().profiles[profile_name])


@pytest.mark.parametrize(("profile", "model", "key_var"), PROVIDERS)
async def test_generate(profile: str, model: str, key_var: str) -> None:
    async with _client(profile, key_var) as client:
        answer = await client.generate(
            ChatRequest(model, [ChatMessage("user", "Reply with the single word: pong")], max_tokens=10, temperature=0)
        )
    assert "pong" in answer.text.lower()
    assert answer.usage is not None and answer.usage.completion_tokens


@pytest.mark.parametrize(("profile", "model", "key_var"), PROVIDERS)
async def test_stream_has_exact_figures(profile: str, model: str, key_var: str) -> None:
    async with _client(profile, key_var) as client:
        stream = client.stream(
            ChatRequest(model, [ChatMessage("user", "Count from 1 to 20.")], max_tokens=80, temperature=0)
        )
        async with stream:
            deltas = [e async for e in stream if isinstance(e, ContentDelta)]
    assert deltas and stream.finish_reason in {"stop", "length"}
    figures = stream.figures()
    assert figures.tokens_exact and figures.ttft_s is not None and figures.decode_tps
    if profile == "groq":
        assert figures.server_tps and stream.rate_limit is not None


@pytest.mark.parametrize(("profile", "model", "key_var"), PROVIDERS)
async def test_models_list(profile: str, model: str, key_var: str) -> None:
    async with _client(profile, key_var) as client:
        models = chat_models(await client.list_models())
    assert models
    assert not any("whisper" in m.id for m in models)


@pytest.mark.parametrize(("profile", "model", "key_var"), PROVIDERS)
async def test_bad_model(profile: str, model: str, key_var: str) -> None:
    async with _client(profile, key_var) as client:
        with pytest.raises(ModelNotFoundError):
            await client.generate(ChatRequest("no-such-model-botticelli", [ChatMessage("user", "hi")], max_tokens=5))

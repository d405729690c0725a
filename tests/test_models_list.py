"""GET /models from the recorded lists: ids, context windows, inactive and non-chat models kept out of chat."""

from __future__ import annotations

import json

import pytest

from botticelli.providers.errors import AuthError
from botticelli.providers.models import chat_models, is_chat_model_id, parse_models
from helpers_client import FIXTURES, JSON_HEADERS, Server, fixture_response, make_client, response


async def list_models(name: str):  # type: ignore[no-untyped-def]
    server = Server(fixture_response(name))
    client, _ = make_client(server)
    async with client:
        models = await client.list_models()
    assert server.count == 1
    request = server.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/v1/models"
    assert server.streams[0].closed
    return models


async def test_groq_models_2024() -> None:
    models = await list_models("groq_models.json")
    assert [m.id for m in models] == [
        "gemma-7b-it", "llama2-70b-4096", "llama3-70b-8192", "llama3-8b-8192", "mixtral-8x7b-32768",
    ]
    windows = {m.id: m.context_window for m in models}
    assert windows == {
        "gemma-7b-it": 8192, "llama2-70b-4096": 4096, "llama3-70b-8192": 8192, "llama3-8b-8192": 8192,
        "mixtral-8x7b-32768": 32768,
    }
    assert {m.owned_by for m in models} == {"Google", "Meta", "Mistral AI"}
    assert all(m.active and m.chat for m in models)
    assert chat_models(models) == models


async def test_groq_models_2025_filters_speech_tts_and_prompt_guard() -> None:
    models = await list_models("groq_models_2025-09.reserialized.json")
    assert len(models) == 23
    by_id = {m.id: m for m in models}
    assert by_id["whisper-large-v3"].context_window == 448
    assert by_id["llama-3.3-70b-versatile"].context_window == 131072
    assert by_id["meta-llama/llama-prompt-guard-2-22m"].context_window == 512
    chat = {m.id for m in chat_models(models)}
    for not_chat in (
        "whisper-large-v3", "whisper-large-v3-turbo", "distil-whisper-large-v3-en", "playai-tts", "playai-tts-arabic",
        "meta-llama/llama-prompt-guard-2-22m", "meta-llama/llama-prompt-guard-2-86m",
    ):
        assert not_chat not in chat, not_chat
        assert by_id[not_chat].chat is False
    for usable in (
        "llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-120b", "openai/gpt-oss-20b",
        "qwen/qwen3-32b", "moonshotai/kimi-k2-instruct", "meta-llama/llama-4-scout-17b-16e-instruct",
        "deepseek-r1-distill-llama-70b", "allam-2-7b", "gemma2-9b-it",
    ):
        assert usable in chat, usable
    assert [m.id for m in models] == sorted(m.id for m in models)


async def test_groq_models_2026_by_modalities() -> None:
    models = await list_models("groq_models_2026.json")
    by_id = {m.id: m for m in models}
    assert set(by_id) == {
        "allam-2-7b", "canopylabs/orpheus-v1-english", "meta-llama/llama-prompt-guard-2-86m", "openai/gpt-oss-120b",
        "openai/gpt-oss-20b", "openai/gpt-oss-safeguard-20b", "qwen/qwen3.8-27b", "whisper-large-v3",
        "whisper-large-v3-turbo",
    }
    assert by_id["qwen/qwen3.8-27b"].context_window == 131072
    assert by_id["canopylabs/orpheus-v1-english"].context_window == 4000
    assert by_id["qwen/qwen3.8-27b"].chat is True  # text + image in, text out
    assert by_id["canopylabs/orpheus-v1-english"].chat is False  # speech out
    assert by_id["whisper-large-v3"].chat is False  # audio in, transcription out
    assert by_id["meta-llama/llama-prompt-guard-2-86m"].chat is False  # text/text, but a 512-token classifier
    chat = {m.id for m in chat_models(models)}
    assert {"allam-2-7b", "openai/gpt-oss-120b", "openai/gpt-oss-20b", "qwen/qwen3.8-27b"} <= chat
    assert not chat & {"canopylabs/orpheus-v1-english", "whisper-large-v3", "whisper-large-v3-turbo",
                       "meta-llama/llama-prompt-guard-2-86m"}


async def test_inactive_models_are_not_offered_for_chat() -> None:
    payload = json.loads((FIXTURES / "groq_models.json").read_text())
    payload["data"][1]["active"] = False  # llama2-70b-4096 retired
    server = Server(response(200, json.dumps(payload), JSON_HEADERS))
    client, _ = make_client(server)
    async with client:
        models = await client.list_models()
    assert "llama2-70b-4096" in {m.id for m in models}
    assert [m.id for m in models if not m.active] == ["llama2-70b-4096"]
    assert "llama2-70b-4096" not in {m.id for m in chat_models(models)}
    assert len(chat_models(models)) == 4


async def test_hf_router_models_sample() -> None:
    models = await list_models("hf_router_models_sample.json")
    (model,) = models
    assert model.id == "deepseek-ai/DeepSeek-R1"
    assert model.owned_by == "deepseek-ai"
    assert model.context_window == 131072  # from the live provider; the errored one has no context_length
    assert model.active is True
    assert model.chat is True
    assert chat_models(models) == [model]


def test_hf_model_with_no_live_provider_is_inactive() -> None:
    payload = json.loads((FIXTURES / "hf_router_models_sample.json").read_text())
    for provider in payload["data"][0]["providers"]:
        provider["status"] = "error"
    (model,) = parse_models(payload)
    assert model.active is False
    assert chat_models([model]) == []


def test_hf_model_with_image_output_only_is_not_chat() -> None:
    payload = {"data": [{"id": "black-forest-labs/FLUX.1-dev", "architecture": {
        "input_modalities": ["text"], "output_modalities": ["image"]}, "providers": [{"status": "live"}]}]}
    (model,) = parse_models(payload)
    assert model.chat is False


def test_models_payload_shapes() -> None:
    assert [m.id for m in parse_models([{"id": "b"}, {"id": "a"}])] == ["a", "b"]  # a bare list, sorted
    assert parse_models({"data": [{"id": ""}, {"no": "id"}, "junk", {"id": "ok"}]})[0].id == "ok"
    assert parse_models({}) == []
    assert parse_models(None) == []


@pytest.mark.parametrize(
    ("model_id", "chat"),
    [
        ("whisper-large-v3", False),
        ("distil-whisper-large-v3-en", False),
        ("playai-tts", False),
        ("canopylabs/orpheus-v1-english", False),
        ("meta-llama/llama-prompt-guard-2-22m", False),
        ("text-embedding-3-small", False),
        ("llama-3.1-8b-instant", True),
        ("openai/gpt-oss-120b", True),
        ("meta-llama/Llama-3.1-8B-Instruct:novita", True),
    ],
)
def test_chat_model_ids(model_id: str, chat: bool) -> None:
    assert is_chat_model_id(model_id) is chat


async def test_models_401_is_an_auth_error() -> None:
    server = Server(fixture_response("hf_router_error_401.json"))
    client, _ = make_client(server, max_retries=0)
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.list_models()
    assert caught.value.message == "Invalid username or password."

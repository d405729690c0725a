"""What llama-server and the LiteLLM proxy really sent (tests/fixtures/servers/, see PROVENANCE.md), read offline:
llama.cpp's `timings` as the server's figures, context windows from `/v1/models`, and hostile `timings`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from botticelli.providers.chunks import ChunkReader
from botticelli.providers.classify import classify_http_error
from botticelli.providers.client import parse_completion
from botticelli.providers.errors import InvalidRequestError
from botticelli.providers.models import parse_models
from botticelli.providers.timings import timing_fields, usage_from_timings
from botticelli.providers.types import UsageUpdate
from botticelli.stats import SpeedMeter

SERVERS = Path(__file__).resolve().parent / "fixtures" / "servers"


def sse_chunks(name: str) -> list[dict]:
    lines = (SERVERS / name).read_text().splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


def read_stream(name: str) -> ChunkReader:
    reader = ChunkReader(provider="test")
    for chunk in sse_chunks(name):
        reader.feed(chunk)
    return reader


def test_llama_stream_timings_become_the_servers_figures() -> None:
    chunks = sse_chunks("llama_stream.sse")
    timings = chunks[-1]["timings"]
    reader = read_stream("llama_stream.sse")
    usage = reader.usage
    assert usage is not None and usage.completion_tokens == timings["predicted_n"]
    assert usage.completion_time == pytest.approx(timings["predicted_ms"] / 1000)
    assert usage.prompt_time == pytest.approx(timings["prompt_ms"] / 1000)
    meter = SpeedMeter(clock=iter([0.0, 0.1, 0.2, 0.3]).__next__)
    meter.request_sent()
    meter.on_text("a")
    meter.on_text("b")
    meter.on_usage(usage)
    figures = meter.finish()
    assert figures.server_tps == pytest.approx(timings["predicted_per_second"], rel=1e-6)


def test_llama_non_streamed_reply_timings() -> None:
    payload = json.loads((SERVERS / "llama_chat.json").read_text())
    answer = parse_completion(payload, provider="test")
    assert answer.usage is not None and answer.usage.completion_tokens == payload["timings"]["predicted_n"]
    assert answer.usage.completion_time == pytest.approx(payload["timings"]["predicted_ms"] / 1000)
    assert answer.finish_reason == payload["choices"][0]["finish_reason"]


def test_llama_models_context_window_is_what_each_slot_serves() -> None:
    payload = json.loads((SERVERS / "llama_models.json").read_text())
    (model,) = parse_models(payload)
    meta = payload["data"][0]["meta"]
    assert model.context_window == meta["n_ctx"] != meta["n_ctx_train"]
    assert model.chat and model.owned_by == "llamacpp"
    del payload["data"][0]["meta"]["n_ctx"]  # older llama-server versions report only the training context
    assert parse_models(payload)[0].context_window == meta["n_ctx_train"]


def test_litellm_models_context_window_from_max_input_tokens() -> None:
    models = {m.id: m for m in parse_models(json.loads((SERVERS / "litellm_models.json").read_text()))}
    assert models["mock-gpt"].context_window == 8192
    assert models["groq/llama-3.1-8b-instant"].context_window is None


def test_litellm_mock_stream_has_exact_usage_and_no_server_times() -> None:
    reader = read_stream("litellm_stream_mock.sse")
    assert reader.text == "Hello from the LiteLLM proxy mock."
    assert reader.usage is not None and reader.usage.completion_tokens == 9
    assert reader.usage.completion_time is None and reader.finish_reason == "stop"


@pytest.mark.parametrize("bad", [
    "fast", None, True, -5, math.nan, math.inf, 1e12, [1], {"ms": 3},
])
def test_malformed_timing_fields_are_dropped(bad: object) -> None:
    timings = {"prompt_ms": bad, "predicted_ms": bad, "predicted_n": bad, "prompt_n": bad, "predicted_per_second": bad}
    assert timing_fields(timings) == {}
    assert usage_from_timings(timings) is None
    reader = ChunkReader()
    events = reader.feed({"choices": [], "usage": {"completion_tokens": 4}, "timings": timings})
    assert reader.usage is not None and reader.usage.completion_time is None and len(events) == 1


def test_timings_that_are_not_an_object_are_ignored() -> None:
    for timings in ("12ms", 5, [], None):
        reader = ChunkReader()
        assert reader.feed({"choices": [], "timings": timings}) == []
        assert reader.usage is None


def test_timings_without_usage_stand_in_for_it_and_fill_a_later_usage() -> None:
    reader = ChunkReader()
    events = reader.feed({"choices": [], "timings": {"prompt_n": 3, "cache_n": 2, "prompt_ms": 4.0,
                                                     "predicted_n": 10, "predicted_ms": 50.0}})
    assert [type(e) for e in events] == [UsageUpdate]
    usage = reader.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 10, 15)
    assert usage.completion_time == pytest.approx(0.05)

    reader = ChunkReader()
    reader.feed({"choices": [], "usage": {"completion_tokens": 10, "completion_time": 0.2}})
    reader.feed({"choices": [], "timings": {"predicted_ms": 50.0, "prompt_ms": 4.0}})
    assert reader.usage.completion_time == 0.2  # the usage's own time wins
    assert reader.usage.prompt_time == pytest.approx(0.004)  # the missing one is filled in


def test_llama_context_overflow_is_a_context_error() -> None:
    body = (SERVERS / "llama_error_400_context.json").read_bytes()
    error = classify_http_error(400, {"content-type": "application/json"}, body, provider="test")
    assert isinstance(error, InvalidRequestError) and error.status == 400
    assert "exceeds the available context size" in error.message
    assert "too long for this model" in error.hint

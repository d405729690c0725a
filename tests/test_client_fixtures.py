"""Every recorded fixture, replayed through `OpenAICompatibleClient`: what a user gets out of each real response.

The expected texts were read off the fixture files by hand (they are not produced by re-running parsing code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
import pytest

from botticelli.providers.errors import (
    AuthError,
    InvalidRequestError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from botticelli.providers.types import ContentDelta, Finish, ReasoningDelta, ToolCall, UsageUpdate
from helpers_client import (
    FIXTURES,
    Server,
    chat_request,
    collect,
    fixture_headers,
    fixture_response,
    make_client,
    response,
)

# ---------------------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------------------


@dataclass
class StreamCase:
    text: str
    finish: str | None
    usage: tuple[int, int, int] | None  # prompt, completion, total
    model: str
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


GROQ_TOOL_REASONING = 'We need to call the function with correct parameter "name". Provide a name, e.g., "example".'
GPT_OSS_REASONING = (
    "The user wants to test error handling by calling tool with non-existent parameters first (we did) and then "
    "second try with valid args. We have succeeded. Now respond concisely."
)
ERROR_EVENT_REASONING = (
    "We need to call the tool with invalid parameters first, then second call with valid args. The user wants us "
    'to test error handling. So first call should have wrong parameters (e.g., missing required "name" or extra '
    'param). The tool expects only "name". If we send extra property, that might cause error. Or missing "name". '
    "We'll do a call with missing name: {}. Then second call with name: \"test\". Let's do that."
)
ERROR_EVENT_MESSAGE = (
    "Tool call validation failed: tool call validation failed: parameters for tool get_something_by_name did not "
    "match schema: errors: [missing properties: 'name', additionalProperties 'invalid_param' not allowed]"
)

STREAMS: dict[str, StreamCase] = {
    "groq_stream_basic.sse": StreamCase(
        text="The next day after Wednesday is Thursday!",
        finish="stop",
        usage=(18, 8, 26),
        model="llama3-8b-8192",
    ),
    "groq_stream_gpt_oss.sse": StreamCase(
        text="The tool returned the expected result for the valid call.",
        reasoning=GPT_OSS_REASONING,
        finish="stop",
        usage=(339, 58, 397),
        model="openai/gpt-oss-120b",
    ),
    "groq_stream_tool_call.sse": StreamCase(
        text="",
        reasoning=GROQ_TOOL_REASONING,
        finish="tool_calls",
        usage=(304, 49, 353),
        model="openai/gpt-oss-120b",
        tool_calls=[
            ToolCall(
                index=0,
                id="fc_bfb39741-3748-4def-9886-a93fc9c64a90",
                name="get_something_by_name",
                arguments='{"name":"example"}',
            )
        ],
    ),
    "hf_router_stream_cerebras.sse": StreamCase(
        text="Deep learning is a subset of machine learning, which is a field of artificial intelligence (AI) that",
        finish="length",
        usage=(46, 20, 66),
        model="llama-3.3-70b",
    ),
    "hf_router_stream_fireworks.sse": StreamCase(
        text="**Deep Learning Overview**\n" + "=" * 26 + "\n\n"
        "Deep learning is a subset of machine learning that uses artificial neural",
        finish="length",
        usage=(46, 20, 66),
        model="accounts/fireworks/models/llama-v3p3-70b-instruct",
    ),
    "hf_router_stream_hf_inference_tgi.sse": StreamCase(
        text="Deep learning is a subset of machine learning that involves the use of artificial neural networks (ANNs)",
        finish="length",
        usage=None,
        model="meta-llama/Llama-3.1-8B-Instruct",
    ),
    "hf_router_stream_hyperbolic.sse": StreamCase(
        text="Deep learning is a subset of machine learning that uses neural networks with multiple layers "
        "(hence the term",
        finish="length",
        usage=(46, 21, 67),
        model="meta-llama/Llama-3.2-3B-Instruct",
    ),
    "hf_router_stream_nebius.sse": StreamCase(
        text="Deep learning is a subset of machine learning that is inspired by the structure and function of the "
        "human brain",
        finish="length",
        usage=None,
        model="meta-llama/Meta-Llama-3.1-8B-Instruct-fast",
    ),
    "hf_router_stream_novita_2025.sse": StreamCase(
        text="Deep learning is a subfield of machine learning that focuses on the development of artificial neural "
        "networks with multiple",
        finish="length",
        usage=(46, 20, 66),
        model="meta-llama/llama-3.1-8b-instruct",
    ),
    "hf_router_stream_novita_2026.sse": StreamCase(
        text="Paris", finish="stop", usage=(40, 2, 42), model="meta-llama/llama-3.1-8b-instruct"
    ),
    "hf_router_stream_sambanova.sse": StreamCase(
        text="Deep learning is a subset of machine learning that involves the use of artificial neural networks with "
        "multiple layers to",
        finish="length",
        usage=None,
        model="Meta-Llama-3.1-8B-Instruct",
    ),
    "hf_router_stream_together.sse": StreamCase(
        text="Deep learning is a subfield of machine learning that involves the use of artificial neural networks to "
        "model and",
        finish="length",
        usage=(26, 20, 46),
        model="meta-llama/Meta-Llama-3-8B-Instruct-Turbo",
    ),
    "openai_stream_basic_2024.sse": StreamCase(text="two", finish="stop", usage=None, model="gpt-3.5-turbo-0125"),
    "openai_stream_include_usage.sse": StreamCase(
        text="The capital of the UK is London.", finish="stop", usage=(78, 9, 87), model="gpt-4o-mini-2024-07-18"
    ),
    "openai_stream_tool_call_include_usage.sse": StreamCase(
        text="",
        finish="tool_calls",
        usage=(53, 15, 68),
        model="gpt-4o-mini-2024-07-18",
        tool_calls=[
            ToolCall(index=0, id="call_ZR5UUuTt3pf61kjwAJIYdVMj", name="get_capital", arguments='{"country":"UK"}')
        ],
    ),
}


def test_every_stream_fixture_is_covered() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.sse")}
    assert on_disk == set(STREAMS) | {"groq_stream_error_event.sse"}


async def _replay(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    server = Server(fixture_response(name, **kwargs))  # type: ignore[arg-type]
    client, _ = make_client(server)
    async with client:
        stream, events = await collect(client)
    return stream, events, server


@pytest.mark.parametrize("name", sorted(STREAMS))
async def test_stream_fixture_replayed(name: str) -> None:
    case = STREAMS[name]
    stream, events, server = await _replay(name)

    assert stream.text == case.text
    assert stream.reasoning == case.reasoning
    assert stream.finish_reason == case.finish
    assert stream.tool_calls == case.tool_calls
    if case.usage is None:
        assert stream.usage is None
    else:
        usage = stream.usage
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == case.usage
    result = stream.result()
    assert result.text == case.text
    assert result.reasoning == (case.reasoning or None)
    assert result.model == case.model
    # the events carry the same text, in order, with the answer and the reasoning kept apart
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == case.text
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == case.reasoning
    assert [e.reason for e in events if isinstance(e, Finish)] == [case.finish]
    assert all(e.text for e in events if isinstance(e, ContentDelta | ReasoningDelta)), "no empty deltas"
    assert server.count == 1
    assert server.streams[0].closed
    # the request asked for usage in the stream
    body = json.loads(server.requests[0].content)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("name", ["groq_stream_basic.sse", "hf_router_stream_novita_2025.sse"])
async def test_stream_fixture_byte_by_byte_gives_the_same_answer(name: str) -> None:
    """The transport may cut anywhere: one byte per chunk gives exactly the same answer."""
    raw = (FIXTURES / name).read_bytes()
    status, headers = fixture_headers(name)
    server = Server(
        response(status or 200, headers=headers or [("content-type", "text/event-stream")],
                 chunks=[raw[i : i + 1] for i in range(len(raw))])
    )
    client, _ = make_client(server)
    async with client:
        stream, _ = await collect(client)
    case = STREAMS[name]
    assert stream.text == case.text
    assert stream.usage is not None and stream.usage.completion_tokens == case.usage[1]  # type: ignore[index]


async def test_groq_basic_usage_timings_and_rate_limit_headers() -> None:
    stream, events, _ = await _replay("groq_stream_basic.sse")
    usage = stream.usage
    assert usage is not None
    # usage only in x_groq.usage, with Groq's timings
    assert usage.queue_time == pytest.approx(0.173082861)
    assert usage.prompt_time == pytest.approx(0.008)
    assert usage.completion_time == pytest.approx(0.008)
    assert usage.total_time == pytest.approx(0.016)
    assert [type(e) for e in events][-2:] == [Finish, UsageUpdate]
    rl = stream.rate_limit
    assert rl is not None
    assert rl.limit_requests == 14400
    assert rl.limit_tokens == 12000
    assert rl.remaining_requests == 14399
    assert rl.remaining_tokens == 11986
    assert rl.reset_requests_s == pytest.approx(6.0)
    assert rl.reset_tokens_s == pytest.approx(0.07)
    assert rl.to_dict() == {
        "remaining_requests": 14399,
        "remaining_tokens": 11986,
        "reset_requests_s": pytest.approx(6.0),
        "reset_tokens_s": pytest.approx(0.07),
    }
    assert stream.request_id == "req_01hw9fmsene0srtm0eb8jhddm0"
    assert stream.result().rate_limit == rl
    figures = stream.figures()
    assert figures.tokens_exact is True
    assert figures.completion_tokens == 8
    assert figures.server_tps == pytest.approx(8 / 0.008)
    assert figures.queue_s == pytest.approx(0.173082861)


async def test_groq_gpt_oss_reasoning_before_answer_and_usage_not_doubled() -> None:
    """The final chunk has the same usage at the top level AND in x_groq.usage: read once, not summed."""
    stream, events, _ = await _replay("groq_stream_gpt_oss.sse")
    kinds = [type(e) for e in events if isinstance(e, ContentDelta | ReasoningDelta)]
    first_content = kinds.index(ContentDelta)
    assert kinds[:first_content] == [ReasoningDelta] * 37
    assert set(kinds[first_content:]) == {ContentDelta}
    assert "analysis" not in stream.text and "analysis" not in stream.reasoning  # the `channel` extra is ignored
    usage = stream.usage
    assert usage is not None
    assert usage.completion_tokens == 58 and usage.total_tokens == 397
    assert usage.reasoning_tokens == 38
    assert usage.queue_time == pytest.approx(0.005626991)
    assert usage.completion_time == pytest.approx(0.125333784)
    assert stream.figures().server_tps == pytest.approx(58 / 0.125333784)


async def test_groq_tool_call_complete_in_one_chunk() -> None:
    stream, _, _ = await _replay("groq_stream_tool_call.sse")
    (call,) = stream.tool_calls
    assert json.loads(call.arguments) == {"name": "example"}
    assert stream.usage is not None and stream.usage.reasoning_tokens == 23
    assert stream.result().tool_calls == [call]


async def test_openai_tool_call_fragments_joined_by_index() -> None:
    stream, events, _ = await _replay("openai_stream_tool_call_include_usage.sse")
    (call,) = stream.tool_calls
    assert call.arguments == '{"country":"UK"}'
    assert json.loads(call.arguments) == {"country": "UK"}
    # the usage arrives in a trailing `choices: []` chunk, after the finish
    assert [type(e) for e in events] == [Finish, UsageUpdate]


@pytest.mark.parametrize(
    ("name", "final"),
    [("hf_router_stream_novita_2026.sse", (40, 2, 42)), ("openai_stream_include_usage.sse", (78, 9, 87))],
)
async def test_usage_only_chunk_with_empty_choices(name: str, final: tuple[int, int, int]) -> None:
    stream, events, _ = await _replay(name)
    assert isinstance(events[-1], UsageUpdate)
    assert isinstance(events[-2], Finish)
    usage = events[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == final
    assert stream.figures().tokens_exact is True
    assert stream.figures().completion_tokens == final[1]


@pytest.mark.parametrize(
    ("name", "updates", "final_completion"),
    [("hf_router_stream_novita_2025.sse", 21, 20), ("hf_router_stream_hyperbolic.sse", 21, 21)],
)
async def test_cumulative_usage_last_one_wins(name: str, updates: int, final_completion: int) -> None:
    """Usage on every chunk is cumulative: the answer has the LAST value, never the sum."""
    stream, events, _ = await _replay(name)
    seen = [e.usage.completion_tokens for e in events if isinstance(e, UsageUpdate)]
    assert len(seen) == updates
    assert seen == sorted(seen)  # it only grows
    assert seen[-1] == final_completion
    assert stream.usage is not None and stream.usage.completion_tokens == final_completion
    assert stream.figures().completion_tokens == final_completion


async def test_cerebras_stream_without_done_ends_fine_with_time_info() -> None:
    raw = (FIXTURES / "hf_router_stream_cerebras.sse").read_bytes()
    assert b"[DONE]" not in raw
    stream, _, _ = await _replay("hf_router_stream_cerebras.sse")
    assert stream.finish_reason == "length"
    usage = stream.usage
    assert usage is not None
    assert usage.queue_time == pytest.approx(0.000094581)
    assert usage.completion_time == pytest.approx(0.01709422)
    assert stream.figures().server_tps == pytest.approx(20 / 0.01709422)
    assert stream.request_id == "91e482e57f974286-SJC"


async def test_tgi_empty_id_and_repeated_role() -> None:
    stream, events, _ = await _replay("hf_router_stream_hf_inference_tgi.sse")
    assert "assistant" not in stream.text
    assert len([e for e in events if isinstance(e, ContentDelta)]) == 20
    assert not stream.result().id  # `""` on the wire: no id
    assert stream.request_id == "Root=1-67dd7190-615bcac119469add33fc26b0;62946adc-3d6f-4c52-bbba-c47e99eeb81b"


async def test_hyperbolic_spaces_inside_json() -> None:
    raw = (FIXTURES / "hf_router_stream_hyperbolic.sse").read_bytes()
    assert b'"content": "Deep"' in raw
    stream, _, _ = await _replay("hf_router_stream_hyperbolic.sse")
    assert stream.text.startswith("Deep learning is")


async def test_groq_error_event_delivers_reasoning_first_then_raises() -> None:
    server = Server(fixture_response("groq_stream_error_event.sse"))
    client, sleeper = make_client(server)
    events = []
    stream = client.stream(chat_request())
    with pytest.raises(InvalidRequestError) as caught:
        async with stream:
            async for event in stream:
                events.append(event)
    await client.aclose()
    # everything before the `event: error` arrived as events first
    assert len(events) == 93
    assert all(isinstance(e, ReasoningDelta) for e in events)
    assert "".join(e.text for e in events) == ERROR_EVENT_REASONING
    assert stream.reasoning == ERROR_EVENT_REASONING
    assert stream.text == ""
    assert stream.finish_reason is None
    error = caught.value
    assert error.kind == "invalid_request"
    assert error.code == "tool_use_failed"
    assert error.status == 400
    assert error.message == ERROR_EVENT_MESSAGE
    assert error.provider == "testprov"
    assert error.exit_code == 6
    # a started stream is never retried
    assert server.count == 1 and sleeper.waits == []
    assert server.streams[0].closed


# ---------------------------------------------------------------------------------------------------------
# Non-streamed answers
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ChatCase:
    text: str | tuple[str, str, int]  # exact, or (start, end, length)
    finish: str
    usage: tuple[int, int, int]
    model: str
    id: str | None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


CHATS: dict[str, ChatCase] = {
    "groq_chat_basic.json": ChatCase(
        text="Hello, World!",
        finish="stop",
        usage=(20, 4, 24),
        model="llama3-8b-8192",
        id="chatcmpl-94ff143c-27bf-43b7-89be-85dca21859d2",
    ),
    "groq_chat_basic_2026.json": ChatCase(
        text="Hello! It's nice to meet you. Is there something I can help you with, or would you like to chat?",
        finish="stop",
        usage=(43, 26, 69),
        model="llama-3.1-8b-instant",
        id="chatcmpl-e8de69b9-139a-42b6-bdba-32c619ac0e82",
    ),
    "groq_chat_reasoning.reserialized.json": ChatCase(
        text="",
        reasoning='We need to call with correct param: name field. Use some name, e.g., "test".',
        finish="tool_calls",
        usage=(301, 52, 353),
        model="openai/gpt-oss-120b",
        id="chatcmpl-b089cbdd-ca65-41a1-9409-639d476f87c0",
        tool_calls=[
            ToolCall(
                index=0,
                id="fc_311ba17b-89f9-48d3-8fd9-7e74a1264855",
                name="get_something_by_name",
                arguments='{"name":"test"}',
            )
        ],
    ),
    "groq_chat_tool_calls.json": ChatCase(
        text="",
        finish="tool_calls",
        usage=(1106, 118, 1224),
        model="mixtral-8x7b-32768",
        id="chatcmpl-c0e4e381-04f4-447d-9c86-65998d610065",
        tool_calls=[
            ToolCall(index=0, id="call_6dh1", name="get_weather_report", arguments='{"city":"Brisbane, QLD"}')
        ],
    ),
    "hf_router_chat_hf_inference_tgi.json": ChatCase(
        text=(
            "Deep learning is a subfield of artificial intelligence (AI) ",
            "particularly when they are composed of multiple layers of complex components.",
            3141,
        ),
        finish="stop",
        usage=(46, 579, 625),
        model="meta-llama/Llama-3.1-8B-Instruct",
        id=None,
    ),
    "hf_router_chat_together_pretty.json": ChatCase(
        text=(
            "Deep learning is a subfield of machine learning that involves the use of artificial neural networks",
            "and has many applications in fields such as computer vision, natural language processing, and robotics.",
            3441,
        ),
        finish="stop",
        usage=(26, 597, 623),
        model="meta-llama/Meta-Llama-3-8B-Instruct-Turbo",
        id="9115d3daeab10608",
    ),
    "hf_router_chat_together_tool_calls_2026.reserialized.json": ChatCase(
        text="",
        finish="tool_calls",
        usage=(616, 7, 623),
        model="meta-llama/Llama-4-Scout-17B-16E-Instruct",
        id="oS9Xt2L-3pDw3Z-9b97ab8bcfbbe5fe",
        tool_calls=[
            ToolCall(index=0, id="call_f7631c2901964a6db675853a", name="get_weather", arguments='{"city": "Paris"}')
        ],
    ),
    "openai_chat_basic.json": ChatCase(
        text="to two.",
        finish="stop",
        usage=(19, 4, 23),
        model="gpt-3.5-turbo-0125",
        id="chatcmpl-B5Ybe7M1V7N9aqQtrjTGfSWGebrrb",
    ),
}


def test_every_chat_fixture_is_covered() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*_chat_*.json")}
    assert on_disk == set(CHATS)


@pytest.mark.parametrize("name", sorted(CHATS))
async def test_chat_fixture_generate(name: str) -> None:
    case = CHATS[name]
    server = Server(fixture_response(name))
    client, _ = make_client(server)
    async with client:
        answer = await client.generate(chat_request())
    if isinstance(case.text, tuple):
        start, end, length = case.text
        assert answer.text.startswith(start)
        assert answer.text.endswith(end)
        assert len(answer.text) == length
    else:
        assert answer.text == case.text
    assert answer.reasoning == case.reasoning
    assert answer.finish_reason == case.finish
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == case.usage
    assert answer.model == case.model
    assert answer.id == case.id
    assert answer.tool_calls == case.tool_calls
    assert server.count == 1
    assert server.streams[0].closed
    body = json.loads(server.requests[0].content)
    assert "stream" not in body and body["model"] == "test-model"


async def test_groq_chat_basic_rate_limit_headers_and_request_id() -> None:
    server = Server(fixture_response("groq_chat_basic.json"))
    client, _ = make_client(server)
    async with client:
        answer = await client.generate(chat_request())
    rl = answer.rate_limit
    assert rl is not None
    assert (rl.limit_requests, rl.limit_tokens) == (14400, 15000)
    assert (rl.remaining_requests, rl.remaining_tokens) == (14399, 14985)
    assert rl.reset_requests_s == pytest.approx(6.0)
    assert rl.reset_tokens_s == pytest.approx(0.06)
    assert answer.request_id == "req_01hvxb8djceqh8ndr08c7kdhrk"
    assert answer.usage is not None and answer.usage.completion_time == pytest.approx(0.004)


async def test_groq_2026_chat_usage_timings() -> None:
    server = Server(fixture_response("groq_chat_basic_2026.json"))
    client, _ = make_client(server)
    async with client:
        answer = await client.generate(chat_request())
    assert answer.usage is not None
    assert answer.usage.queue_time == pytest.approx(0.071900347)
    assert answer.usage.completion_time == pytest.approx(0.029974879)


async def test_groq_reasoning_answer_keeps_reasoning_tokens() -> None:
    server = Server(fixture_response("groq_chat_reasoning.reserialized.json"))
    client, _ = make_client(server)
    async with client:
        answer = await client.generate(chat_request())
    assert answer.usage is not None and answer.usage.reasoning_tokens == 22
    assert json.loads(answer.tool_calls[0].arguments) == {"name": "test"}


# ---------------------------------------------------------------------------------------------------------
# Error responses
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ErrorCase:
    status: int
    cls: type[ProviderError]
    code: str | None
    message: str
    content_type: str = "application/json"
    retry_after_s: float | None = None
    hint_has: str | None = None
    wrap: bool = False  # the file holds only the inner `error` object


MODEL_HINT = "botticelli models"
ERRORS: dict[str, ErrorCase] = {
    "groq_error_400_context_length.json": ErrorCase(
        400, InvalidRequestError, "context_length_exceeded",
        "Please reduce the length of the messages or completion.", hint_has="too long",
    ),
    "groq_error_400_max_completion_tokens.inner.json": ErrorCase(
        400, InvalidRequestError, None,
        "`max_completion_tokens` must be less than or equal to `16384`, the maximum value for "
        "`max_completion_tokens` is less than the `context_window` for this model",
        wrap=True,
    ),
    "groq_error_400_model_decommissioned.json": ErrorCase(
        400, ModelNotFoundError, "model_decommissioned",
        "The model `llama-3.2-11b-vision-preview` has been decommissioned and is no longer supported. Please refer "
        "to https://console.groq.com/docs/deprecations for a recommendation on which model to use instead.",
        hint_has="pick another",
    ),
    "groq_error_400_tool_use_failed.reserialized.json": ErrorCase(
        400, InvalidRequestError, "tool_use_failed",
        "Tool call validation failed: tool call validation failed: parameters for tool get_something_by_name did "
        "not match schema: errors: [missing properties: 'name', additionalProperties 'foo' not allowed]",
    ),
    "groq_error_401_invalid_api_key.json": ErrorCase(
        401, AuthError, "invalid_api_key", "Invalid API Key", hint_has="API key",
    ),
    "groq_error_404_model_not_found.json": ErrorCase(
        404, ModelNotFoundError, "model_not_found",
        "The model `non-existent` does not exist or you do not have access to it.", hint_has=MODEL_HINT,
    ),
    "groq_error_413_request_too_large.json": ErrorCase(
        413, InvalidRequestError, "rate_limit_exceeded",
        "Request too large for model `llama-3.3-70b-versatile` in organization `org_01jp8byqwpfx9sp1m0dbhb6a1e` "
        "service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 14810, please reduce your "
        "message size and try again. Visit https://console.groq.com/docs/rate-limits for more information.",
        hint_has="shorten",
    ),
    "groq_error_429_rpm.json": ErrorCase(
        429, RateLimitError, "rate_limit_exceeded",
        "Rate limit reached for model `llama-3.1-8b-instant` in organization `org_01k9v83k2bf1zr2nc2pzp9y3ad` "
        "service tier `on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again "
        "in 2s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
        retry_after_s=2.0, hint_has="wait 2 s",
    ),
    "groq_error_503_upstream_reset.txt": ErrorCase(
        503, ServerError, None,
        "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        content_type="text/plain",
    ),
    "hf_router_error_400_model_not_supported.json": ErrorCase(
        400, ModelNotFoundError, "model_not_supported",
        "the provider you attempted to explicitly specify 'auto' is not a valid provider.", hint_has=MODEL_HINT,
    ),
    "hf_router_error_401.json": ErrorCase(401, AuthError, None, "Invalid username or password."),
    "hf_router_error_404_model_not_found.json": ErrorCase(
        404, ModelNotFoundError, None, "Model this-model-does-not-exist-123 does not exist", hint_has=MODEL_HINT,
    ),
    "hf_router_error_422_plaintext.txt": ErrorCase(
        422, InvalidRequestError, None,
        "Failed to deserialize the JSON body into the target type: missing field `messages` at line 1 column 144",
    ),
    "hf_router_error_422_template.json": ErrorCase(
        422, InvalidRequestError, None, "Template error: template not found",
    ),
    "hf_router_error_500_together.reserialized.json": ErrorCase(
        500, ServerError, None, "Internal server error",
    ),
    "openai_error_400_missing_model.json": ErrorCase(
        400, InvalidRequestError, None, "you must provide a model parameter",
    ),
    "openai_error_404_model_not_found.reserialized.json": ErrorCase(
        404, ModelNotFoundError, "model_not_found",
        "The model `gpt-5.2-proo` does not exist or you do not have access to it.", hint_has=MODEL_HINT,
    ),
}


def test_every_error_fixture_is_covered() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*_error_*") if p.suffix in (".json", ".txt")}
    on_disk -= {p.name for p in FIXTURES.glob("*.headers.txt")}
    assert on_disk == set(ERRORS)


def _error_response(name: str, case: ErrorCase):  # type: ignore[no-untyped-def]
    raw = (FIXTURES / name).read_bytes()
    if case.wrap:
        raw = json.dumps({"error": json.loads(raw)}).encode()
    file_status, headers = fixture_headers(name)
    if file_status is not None:
        assert file_status == case.status, "the headers file and the table agree"
    if not headers:
        headers = [("content-type", case.content_type)]
    return response(case.status, raw, headers)


def _check_error(error: ProviderError, case: ErrorCase) -> None:
    assert type(error) is case.cls
    assert error.status == case.status
    assert error.code == case.code
    assert error.message == case.message
    assert error.provider == "testprov"
    assert error.retry_after_s == case.retry_after_s
    if case.hint_has:
        assert case.hint_has in error.hint
        assert case.hint_has in error.one_line()
    line = error.one_line()
    assert line.startswith(f"error: testprov: HTTP {case.status}")
    assert "\n" not in line
    assert error.to_dict()["kind"] == case.cls.kind


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_error_fixture_through_generate(name: str) -> None:
    case = ERRORS[name]
    server = Server(_error_response(name, case))
    client, _ = make_client(server, max_retries=0)
    async with client:
        with pytest.raises(ProviderError) as caught:
            await client.generate(chat_request())
    _check_error(caught.value, case)
    assert server.count == 1
    assert server.streams[0].closed


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_error_fixture_through_stream(name: str) -> None:
    case = ERRORS[name]
    server = Server(_error_response(name, case))
    client, _ = make_client(server, max_retries=0)
    events = []
    async with client:
        with pytest.raises(ProviderError) as caught:
            async with client.stream(chat_request()) as stream:
                async for event in stream:
                    events.append(event)
    _check_error(caught.value, case)
    assert events == []
    assert server.streams[0].closed


async def test_groq_401_carries_the_request_id() -> None:
    case = ERRORS["groq_error_401_invalid_api_key.json"]
    server = Server(_error_response("groq_error_401_invalid_api_key.json", case))
    client, _ = make_client(server, max_retries=0)
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.generate(chat_request())
    assert caught.value.request_id == "req_01jngbvsctfy0bmjw87yea904b"
    assert caught.value.exit_code == 3


async def test_groq_429_with_documented_headers_reads_retry_after_header() -> None:
    """groq_error_429.headers.txt (the docs' illustrative values) with the real RPM body."""
    status, headers = fixture_headers("groq_error_429.json")
    assert status == 429
    headers = [(k, "7" if k == "retry-after" else v) for k, v in headers]  # tell header and message apart
    raw = (FIXTURES / "groq_error_429_rpm.json").read_bytes()
    server = Server(response(429, raw, headers))
    client, _ = make_client(server, max_retries=0)
    async with client:
        with pytest.raises(RateLimitError) as caught:
            await client.generate(chat_request())
    assert caught.value.retry_after_s == 7.0
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.exit_code == 4
    assert "wait 7 s" in caught.value.one_line()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls", "message"),
    [
        (
            502,
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
            b"</center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
            "text/html",
            ServerError,
            "502 Bad Gateway",
        ),
        (503, b"", "text/plain", ServerError, "(empty response body)"),
        (500, b"", "application/json", ServerError, "(empty response body)"),
        (401, b"<!DOCTYPE html><html><body><p>Sign in</p></body></html>", "text/html", AuthError, "Sign in"),
    ],
)
async def test_html_and_empty_error_bodies(
    status: int, body: bytes, content_type: str, cls: type[ProviderError], message: str
) -> None:
    for use_stream in (False, True):
        server = Server(response(status, body, [("content-type", content_type)]))
        client, _ = make_client(server, max_retries=0)
        async with client:
            with pytest.raises(ProviderError) as caught:
                if use_stream:
                    async with client.stream(chat_request()) as stream:
                        async for _ in stream:
                            pass
                else:
                    await client.generate(chat_request())
        assert type(caught.value) is cls
        assert caught.value.message == message
        assert caught.value.status == status
        assert "<" not in caught.value.one_line()


async def test_generate_on_a_non_json_200_is_a_protocol_error() -> None:
    server = Server(response(200, b"<html>welcome to nginx</html>", [("content-type", "text/html")]))
    client, _ = make_client(server)
    async with client:
        with pytest.raises(ProviderError) as caught:
            await client.generate(chat_request())
    assert caught.value.kind == "protocol"
    assert caught.value.exit_code == 9
    assert server.count == 1


def test_fixture_headers_parser_reads_status_and_duplicates() -> None:
    status, headers = fixture_headers("openai_stream_include_usage.sse")
    assert status == 200
    assert [v for k, v in headers if k == "access-control-expose-headers"] == ["X-Request-ID", "CF-Ray", "CF-Ray"]
    assert httpx.Headers(headers)["content-type"] == "text/event-stream; charset=utf-8"

"""Small typed DTOs shared by the client, the stats, the CLI and the TUI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def server_number(value: Any) -> float | None:
    """A number a server sent, if it is a finite, non-negative int or float (not a bool); otherwise None.

    Usage counts, timings and rate-limit figures are untrusted: `1e400` (inf), NaN, -5 or "12" mean "absent".
    """
    if type(value) is int:
        return float(value) if value >= 0 else None
    if type(value) is float and math.isfinite(value) and value >= 0:
        return value
    return None


def server_count(value: Any) -> int | None:
    """A count a server sent (see `server_number`), as an int; a huge int is kept exact, inf is absent."""
    if type(value) is int:
        return value if value >= 0 else None
    number = server_number(value)
    return int(number) if number is not None else None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation, as sent to the provider."""

    role: str  # "system" | "user" | "assistant"
    content: str

    def to_wire(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(slots=True)
class ChatRequest:
    """What to ask: the model, the messages and the sampling parameters."""

    model: str
    messages: list[ChatMessage]
    max_tokens: int | None = None
    temperature: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # merged into the JSON body last

    def to_body(self, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": [m.to_wire() for m in self.messages]}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(self.extra)
        return body


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage as the server reported it, with Groq-style timings (seconds) where given."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None
    server_tps: float | None = None
    """The server's own generation rate, where it states one (llama.cpp's `timings.predicted_per_second`)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], time_info: dict[str, Any] | None = None) -> Usage:
        """Build from an OpenAI/Groq `usage` object (and Cerebras' `time_info`, if any)."""
        details = data.get("completion_tokens_details") or {}
        timing = time_info or {}

        def num(key: str) -> float | None:
            return server_number(data.get(key, timing.get(key)))

        return cls(
            prompt_tokens=server_count(data.get("prompt_tokens")),
            completion_tokens=server_count(data.get("completion_tokens")),
            total_tokens=server_count(data.get("total_tokens")),
            reasoning_tokens=server_count(details.get("reasoning_tokens")) if isinstance(details, dict) else None,
            queue_time=num("queue_time"),
            prompt_time=num("prompt_time"),
            completion_time=num("completion_time"),
            total_time=num("total_time"),
        )

    def to_dict(self) -> dict[str, int | None]:
        """The docs/ARCHITECTURE.md `usage` object."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call, accumulated by `index` over the stream."""

    index: int
    id: str | None
    name: str | None
    arguments: str


# Stream events (not frozen: a frozen dataclass costs a microsecond more to build, per token) ----------------


@dataclass(slots=True)
class ContentDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    text: str


@dataclass(slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(slots=True)
class Finish:
    reason: str


StreamEvent = ContentDelta | ReasoningDelta | UsageUpdate | Finish


@dataclass(slots=True)
class ChatResponse:
    """A finished (non-streamed or fully streamed) answer."""

    text: str
    reasoning: str | None
    finish_reason: str | None
    usage: Usage | None
    model: str | None = None
    id: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    rate_limit: RateLimitInfo | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per 1M tokens, in and out."""

    input_per_m: float
    output_per_m: float

    def to_dict(self) -> dict[str, float]:
        return {"input_per_m": self.input_per_m, "output_per_m": self.output_per_m}


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """One provider behind a model of the HF router: its status, context, price and published speed."""

    provider: str
    status: str | None = None
    context_length: int | None = None
    price: Price | None = None
    supports_tools: bool | None = None
    ttft_ms: float | None = None
    """The router's published `first_token_latency_ms` (its latest validation probe)."""
    throughput_tps: float | None = None
    """The router's published `throughput` in tok/s."""

    @property
    def live(self) -> bool:
        return self.status in (None, "live")

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "status": self.status, "context_length": self.context_length,
                "price": self.price.to_dict() if self.price else None, "supports_tools": self.supports_tools,
                "ttft_ms": self.ttft_ms, "throughput_tps": self.throughput_tps}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of `GET /models`, with the catalogue fields the provider publishes (None: not published)."""

    id: str
    owned_by: str | None = None
    context_window: int | None = None
    active: bool = True
    chat: bool = True  # False for speech, TTS, guard and other non-chat models
    max_completion_tokens: int | None = None
    input_modalities: tuple[str, ...] | None = None
    features: tuple[str, ...] | None = None
    supports_tools: bool | None = None
    price: Price | None = None
    """The provider's published price; for the HF router, that of the provider its default policy picks."""
    providers: tuple[ProviderOffer, ...] = ()

    @property
    def vision(self) -> bool | None:
        """True when the model takes images, False when it says it does not, None when it does not say."""
        return None if self.input_modalities is None else "image" in self.input_modalities


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What the provider's rate-limit headers said (Groq: requests per day, tokens per minute)."""

    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None
    retry_after_s: float | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__slots__)

    def to_dict(self) -> dict[str, float | int | None]:
        """The docs/ARCHITECTURE.md `rate_limit` object."""
        return {
            "remaining_requests": self.remaining_requests,
            "remaining_tokens": self.remaining_tokens,
            "reset_requests_s": self.reset_requests_s,
            "reset_tokens_s": self.reset_tokens_s,
        }

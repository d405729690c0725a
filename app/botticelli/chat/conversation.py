"""A conversation: its settings (profile, model, system prompt, temperature, max tokens) and its exchanges.

Parameters are checked here, once, by the rules both the CLI and the TUI apply (`check_temperature`,
`check_max_tokens`), and a request is built from the conversation here (`Conversation.request`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botticelli.providers.types import ChatMessage, ChatRequest, RateLimitInfo
from botticelli.stats import SpeedFigures

if TYPE_CHECKING:
    from botticelli.providers.errors import ProviderError

TEMPERATURE_RANGE = (0.0, 2.0)


def check_temperature(value: float | None) -> float | None:
    """`value` when None or from 0 to 2; ValueError (saying the rule) otherwise."""
    if value is None:
        return None
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:  # NaN fails this too
        raise ValueError(f"temperature must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def check_max_tokens(value: int | None) -> int | None:
    """`value` when None or a whole number of at least 1; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max tokens must be a whole number of at least 1, got {value}")
    return value


def parse_temperature(text: str) -> float | None:
    """`""` → None; a number from 0 to 2; ValueError otherwise."""
    text = text.strip()
    return check_temperature(float(text)) if text else None


def parse_max_tokens(text: str) -> int | None:
    """`""` → None; a whole number of at least 1; ValueError otherwise."""
    text = text.strip()
    return check_max_tokens(int(text)) if text else None


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What every request of the conversation carries; None means the provider's default."""

    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        check_temperature(self.temperature)
        check_max_tokens(self.max_tokens)

    def params(self) -> dict[str, float | int | None]:
        """The parameters as stored with a session."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def describe(self) -> str:
        """`system prompt set, temperature 0.7, default max tokens`."""
        return ", ".join([
            "system prompt set" if self.system_prompt else "no system prompt",
            f"temperature {self.temperature:g}" if self.temperature is not None else "default temperature",
            f"max {self.max_tokens:,} tokens" if self.max_tokens is not None else "default max tokens",
        ])


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Exchange:
    """One prompt and the answer it got (or the error, or the part that arrived before a stop)."""

    prompt: str
    profile: str
    model: str
    answer: str = ""
    reasoning: str = ""
    figures: SpeedFigures | None = None
    finish_reason: str | None = None
    error: ProviderError | None = None
    error_kind: str | None = None
    """`error.kind`, or `config` / `internal` for a failure that is not the provider's."""
    error_text: str | None = None
    """The error as shown inline (what happened, then what to do)."""
    cancelled: bool = False
    rate_limit: RateLimitInfo | None = None
    created_at: datetime = field(default_factory=_now)
    answered_at: datetime | None = None

    @property
    def label(self) -> str:
        """`profile·model`, the answer's title."""
        return f"{self.profile}·{self.model}"

    @property
    def cut(self) -> bool:
        """True when the answer stopped at the length limit or a content filter (it is incomplete)."""
        return self.finish_reason in ("length", "content_filter")

    def wire(self) -> list[ChatMessage]:
        """The messages this exchange adds to the next request: the prompt, and the answer if any arrived."""
        if not self.answer:
            return []
        return [ChatMessage("user", self.prompt), ChatMessage("assistant", self.answer)]


@dataclass
class Conversation:
    """The exchanges of one chat and the settings they are sent with (this chat's only)."""

    settings: ChatSettings = field(default_factory=ChatSettings)
    exchanges: list[Exchange] = field(default_factory=list)

    def request(self, exchange: Exchange) -> ChatRequest:
        """The request that asks for `exchange`'s answer: system prompt, the exchanges before it, its prompt."""
        messages: list[ChatMessage] = []
        if self.settings.system_prompt:
            messages.append(ChatMessage("system", self.settings.system_prompt))
        for earlier in self.exchanges:
            if earlier is exchange:
                break
            messages.extend(earlier.wire())
        messages.append(ChatMessage("user", exchange.prompt))
        return ChatRequest(
            exchange.model,
            messages,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
        )

"""What the chat screen tells the rest of the app: the seam a session store plugs into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from textual.message import Message

from botticelli.providers.errors import ProviderError
from botticelli.providers.types import ChatMessage, RateLimitInfo
from botticelli.stats import SpeedFigures


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

    def wire(self) -> list[ChatMessage]:
        """The messages this exchange adds to the next request: the prompt, and the answer if any arrived."""
        if not self.answer:
            return []
        return [ChatMessage("user", self.prompt), ChatMessage("assistant", self.answer)]


class PromptSent(Message):
    """A prompt went out to `exchange.profile`·`exchange.model`."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange


class AnswerProgress(Message):
    """An answer is still streaming; `text` and `reasoning` are what arrived so far (raw: escapes not stripped).

    Posted at most every `CHECKPOINT_S` seconds, so a listener may save it without slowing the stream.
    """

    def __init__(self, exchange: Exchange, text: str, reasoning: str) -> None:
        super().__init__()
        self.exchange = exchange
        self.text = text
        self.reasoning = reasoning


class ExchangeDropped(Message):
    """An exchange left the conversation: its answer is being regenerated, or its prompt is being edited."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange


class AnswerFinished(Message):
    """An answer ended: complete, cancelled (partial text kept) or failed (`exchange.error`)."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange


class ConversationCleared(Message):
    """The user started a new chat."""


CHECKPOINT_S = 2.0
"""At most this often, a streaming answer is reported with `AnswerProgress`."""

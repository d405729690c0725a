"""What a turn tells its caller, in order: typed events, never loose dicts.

`Started` → (`RetryScheduled`)* → (`ReasoningDelta` | `ContentDelta` | `Figures`)* → `Finished` or `Failed`.
A stopped turn ends with `Finished(finish_reason="cancelled")`. Every event carries `at`, the network loop's
`time.perf_counter()` when it happened (chunks: when they arrived), so a slow reader never changes a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botticelli.providers.types import RateLimitInfo
from botticelli.stats import SpeedFigures


@dataclass(frozen=True, slots=True)
class Started:
    """The request is going out to `profile`·`model`."""

    profile: str
    model: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """No answer yet: attempt `attempt` of `of` goes out after `wait_s` seconds."""

    wait_s: float
    attempt: int
    of: int
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More reasoning text (raw: terminal escapes not stripped)."""

    text: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """More answer text (raw: terminal escapes not stripped)."""

    text: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    """The speed so far (`final=False`, at most every `LIVE_EVERY_S`) or of the whole answer (`final=True`)."""

    figures: SpeedFigures
    final: bool = False
    rate_limit: RateLimitInfo | None = None
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Finished:
    """The answer ended: `stop`, `length` (cut), `tool_calls`, ..., or `cancelled` (the part received kept)."""

    finish_reason: str
    text: str
    reasoning: str
    figures: SpeedFigures | None
    rate_limit: RateLimitInfo | None = None
    at: float = 0.0

    @property
    def cut(self) -> bool:
        """True when the answer is incomplete because of a length limit or a content filter."""
        return self.finish_reason in ("length", "content_filter")


@dataclass(frozen=True, slots=True)
class Failed:
    """The turn failed; `text` and `reasoning` hold the part that arrived before the error."""

    error: TurnError
    text: str
    reasoning: str
    figures: SpeedFigures | None
    rate_limit: RateLimitInfo | None = None
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TurnError:
    """Why a turn failed: the provider's error, a configuration problem, or a bug (kind `internal`).

    `exc` is the original exception; `shown` is the text shown where the answer would be (what happened, then
    what to do); `to_dict()` is the stored and `--json` error object.
    """

    kind: str
    shown: str
    line: str
    """The one-line form (`error: groq: ... (hint)`) the CLI prints."""
    exit_code: int
    exc: BaseException
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)


TurnEvent = Started | RetryScheduled | ReasoningDelta | ContentDelta | Figures | Finished | Failed

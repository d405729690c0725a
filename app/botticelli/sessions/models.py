"""The session store's DTOs and the small value helpers they need (ids, timestamps, titles)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botticelli.providers.errors import ProviderError, error_from_dict
from botticelli.stats import SpeedFigures

ROLES = ("user", "assistant", "system")
TITLE_MAX = 60


@dataclass(slots=True)
class Session:
    """One conversation: its metadata and how many messages it holds."""

    id: str
    title: str | None
    created_at: str
    updated_at: str
    system_prompt: str | None = None
    profile: str | None = None
    model: str | None = None
    message_count: int = 0
    params: dict[str, Any] | None = None
    """Sampling parameters the conversation uses (`temperature`, `max_tokens`), None for the defaults."""

    @property
    def display_title(self) -> str:
        return self.title or "(untitled)"

    def to_dict(self) -> dict[str, Any]:
        """The docs/ARCHITECTURE.md `sessions list --json` item."""
        return {
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "profile": self.profile,
            "model": self.model,
            "messages": self.message_count,
        }


@dataclass(slots=True)
class Message:
    """One stored turn. `finish_reason` None on an assistant message means it never finished."""

    id: int
    session_id: str
    seq: int
    role: str
    content: str
    created_at: str
    reasoning: str | None = None
    profile: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    stats: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def figures(self) -> SpeedFigures | None:
        """The stored `stats` object as typed speed figures."""
        return SpeedFigures.from_dict(self.stats) if self.stats else None

    @property
    def failure(self) -> ProviderError | None:
        """The stored `error` object as a typed error of its kind (`one_line()`, `exit_code`, `hint`)."""
        return error_from_dict(self.error, provider=self.profile) if self.error else None

    @property
    def interrupted(self) -> bool:
        """An assistant answer whose stream never finished (the process died or is still streaming)."""
        return self.role == "assistant" and self.finish_reason is None

    @property
    def status(self) -> str | None:
        """`finish_reason`, or `"interrupted"` for an answer that never finished."""
        return "interrupted" if self.interrupted else self.finish_reason


@dataclass(slots=True)
class NewMessage:
    """A message to be written as a whole (import): every stored field but the ids."""

    role: str
    content: str
    created_at: str
    reasoning: str | None = None
    profile: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    stats: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class NewSession:
    """A whole session to be written in one transaction (import)."""

    title: str | None
    created_at: str
    system_prompt: str | None = None
    messages: list[NewMessage] = field(default_factory=list)
    params: dict[str, Any] | None = None
    """Sampling parameters (`temperature`, `max_tokens`), None for the provider's defaults."""


@dataclass(slots=True)
class SearchHit:
    """One search result. `message_id` and `seq` are None when the title matched.

    `snippet` is plain text around the first match (whitespace collapsed); `spans` are the (start, end)
    offsets of the matches inside it, for highlighting.
    """

    session_id: str
    title: str | None
    role: str
    snippet: str
    message_id: int | None = None
    seq: int | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The docs/ARCHITECTURE.md `sessions search --json` item."""
        return {"session_id": self.session_id, "title": self.title, "role": self.role, "snippet": self.snippet}


@dataclass(slots=True)
class BenchRun:
    """One measured run of a bench race."""

    id: int
    race_id: str
    created_at: str
    prompt: str
    target: str
    run: int
    stats: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def figures(self) -> SpeedFigures | None:
        """The stored `stats` object as typed speed figures."""
        return SpeedFigures.from_dict(self.stats) if self.stats else None

    @property
    def failure(self) -> ProviderError | None:
        """The stored `error` object as a typed error of its kind, from the target's profile."""
        return error_from_dict(self.error, provider=self.target.partition(":")[0]) if self.error else None


def utc_now() -> str:
    """Now as ISO-8601 UTC with seconds: `2026-11-24T21:03:00Z`."""
    return format_timestamp(datetime.now(UTC))


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (naive means UTC); raises ValueError."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_session_id() -> str:
    """12 lowercase hex characters: short, URL-safe, 48 random bits."""
    return secrets.token_hex(6)


def new_race_id() -> str:
    """An id grouping the runs of one bench race."""
    return secrets.token_hex(6)


def title_from_prompt(text: str, limit: int = TITLE_MAX) -> str | None:
    """A session title from a prompt: its first non-blank line, whitespace collapsed, cut at a word near `limit`.

    Terminal escape sequences are removed: a title is shown everywhere, often in narrow places.
    """
    from botticelli.safety import strip_escapes

    for line in strip_escapes(text).splitlines():
        line = " ".join(line.split())
        if line:
            break
    else:
        return None
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"

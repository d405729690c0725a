"""Human-readable lines for stored messages: the stats line shown by `sessions show` and the Markdown export."""

from __future__ import annotations

from typing import Any

from botticelli.sessions.models import Message


def stats_line(message: Message) -> str:
    """The speed figures as the TUI and `ask` show them (`stats.summary_line`), then how the answer ended.

    `TTFT 210ms · 840 tok/s · 8 tok · server 1,000 tok/s · queue 170ms · total 250ms · stop`; empty for
    messages with nothing to report (user and system messages).
    """
    from botticelli.stats import SpeedFigures, summary_line

    parts: list[str] = []
    if message.stats:
        parts.append(summary_line(SpeedFigures.from_dict(message.stats)))
    status = message.status
    if status and (message.role == "assistant" or message.finish_reason) and not (message.error and status == "error"):
        parts.append(status)
    if message.error:
        parts.append(f"error: {error_text(message.error)}")
    return " · ".join(parts)


def error_text(error: dict[str, Any]) -> str:
    """`rate_limit HTTP 429 rate_limit_exceeded: Rate limit reached ...` from a docs/ARCHITECTURE.md error object."""
    head = [str(error.get("kind") or "error")]
    if error.get("status") is not None:
        head.append(f"HTTP {error['status']}")
    if error.get("code"):
        head.append(str(error["code"]))
    message = " ".join(str(error.get("message") or "").split())
    return f"{' '.join(head)}: {message}" if message else " ".join(head)


def message_heading(message: Message) -> str:
    """`assistant · groq · llama-3.1-8b-instant · 2026-11-24 21:03:05 UTC`."""
    parts = [message.role]
    if message.profile:
        parts.append(message.profile)
    if message.model:
        parts.append(message.model)
    parts.append(readable_time(message.created_at))
    return " · ".join(parts)


def readable_time(timestamp: str) -> str:
    """`2026-11-24T21:03:05Z` -> `2026-11-24 21:03:05 UTC`."""
    if timestamp.endswith("Z") and "T" in timestamp:
        return timestamp[:-1].replace("T", " ") + " UTC"
    return timestamp

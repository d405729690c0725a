"""Human-readable lines for stored messages: the stats line shown by `sessions show` and the Markdown export."""

from __future__ import annotations

from botticelli.sessions.models import Message


def stats_line(message: Message) -> str:
    """The speed figures as the TUI and `ask` show them (`format.summary_line`), then how the answer ended.

    `TTFT 210ms · 840 tok/s · 8 tok · server 1,000 tok/s · queue 170ms · total 250ms · $0.0000034 · stop` (the
    cost where one was stored); an answer cut by
    the length limit says so; empty for messages with nothing to report (user and system messages).
    """
    from botticelli.catalog.cost import stored_cost
    from botticelli.format import cut_note, error_dict_line, summary_line

    parts: list[str] = []
    figures = message.figures
    if figures is not None:
        parts.append(summary_line(figures))
    if (cost := stored_cost(message.stats)) is not None:
        parts.append(cost.label())
    status = message.status
    if status and (message.role == "assistant" or message.finish_reason) and not (message.error and status == "error"):
        parts.append(cut_note(status) or status)
    if message.error:
        parts.append(f"error: {error_dict_line(message.error)}")
    return " · ".join(parts)


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

"""A lean Server-Sent Events reader for chat streams.

It splits lines only on CR, LF and CRLF (never on U+2028, as `str.splitlines` would), decodes UTF-8
incrementally (a character split across network chunks is joined), strips one space after the colon, joins
multi-line `data:` fields with `\\n`, ignores comments (`: ping`), `id:` and `retry:`, and does not dispatch an
event left unfinished at EOF. It yields `(event, data)` pairs; `event` is None for plain data events. It keeps
only what a chat client needs, so it does less work per event than a general SSE library.

A `deadline` (event-loop time) ends the body with TimeoutError however the server trickles bytes: keep-alive
comments do not extend it. An event (or a line) larger than `max_event_chars` raises EventTooLarge, so a server
that never ends a line cannot fill the memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from httpx_sse._decoders import SSELineDecoder

MAX_EVENT_CHARS = 64 * 1024 * 1024


class EventTooLarge(ValueError):
    """One SSE event (or one line) is larger than the reader accepts."""


async def iter_sse(
    response: httpx.Response,
    *,
    deadline: float | None = None,
    read_timeout_s: float = 0.0,
    max_event_chars: int = MAX_EVENT_CHARS,
) -> AsyncIterator[tuple[str | None, str]]:
    """The events of an SSE response body, as `(event name or None, data)`.

    Past `deadline` it raises TimeoutError. While more than `read_timeout_s` (the transport's own bound on one
    read) remains, a read cannot overrun the deadline, so the timer is only armed near the end: free per chunk.
    """
    decoder = SSELineDecoder()
    event: str | None = None
    data: list[str] = []
    held = 0  # characters buffered for the event being read: unfinished line plus its data lines so far
    next_text = response.aiter_text().__anext__
    now = asyncio.get_running_loop().time
    while True:
        try:
            if deadline is None or deadline - now() > read_timeout_s:
                text = await next_text()
            else:
                async with asyncio.timeout_at(deadline):
                    text = await next_text()
        except StopAsyncIteration:
            break
        held += len(text)
        if held > max_event_chars:
            raise EventTooLarge(f"an event is larger than {max_event_chars:,} characters")
        for line in decoder.decode(text):
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            elif not line:
                held = len(text)  # what is left of this piece, at most
                if data or event is not None:
                    yield event, "\n".join(data)
                    event, data = None, []
            elif line.startswith("event:"):
                event = line[7:] if line.startswith("event: ") else line[6:]
            elif line == "data":
                data.append("")
            # comments (":"), id, retry and unknown fields carry nothing a chat client needs

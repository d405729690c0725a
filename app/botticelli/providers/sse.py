"""A lean Server-Sent Events reader for chat streams.

It splits lines only on CR, LF and CRLF (never on U+2028, as `str.splitlines` would), decodes UTF-8
incrementally (a character split across network chunks is joined), strips one space after the colon, joins
multi-line `data:` fields with `\\n`, ignores comments (`: ping`), `id:` and `retry:`, and does not dispatch an
event left unfinished at EOF. It yields `(event, data)` pairs; `event` is None for plain data events. It keeps
only what a chat client needs, so it does less work per event than a general SSE library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from httpx_sse._decoders import SSELineDecoder


async def iter_sse(response: httpx.Response) -> AsyncIterator[tuple[str | None, str]]:
    """The events of an SSE response body, as `(event name or None, data)`."""
    decoder = SSELineDecoder()
    event: str | None = None
    data: list[str] = []
    async for text in response.aiter_text():
        for line in decoder.decode(text):
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            elif not line:
                if data or event is not None:
                    yield event, "\n".join(data)
                    event, data = None, []
            elif line.startswith("event:"):
                event = line[7:] if line.startswith("event: ") else line[6:]
            elif line == "data":
                data.append("")
            # comments (":"), id, retry and unknown fields carry nothing a chat client needs

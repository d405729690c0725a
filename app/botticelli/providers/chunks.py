"""Reading streamed `chat.completion.chunk` objects into events, whatever the provider's variations.

Handles: usage on any chunk (`usage` or Groq's `x_groq.usage`, the last one wins, never summed, cumulative per
chunk), usage-only chunks with `choices: []`, role repeated in every delta, reasoning as `reasoning` or
`reasoning_content`, tool calls complete or fragmented (accumulated by `index`), in-band `error` objects and
Groq's `x_groq.error`, llama.cpp's `timings` (the server's own prompt and generation times, see timings.py), and
provider extras that are simply ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from botticelli.providers.classify import classify_inband_error
from botticelli.providers.timings import timing_fields, usage_from_timings, usage_with_timings
from botticelli.providers.types import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
    Usage,
    UsageUpdate,
)


def content_text(content: Any) -> str:
    """A message's `content` as text: a string, or the text parts of an OpenAI content-parts list; else ""."""
    if type(content) is str:
        return content
    if type(content) is not list:
        return ""
    texts = []
    for part in content:
        if type(part) is str:
            texts.append(part)
        elif type(part) is dict and part.get("type", "text") == "text" and type(part.get("text")) is str:
            texts.append(part["text"])
    return "".join(texts)


def text_or_none(value: Any) -> str | None:
    """`value` if it is a non-empty string (an id, a name, a finish reason), else None."""
    return value if type(value) is str and value else None


BLOCK = 4096
"""Deltas joined into one string at a time (`TextBuffer.compact`)."""
TOOL_CALL_CHARS = 256
"""What one more tool call counts against an answer's size cap, whatever it holds (it costs memory too)."""


class TextBuffer(list[str]):
    """Append-only text kept as a few large strings: millions of tiny deltas do not cost an object each.

    `append` is the list's own (C speed, per token); call `compact()` when `len()` reaches `BLOCK`, which joins
    the pieces so far into one block. `text()` is everything, in order.
    """

    __slots__ = ("blocks",)
    BLOCK = BLOCK

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []

    def compact(self) -> None:
        self.blocks.append("".join(self))
        self.clear()

    def add(self, piece: str) -> None:
        """`append`, compacting when due (for the paths that are not per token)."""
        self.append(piece)
        if len(self) >= self.BLOCK:
            self.compact()

    def text(self) -> str:
        whole = "".join(self.blocks) + "".join(self)
        self.blocks = [whole] if whole else []
        self.clear()
        return whole


@dataclass
class _ToolCallParts:
    id: str | None = None
    name: str | None = None
    arguments: TextBuffer = field(default_factory=TextBuffer)


class ChunkReader:
    """Feeds decoded chunk objects, returns the events each one carries, and keeps what was said so far."""

    def __init__(self, provider: str | None = None) -> None:
        self.provider = provider
        self.text_parts = TextBuffer()
        self.reasoning_parts = TextBuffer()
        self.size = 0
        """Characters received so far: text, reasoning and tool-call arguments (what an answer cap counts)."""
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.id: str | None = None
        self._tools: dict[int, _ToolCallParts] = {}

    @property
    def text(self) -> str:
        return self.text_parts.text()

    @property
    def reasoning(self) -> str:
        return self.reasoning_parts.text()

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(index=i, id=p.id, name=p.name, arguments=p.arguments.text())
            for i, p in sorted(self._tools.items())
        ]

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """The events in one decoded chunk; raises a ProviderError for an in-band error."""
        if type(chunk) is not dict:
            from botticelli.providers.errors import ProtocolError

            raise ProtocolError(f"expected a JSON object in the stream, got {type(chunk).__name__}",
                                provider=self.provider)
        if chunk.get("error"):
            raise classify_inband_error(chunk, provider=self.provider)
        x_groq = chunk.get("x_groq")
        if x_groq is not None and isinstance(x_groq, dict) and x_groq.get("error"):
            raise classify_inband_error(x_groq["error"], provider=self.provider)
        if self.model is None and isinstance(chunk.get("model"), str):
            self.model = chunk["model"]
        if self.id is None:
            self.id = text_or_none(chunk.get("id"))

        events: list[StreamEvent] = []
        choices = chunk.get("choices")
        if choices and type(choices) is list:
            choice = choices[0]
            if type(choice) is dict:
                delta = choice.get("delta")
                if delta and type(delta) is dict:
                    content = delta.get("content")
                    if len(delta) <= 2 and type(content) is str and "reasoning" not in delta:
                        # the common case: {"content": "..."} or {"role": ..., "content": ...}
                        if content:
                            parts = self.text_parts
                            parts.append(content)
                            if len(parts) >= BLOCK:
                                parts.compact()
                            self.size += len(content)
                            events.append(ContentDelta(content))
                    else:
                        events.extend(self._read_delta(delta))
                reason = choice.get("finish_reason")
                if reason and type(reason) is str:
                    self.finish_reason = reason
                    events.append(Finish(reason))

        raw_usage = chunk.get("usage")
        if raw_usage is None and x_groq is not None and isinstance(x_groq, dict):
            raw_usage = x_groq.get("usage")
        timings = chunk.get("timings")
        if raw_usage and isinstance(raw_usage, dict):
            time_info = chunk.get("time_info") if isinstance(chunk.get("time_info"), dict) else None
            self.usage = usage_with_timings(raw_usage, timings, time_info)
            events.append(UsageUpdate(self.usage))
        elif isinstance(timings, dict):
            self._read_timings(timings, events)
        return events

    def _read_timings(self, timings: dict[str, Any], events: list[StreamEvent]) -> None:
        """`timings` without `usage` in the same chunk: add its times to the usage so far, or stand in for it."""
        if self.usage is None:
            usage = usage_from_timings(timings)
        else:
            seconds = {k: v for k, v in timing_fields(timings).items() if getattr(self.usage, k) is None}
            usage = replace(self.usage, **seconds) if seconds else None
        if usage is not None and usage != self.usage:
            self.usage = usage
            events.append(UsageUpdate(usage))

    def _read_delta(self, delta: dict[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        reasoning = delta.get("reasoning")
        if reasoning is None:
            reasoning = delta.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            self.reasoning_parts.add(reasoning)
            self.size += len(reasoning)
            events.append(ReasoningDelta(reasoning))
        content = content_text(delta.get("content"))
        if content:
            self.text_parts.add(content)
            self.size += len(content)
            events.append(ContentDelta(content))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for call in tool_calls:
                if isinstance(call, dict):
                    self._read_tool_call(call)
        return events

    def add_tool_call(self, call: ToolCall) -> None:
        """A complete tool call from elsewhere (a non-streamed answer replayed as a stream)."""
        parts = self._tools[call.index] = _ToolCallParts(id=call.id, name=call.name)
        parts.arguments.add(call.arguments)

    def _read_tool_call(self, call: dict[str, Any]) -> None:
        index = call.get("index", 0)
        index = index if type(index) is int else 0
        parts = self._tools.get(index)
        if parts is None:
            parts = self._tools[index] = _ToolCallParts()
            self.size += TOOL_CALL_CHARS
        parts.id = text_or_none(call.get("id")) or parts.id
        function = call.get("function")
        if isinstance(function, dict):
            parts.name = text_or_none(function.get("name")) or parts.name
            if isinstance(function.get("arguments"), str):
                parts.arguments.add(function["arguments"])
                self.size += len(function["arguments"])

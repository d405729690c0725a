"""The timed SSE producer: tokens on an absolute schedule, with mid-stream faults.

Token i (0-based) is due at `start + i / tps` (plus any injected stall). The producer sleeps until the next
token is due and then emits every token already due in one piece, so a client measuring
`(n - 1) / (t_last - t_first)` sees exactly `tps`, however late the event loop wakes up.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from botticelli.simulator.capacity import Capacity
from botticelli.simulator.content import filler_text
from botticelli.simulator.directives import FaultSpec
from botticelli.simulator.errors import STREAM_ERROR_EVENT
from botticelli.simulator.wire import SimUsage, Wire

DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"
MALFORMED = b"data: {not json\n\n"
BAD_UTF8 = b"bad \xff\xfe utf-8 \xe2\x82"
X_GROQ_ERROR = "stream stopped early: the simulator injected an x_groq.error"
MAX_BATCH = 512  # chunks per write when the producer is behind
BIG_CHUNK = 1_048_576

#: Faults that act at a position in the stream, and where they act when `after=` is not given.
POSITIONED: dict[str, str] = {
    "stall_mid": "middle", "cut": "middle", "error_event": "middle", "x_groq_error": "middle",
    "malformed": "one", "empty_choices": "one", "big_chunk": "one", "bad_utf8": "one",
}


class ConnectionCut(Exception):
    """Raised by a response body: close the connection abruptly now (no chunked terminator)."""


@dataclass(slots=True)
class StreamPlan:
    """Everything needed to produce one streamed completion."""

    wire: Wire
    reasoning: list[str]
    content: list[str]
    finish: str
    start: float  # loop time at which token 0 is due (request received + TTFT)
    tps: float  # 0 or inf: unpaced
    usage: Callable[[int, int, float], SimUsage]  # (completion tokens, reasoning tokens, measured s) -> usage
    faults: list[FaultSpec] = field(default_factory=list)
    capacity: Capacity | None = None  # the server's shared decode throughput, if limited

    @property
    def interval(self) -> float:
        return 0.0 if self.tps == 0 or math.isinf(self.tps) else 1.0 / self.tps

    def completion_time(self, tokens: int, measured: float) -> float:
        """Groq's `completion_time`: exactly `tokens / tps` when paced, else the measured time."""
        return tokens / self.tps if self.interval else max(measured, 1e-6)

    def token_count(self) -> int:
        return len(self.reasoning) + len(self.content)


def _hooks(plan: StreamPlan) -> dict[int, list[FaultSpec]]:
    n = plan.token_count()
    hooks: dict[int, list[FaultSpec]] = {}
    for fault in plan.faults:
        where = POSITIONED.get(fault.name)
        if where is None:
            continue
        default = n // 2 if where == "middle" else min(1, n)
        hooks.setdefault(min(fault.count("after", default), n), []).append(fault)
    return hooks


async def stream_body(plan: StreamPlan) -> AsyncIterator[bytes]:
    """Yield the SSE bytes of `plan` on schedule; may raise `ConnectionCut`."""
    clock = asyncio.get_running_loop().time
    wire = plan.wire
    names = {f.name for f in plan.faults}
    crlf = "crlf" in names
    ping = PING if "keepalive" in names else b""
    hooks = _hooks(plan)
    n_reason = len(plan.reasoning)
    tokens = plan.reasoning + plan.content
    n = len(tokens)
    last_finish = plan.finish if wire.finish_on_last_token else None
    interval = plan.interval
    offset = 0.0
    extra = 0
    first_at: float | None = None
    gate = plan.capacity if plan.capacity is not None and plan.capacity.tokens_per_s else None
    reserved = -1
    slot_due = 0.0
    head = wire.first_chunk()
    buf: list[bytes] = [ping] if ping else []

    def flush() -> bytes:
        data = b"".join(buf)
        buf.clear()
        return data.replace(b"\n", b"\r\n") if crlf else data

    i = 0
    while True:
        for fault in hooks.pop(i, ()):
            name = fault.name
            if name == "stall_mid":
                if buf:
                    yield flush()
                seconds = fault.number("seconds", 5.0)
                await asyncio.sleep(seconds)
                offset += seconds
            elif name == "cut":
                if buf:
                    yield flush()
                raise ConnectionCut
            elif name == "error_event":
                buf.append(STREAM_ERROR_EVENT)
                yield flush()
                return
            elif name == "x_groq_error":
                buf += [wire.x_groq_error_chunk(X_GROQ_ERROR), DONE]
                yield flush()
                return
            elif name == "malformed":
                buf.append(MALFORMED)
            elif name == "empty_choices":
                buf.append(wire.empty_choices_chunk())
            elif name == "big_chunk":
                size = fault.count("size", BIG_CHUNK)
                buf.append(wire.token_chunk(filler_text(size)))
                extra += math.ceil(size / 4)
            elif name == "bad_utf8":
                buf.append(wire.raw_token_chunk(BAD_UTF8))
                extra += 1
        if i >= n:
            break
        now = clock()
        due = plan.start + offset + i * interval
        if gate is not None and now >= due:
            # Due on the stream's own schedule: now take the server's next free slot (taken in time order, so a
            # later token never blocks an earlier one). The next token is still due on the stream's own
            # schedule, so a stream that was held back catches up when the server has room again.
            if reserved < i:
                slot_due = gate.reserve(due)
                reserved = i
            due = slot_due
        if now < due:
            if buf:
                yield flush()
            await asyncio.sleep(due - now)
            continue
        if head is not None:
            buf.append(head)
            head = None
        if first_at is None:
            first_at = now
        text = tokens[i]
        buf.append(ping + wire.token_chunk(text, i < n_reason, last_finish if i == n - 1 else None))
        i += 1
        if len(buf) >= MAX_BATCH:
            yield flush()
    if head is not None:
        buf.append(head)
    completion = n + extra
    usage = plan.usage(completion, n_reason, plan.completion_time(completion, clock() - (first_at or clock())))
    buf += wire.tail_chunks(plan.finish, usage, finished=last_finish is not None and n > 0)
    if "no_done" not in names:
        buf.append(DONE)
    yield flush()

"""The simulator's request handler: pure asyncio, no sockets.

`SimEngine(settings, state).handle(SimRequest)` returns a `SimResponse` whose body is produced lazily and on
schedule; the socket server (`server.py`) and the in-process httpx transport (`transport.py`) both drive it.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from botticelli.simulator import content
from botticelli.simulator.capacity import Capacity, HeldBody
from botticelli.simulator.catalog import model_entry, models_body
from botticelli.simulator.directives import (
    STATUS_FAULTS,
    DirectiveError,
    Directives,
    FaultSpec,
    parse_directives,
)
from botticelli.simulator.errors import ErrorReply, fault_error, invalid_request, unknown_url
from botticelli.simulator.ratelimit import RateLimits
from botticelli.simulator.settings import ModelSpeed, SimModel, SimSettings
from botticelli.simulator.state import SimState
from botticelli.simulator.stream import ConnectionCut, StreamPlan, stream_body
from botticelli.simulator.wire import Identity, SimUsage, Wire, make_wire, request_id

__all__ = ["ConnectionCut", "SimEngine", "SimRequest", "SimResponse", "SimSettings", "SimState"]

_TGI_MISSING_MESSAGES = (
    "Failed to deserialize the JSON body into the target type: missing field `messages` at line 1 column 144"
)
_OPENAI_RATE = (5000, 60.0, 4_000_000, 60.0)  # OpenAI's headers describe per-minute windows


@dataclass(slots=True)
class SimRequest:
    """One HTTP request as the engine sees it; header names lower-cased."""

    method: str
    path: str  # with the query string, if any
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    received_at: float | None = None  # event-loop time the request was complete; now if None
    connection_id: int | None = None  # set by the socket server


@dataclass(slots=True)
class SimResponse:
    """Status, headers and a lazily produced body (which may raise `ConnectionCut`)."""

    status: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower-case), if present."""
        return next((v for k, v in self.headers if k == name), None)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


async def _cut_after(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise ConnectionCut


def _fixed(status: int, content_type: str, body: bytes, extra: list[tuple[str, str]] | None = None
           ) -> SimResponse:
    headers = [("content-type", content_type), ("content-length", str(len(body))), *(extra or [])]
    return SimResponse(status, headers, _once(body))


def _json_reply(obj: Any, status: int = 200) -> SimResponse:
    return _fixed(status, "application/json", json.dumps(obj).encode())


def _error(reply: ErrorReply, extra: list[tuple[str, str]] | None = None) -> SimResponse:
    return _fixed(reply.status, reply.content_type, reply.body, [*reply.headers, *(extra or [])])


def _message_text(message: Any) -> str:
    """The text of a chat message whose content is a string or a list of parts."""
    if not isinstance(message, dict):
        return ""
    body = message.get("content")
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "".join(p.get("text", "") for p in body if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


TEMPLATE_TOKENS_PER_MESSAGE = 3
"""What a chat template adds around each message (start, role separator, end), as OpenAI's counting guide."""
TEMPLATE_TOKENS_FOR_REPLY = 3
"""The assistant header every prompt ends with, which primes the reply."""


def prompt_token_count(messages: list[Any]) -> int:
    """Prompt tokens as a chat template makes them: each message's role and content (about 4 characters a
    token) plus the template's own tokens, so "hi" alone counts 8, not 1."""
    total = TEMPLATE_TOKENS_FOR_REPLY
    for message in messages:
        role = message.get("role") if isinstance(message, dict) else None
        total += TEMPLATE_TOKENS_PER_MESSAGE + math.ceil(len(role if isinstance(role, str) else "") / 4)
        total += math.ceil(len(_message_text(message)) / 4)
    return total


class SimEngine:
    """Serves `/models`, `/chat/completions` and `/_sim/*` for one settings + state pair."""

    def __init__(self, settings: SimSettings | None = None, state: SimState | None = None) -> None:
        self.settings = settings or SimSettings()
        self.state = state or SimState()
        self._random = random.Random()

    @property
    def prefixes(self) -> tuple[str, ...]:
        """API path prefixes: `/v1`, plus `/openai/v1` for the groq flavour (as Groq serves it)."""
        return ("/openai/v1", "/v1") if self.settings.flavor == "groq" else ("/v1",)

    async def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request (errors included: this never raises for bad input)."""
        loop = asyncio.get_running_loop()
        received = request.received_at if request.received_at is not None else loop.time()
        path, _, query = request.path.partition("?")
        if path.startswith("/_sim/"):
            return await self._control(request, path, query)
        self.state.requests += 1
        route = next((path[len(p):] for p in self.prefixes if path.startswith(p + "/")), None)
        method = request.method.upper()
        if route == "/chat/completions" and method == "POST":
            self.state.chat_requests += 1
            return await self._chat(request, received)
        if route == "/models" and method == "GET":
            return await self._models(request)
        if route is not None and route.startswith("/models/") and method == "GET":
            return await self._model(request, route[len("/models/"):])
        return _error(unknown_url(self.settings.flavor, method, path))

    # -- control -----------------------------------------------------------------------------------------

    async def _control(self, request: SimRequest, path: str, query: str) -> SimResponse:
        exclude = 0 if request.connection_id is None else 1
        if path == "/_sim/stats" and request.method.upper() == "GET":
            for _ in range(3):  # let connections whose peer just left notice it first
                await asyncio.sleep(0)
            wait = parse_qs(query).get("wait_idle", ["0"])[0]
            try:
                deadline = asyncio.get_running_loop().time() + min(float(wait), 30.0)
            except ValueError:
                return _json_reply({"error": f"wait_idle: {wait!r} is not a number"}, 400)
            while (self.state.stats(exclude)["open_connections"] or self.state.open_streams) and (
                asyncio.get_running_loop().time() < deadline
            ):
                await asyncio.sleep(0.01)
            return _json_reply(self.state.stats(exclude))
        if path == "/_sim/reset" and request.method.upper() == "POST":
            self.state.reset()
            return _json_reply(self.state.stats(exclude))
        if path == "/_sim/requests" and request.method.upper() == "GET":
            return _json_reply(list(self.state.recent))
        return _json_reply({"error": f"unknown simulator control {request.method} {path}"}, 404)

    # -- helpers -----------------------------------------------------------------------------------------

    def _fires(self, fault: FaultSpec) -> bool:
        hits = self.state.fault_hit(fault.key)
        return fault.times is None or hits <= fault.times

    def _limits(self, model: str) -> RateLimits | None:
        flavor = self.settings.flavor
        if flavor == "huggingface":
            return None
        if model not in self.state.limits:
            if flavor == "groq":
                rate = (self.settings.requests_per_day, 86400.0, self.settings.tokens_per_minute, 60.0)
            else:
                rate = _OPENAI_RATE
            self.state.limits[model] = RateLimits.create(*rate)
        return self.state.limits[model]

    def _rate_headers(self, model: str, charge: int | None = None) -> list[tuple[str, str]]:
        limits = self._limits(model)
        if limits is None:
            return []
        now = asyncio.get_running_loop().time()
        if charge is not None:
            limits.charge(charge, now)
        return limits.headers(now)

    async def _pre_faults(self, faults: list[FaultSpec], model: str) -> SimResponse | None:
        """Apply `stall_first` and the first status fault; the error response if one fires."""
        stall = next((f for f in faults if f.name == "stall_first"), None)
        if stall is not None:
            await asyncio.sleep(stall.number("seconds", 5.0))
        status = next((f for f in faults if f.name in STATUS_FAULTS), None)
        if status is None:
            return None
        reply = fault_error(status, self.settings.flavor, model)
        extra = [("x-request-id", request_id(self.settings.flavor))]
        if self.settings.flavor == "groq":
            extra.append(("x-groq-region", "sim"))
        if reply.status not in (401, 403):
            extra += self._rate_headers(model)
        return _error(reply, extra)

    def _header_faults(self, request: SimRequest) -> list[FaultSpec] | SimResponse:
        try:
            directives, _ = parse_directives(request.headers, "")
        except DirectiveError as exc:
            return _error(invalid_request(self.settings.flavor, f"simulator directive: {exc}",
                                          code="invalid_sim_directive"))
        return [f for f in directives.faults if self._fires(f)]

    # -- models ------------------------------------------------------------------------------------------

    async def _models(self, request: SimRequest) -> SimResponse:
        faults = self._header_faults(request)
        if isinstance(faults, SimResponse):
            return faults
        failed = await self._pre_faults(faults, "models")
        if failed is not None:
            return failed
        return _fixed(200, "application/json", models_body(self.settings))

    async def _model(self, request: SimRequest, model_id: str) -> SimResponse:
        entry = self.settings.model(model_id)
        if entry is None:
            return _error(fault_error(FaultSpec("404", {}, "404"), self.settings.flavor, model_id))
        body = json.dumps(model_entry(entry, self.settings), separators=(",", ":")).encode()
        return _fixed(200, "application/json", body)

    # -- chat --------------------------------------------------------------------------------------------

    def _bad(self, message: str, param: str | None = None, code: str | None = None) -> SimResponse:
        return _error(invalid_request(self.settings.flavor, message, param, code))

    async def _chat(self, request: SimRequest, received: float) -> SimResponse:
        flavor = self.settings.flavor
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._bad("Failed to parse the request body as JSON", code="invalid_json")
        if not isinstance(body, dict):
            return self._bad("The request body must be a JSON object", code="invalid_json")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self._bad("you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            if flavor == "huggingface":
                return _fixed(422, "text/plain; charset=utf-8", _TGI_MISSING_MESSAGES.encode())
            return self._bad("'messages' : property 'messages' is missing", param="messages")
        last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
        try:
            directives, cleaned = parse_directives(request.headers, _message_text(last_user))
        except DirectiveError as exc:
            return self._bad(f"simulator directive: {exc}", code="invalid_sim_directive")
        faults = [f for f in directives.faults if self._fires(f)]
        self.state.recent.append({"path": request.path, "headers": dict(request.headers), "body": body,
                                  "faults": [f.key for f in faults]})
        stalled_from = asyncio.get_running_loop().time()
        failed = await self._pre_faults(faults, model)
        # a stall before the headers delays the whole answer: the schedule starts when the stall ends
        received += asyncio.get_running_loop().time() - stalled_from
        if failed is not None:
            return failed
        if not self.settings.serves(model):  # as real providers answer an unknown model
            return _error(fault_error(FaultSpec("404", {}, "404"), flavor, model))
        entry = self.settings.model(model)
        if entry is not None and not entry.active:
            return _error(fault_error(FaultSpec("decommissioned", {}, "decommissioned"), flavor, model),
                          self._rate_headers(model))
        capacity = self._capacity()
        held, waited = False, 0.0
        if capacity is not None:
            busy = capacity.admit(asyncio.get_running_loop().time())
            if busy is not None:
                return self._over_capacity(model, busy)
            queued_from = asyncio.get_running_loop().time()
            held = await capacity.enter()
            waited = asyncio.get_running_loop().time() - queued_from
            received += waited  # a queued request's TTFT starts when it gets its slot
        try:
            response = await self._answer(body, model, entry, directives, cleaned, faults, received, waited,
                                          capacity if held else None)
        except BaseException:
            if held and capacity is not None:
                capacity.leave()
            raise
        if held and capacity is not None and not isinstance(response.body, HeldBody):
            capacity.leave()  # a whole (non-streamed) answer was sent, or an error
        return response

    def _capacity(self) -> Capacity | None:
        """The server's shared limits, or None when there are none."""
        if not self.settings.limited:
            return None
        if self.state.capacity is None:
            self.state.capacity = self.settings.capacity()
        return self.state.capacity

    def _over_capacity(self, model: str, wait_s: float) -> SimResponse:
        """A 429 for a request above `max_rps`, with the seconds until one fits as `retry-after`."""
        fault = FaultSpec("429", {"retry_after": f"{wait_s:.3f}"}, "capacity")
        extra = [("x-request-id", request_id(self.settings.flavor))]
        return _error(fault_error(fault, self.settings.flavor, model), extra)

    async def _answer(self, body: dict[str, Any], model: str, entry: SimModel | None, directives: Directives,
                      cleaned: str, faults: list[FaultSpec], received: float, queued: float,
                      holder: Capacity | None) -> SimResponse:
        """The answer itself, paced by the model's speed and the server's shared capacity; a stream's body
        keeps `holder`'s concurrency slot until it ends."""
        flavor = self.settings.flavor
        stream = bool(body.get("stream"))
        capacity = self.state.capacity if self.settings.limited else None
        speed = self.settings.speed_for(model)
        speed = ModelSpeed(directives.tps if directives.tps is not None else speed.tps,
                           directives.ttft_s if directives.ttft_s is not None else speed.ttft_s)
        reasoning, answer, finish = self._tokens(directives, cleaned, entry, body)
        prompt_tokens = prompt_token_count(body["messages"])
        wire = make_wire(flavor, Identity(
            model=self._served_model(model, entry), created=int(time.time()), request_id=request_id(flavor),
            seed=self._random.randrange(1 << 31),
            include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        ))
        headers = [
            *wire.headers(),
            *self._rate_headers(model, prompt_tokens + len(reasoning) + len(answer)),
            ("x-sim-tps", f"{speed.tps:g}"), ("x-sim-ttft", f"{speed.ttft_s:g}"),
        ]
        queue_time = round(0.012 + (self.state.chat_requests % 10) * 0.0004 + max(queued, 0.0), 9)
        prompt_time = round(prompt_tokens / 20000, 9)

        def usage(completion: int, reasoning_count: int, completion_time: float) -> SimUsage:
            return SimUsage(prompt_tokens, completion, reasoning_count, queue_time, prompt_time, completion_time)

        plan = StreamPlan(wire, reasoning, answer, finish, received + speed.ttft_s, speed.tps, usage, faults,
                          capacity)
        if stream:
            headers = [("content-type", wire.stream_content_type), ("cache-control", "no-cache"), *headers]
            produced: AsyncIterator[bytes] = self._tracked(stream_body(plan))
            if holder is not None:
                produced = HeldBody(produced, holder)
            return SimResponse(200, headers, produced)
        return await self._complete(plan, wire, headers)

    def _served_model(self, model: str, entry: SimModel | None) -> str:
        if entry is not None and entry.served_as:
            return entry.served_as
        return model.split(":", 1)[0] if self.settings.flavor == "huggingface" else model

    def _tokens(self, directives: Directives, cleaned: str, entry: SimModel | None, body: dict[str, Any]
                ) -> tuple[list[str], list[str], str]:
        """Reasoning tokens, answer tokens and the finish reason."""
        if directives.echo:
            answer = content.tokenize(cleaned)
        elif directives.tokens is not None:
            answer = content.answer_tokens(directives.tokens, cleaned)
        else:
            answer = content.default_answer(cleaned)
        count = directives.reasoning
        if count is None:
            count = content.default_reasoning_length() if entry is not None and entry.reasoning else 0
        reasoning = content.reasoning_tokens(count) if self.settings.flavor != "openai" else []
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if isinstance(limit, int) and not isinstance(limit, bool) and len(reasoning) + len(answer) > limit:
            limit = max(limit, 0)
            reasoning = reasoning[:limit]
            answer = answer[: limit - len(reasoning)]
            return reasoning, answer, "length"
        return reasoning, answer, "stop"

    async def _tracked(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self.state.open_streams += 1
        try:
            async for piece in body:
                yield piece
        finally:
            self.state.open_streams -= 1
            await body.aclose()  # type: ignore[attr-defined]

    async def _complete(self, plan: StreamPlan, wire: Wire, headers: list[tuple[str, str]]) -> SimResponse:
        """A non-streamed completion: wait until the last token would be due, then send it all."""
        loop = asyncio.get_running_loop()
        n = plan.token_count()
        stall = next((f for f in plan.faults if f.name == "stall_mid"), None)
        extra = stall.number("seconds", 5.0) if stall is not None else 0.0
        due = plan.start + extra + max(n - 1, 0) * plan.interval
        if plan.capacity is not None and n:
            due = max(due, plan.capacity.reserve(plan.start + extra, n))
        first = loop.time()
        if due > first:
            await asyncio.sleep(due - first)
        usage = plan.usage(n, len(plan.reasoning), plan.completion_time(n, loop.time() - first))
        reasoning = "".join(plan.reasoning) if plan.reasoning else None
        data = wire.completion_body("".join(plan.content), reasoning, plan.finish, usage)
        names = {f.name for f in plan.faults}
        if "malformed" in names:
            data = b"{not json"
        response = _fixed(200, wire.json_content_type, data, headers)
        if "cut" in names:
            response.body = _cut_after(data[: len(data) // 2])
        return response

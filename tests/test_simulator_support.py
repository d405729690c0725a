"""Shared helpers (no tests) for the simulator tests: one request API over a socket or in-process, SSE parsing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from botticelli.simulator import SimSettings
from botticelli.simulator.server import running_simulator
from botticelli.simulator.transport import SimulatorTransport

FAST = {"tps": 20000.0, "ttft_s": 0.0}  # paced, but quick enough for tests
TEST_MODELS = ("sim-test", "sim", "m")
"""Model ids the tests' simulators serve besides the catalogue (any other id gets a 404, as from a provider)."""
IN_PROCESS_BASE = "http://demo.botticelli.invalid/v1"


@dataclass
class Reply:
    """A response read to the end (or to the error that ended it)."""

    status: int
    headers: httpx.Headers
    raw: bytes
    error: Exception | None = None

    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def events(self) -> list[tuple[str | None, str]]:
        return sse_events(self.raw)

    @property
    def chunks(self) -> list[dict[str, Any]]:
        """Decoded `data:` objects (not `[DONE]`, not `event: error`)."""
        return [json.loads(data) for event, data in self.events if event is None and data != "[DONE]"]


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    """Split an SSE body into (event name, data) pairs; comments are dropped."""
    events: list[tuple[str | None, str]] = []
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":") or not line:
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
        if data or name:
            events.append((name, "\n".join(data)))
    return events


def deltas(chunks: list[dict[str, Any]], key: str = "content") -> list[str]:
    """Every non-empty `delta[key]` in order."""
    out = []
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            value = choice.get("delta", {}).get(key)
            if value:
                out.append(value)
    return out


@dataclass
class SimAPI:
    """Talk to one simulator, over loopback (`mode="socket"`) or through `SimulatorTransport`."""

    mode: str
    base_url: str
    root_url: str
    transport: SimulatorTransport | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, **kw: Any) -> httpx.AsyncClient:
        if self.transport is not None:
            return httpx.AsyncClient(transport=self.transport, timeout=30, **kw)
        return httpx.AsyncClient(timeout=30, **kw)

    async def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                      root: bool = False) -> Reply:
        url = (self.root_url if root else self.base_url) + path
        async with self.client() as client, client.stream(method, url, json=body, headers=headers) as resp:
            parts: list[bytes] = []
            try:
                async for piece in resp.aiter_raw():
                    parts.append(piece)
            except httpx.HTTPError as exc:
                return Reply(resp.status_code, resp.headers, b"".join(parts), exc)
            return Reply(resp.status_code, resp.headers, b"".join(parts))

    async def chat(self, text: str, *, stream: bool = True, model: str = "sim-test",
                   headers: dict[str, str] | None = None, **extra: Any) -> Reply:
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return await self.request("POST", "/chat/completions", body, headers)

    async def stats(self) -> dict[str, int]:
        return (await self.request("GET", "/_sim/stats?wait_idle=5", root=True)).json()

    async def reset(self) -> None:
        await self.request("POST", "/_sim/reset", root=True)


@contextmanager
def sim_api(mode: str, flavor: str, **settings_kw: Any) -> Iterator[SimAPI]:
    """A `SimAPI` on a fresh simulator of `flavor`."""
    settings = SimSettings(flavor=flavor, **{**FAST, "extra_models": TEST_MODELS, **settings_kw})
    if mode == "inprocess":
        yield SimAPI(mode, IN_PROCESS_BASE, IN_PROCESS_BASE.removesuffix("/v1"), SimulatorTransport(settings))
        return
    with running_simulator(settings) as handle:
        yield SimAPI(mode, handle.base_url, handle.root_url)

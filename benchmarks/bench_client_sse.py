"""Figure 1, client throughput: parsing a 20,000-chunk SSE stream from the simulator over loopback.

Three readers consume the same unpaced stream (`[[tokens:20000]]`, tps 0, TTFT 0) from `botticelli simulate`
running in its own process, so the server's CPU is not counted against the client:

* Botticelli's `OpenAICompatibleClient.stream()`, consuming every event;
* the `openai` SDK's `AsyncOpenAI().chat.completions.create(stream=True)`, consuming every chunk;
* a bare `httpx.AsyncClient.stream` + `aiter_lines` + `json.loads` loop (the floor any client can reach);
* for reference, `aiter_raw` with no parsing at all (how fast the simulator can serve).

Rounds are interleaved (the order rotates each round); rates and ratios use each reader's best round, the
least disturbed on a shared machine (the medians of per-round ratios are given in the notes).
Run: .venv/bin/python benchmarks/bench_client_sse.py   (about 45 s; the SDK is the slow part)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import httpx

from _common import SimulatorProcess, figure, median
from botticelli.providers.client import OpenAICompatibleClient
from botticelli.providers.types import ChatMessage, ChatRequest, ContentDelta

CHUNKS = 20_000
ROUNDS = 5
MODEL = "demo-fast"
PROMPT = f"[[tokens:{CHUNKS}]] [[tps:0]] [[ttft:0]] Tell me about fast terminals."
HEADERS = {"Authorization": "Bearer sk-bench"}

Reader = Callable[[], Awaitable[tuple[int, int]]]


def _body() -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def botticelli_reader(base_url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    """Botticelli's client: every event consumed, content collected."""
    client = OpenAICompatibleClient(base_url, api_key="sk-bench", provider="groq")
    request = ChatRequest(model=MODEL, messages=[ChatMessage("user", PROMPT)])

    async def read() -> tuple[int, int]:
        events = chars = 0
        async with client.stream(request) as stream:
            async for event in stream:
                events += 1
                if isinstance(event, ContentDelta):
                    chars += len(event.text)
        return events, chars

    return read, client.aclose


def sdk_reader(base_url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    """The official `openai` SDK: every chunk consumed, content collected."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)

    async def read() -> tuple[int, int]:
        count = chars = 0
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            count += 1
            if chunk.choices and chunk.choices[0].delta.content:
                chars += len(chunk.choices[0].delta.content)
        return count, chars

    return read, client.close


def bare_reader(base_url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    """The floor: `aiter_lines` + `json.loads`, content collected, nothing else."""
    http = httpx.AsyncClient(headers=HEADERS, timeout=60.0)
    url = f"{base_url}/chat/completions"

    async def read() -> tuple[int, int]:
        count = chars = 0
        async with http.stream("POST", url, json=_body()) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                count += 1
                choices = chunk.get("choices")
                if choices:
                    content = choices[0].get("delta", {}).get("content")
                    if content:
                        chars += len(content)
        return count, chars

    return read, http.aclose


def raw_reader(base_url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    """The server's ceiling: bytes read and thrown away."""
    http = httpx.AsyncClient(headers=HEADERS, timeout=60.0)
    url = f"{base_url}/chat/completions"

    async def read() -> tuple[int, int]:
        size = 0
        async with http.stream("POST", url, json=_body()) as response:
            async for block in response.aiter_raw():
                size += len(block)
        return 0, size

    return read, http.aclose


async def measure(base_url: str, rounds: int) -> dict[str, list[float]]:
    """Seconds per stream for each reader, `rounds` times, order rotated every round (after one warm-up)."""
    makers = {"botticelli": botticelli_reader, "openai_sdk": sdk_reader, "bare_httpx": bare_reader,
              "raw_bytes": raw_reader}
    readers = {name: make(base_url) for name, make in makers.items()}
    times: dict[str, list[float]] = {name: [] for name in readers}
    chars: dict[str, set[int]] = {name: set() for name in readers if name != "raw_bytes"}
    names = list(readers)
    try:
        for round_ in range(rounds + 1):
            order = names[round_ % len(names):] + names[: round_ % len(names)]
            for name in order:
                start = time.perf_counter()
                _, got = await readers[name][0]()
                elapsed = time.perf_counter() - start
                if round_ == 0:
                    continue  # warm-up: connections, imports, caches
                times[name].append(elapsed)
                if name in chars:
                    chars[name].add(got)
    finally:
        for _, close in readers.values():
            await close()
    lengths = {name: sorted(found) for name, found in chars.items()}
    if len({tuple(v) for v in lengths.values()}) != 1 or len(lengths["botticelli"]) != 1:
        raise AssertionError(f"the readers did not get the same text: {lengths}")
    return times


def paired(times: dict[str, list[float]], slow: str, fast: str) -> float:
    """The median over rounds of time(slow) / time(fast): each round's two runs saw the same machine load."""
    return median([s / f for s, f in zip(times[slow], times[fast], strict=True)])


def run(rounds: int = ROUNDS) -> list[dict[str, Any]]:
    with SimulatorProcess(tps=0, ttft=0) as sim:
        times = asyncio.run(measure(sim.base_url, rounds))
    best = {name: min(values) for name, values in times.items()}
    rate = {name: CHUNKS / value for name, value in best.items()}
    vs_sdk = best["openai_sdk"] / best["botticelli"]
    slowdown = best["botticelli"] / best["bare_httpx"]
    method = f"best of {rounds} interleaved rounds (the least disturbed run on a shared machine)"
    return [
        figure("sse_botticelli_chunks_per_s", rate["botticelli"], "(rate)", None, "chunk/s", note=method),
        figure("sse_openai_sdk_chunks_per_s", rate["openai_sdk"], "(reference)", None, "chunk/s", note=method),
        figure("sse_bare_httpx_json_chunks_per_s", rate["bare_httpx"], "(reference)", None, "chunk/s", note=method),
        figure("sse_raw_bytes_chunks_per_s", rate["raw_bytes"], "(server ceiling)", None, "chunk/s",
               note="aiter_raw, no parsing: how fast the simulator serves"),
        figure("sse_botticelli_vs_openai_sdk_x", vs_sdk, ">= 1.5", vs_sdk >= 1.5, "x",
               note=f"best SDK time / best Botticelli time; median of per-round ratios "
               f"{paired(times, 'openai_sdk', 'botticelli'):.2f}"),
        figure("sse_botticelli_slowdown_vs_bare_httpx_x", slowdown, "<= 1.5", slowdown <= 1.5, "x",
               note=f"best Botticelli time / best bare httpx+json time; median of per-round ratios "
               f"{paired(times, 'botticelli', 'bare_httpx'):.2f}"),
    ]


def main() -> list[dict[str, Any]]:
    """Run the measurement; returns one dict per figure."""
    return run()


if __name__ == "__main__":
    main()

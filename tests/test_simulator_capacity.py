"""The simulator's capacity model: a decode throughput shared by all streams, a concurrency limit that queues,
a request rate above which it answers 429."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from botticelli.simulator.capacity import Capacity
from botticelli.simulator.settings import SimSettings
from botticelli.simulator.transport import SimulatorTransport


def body(tokens: int, tps: float, ttft: float = 0.0) -> dict[str, object]:
    return {"model": "m", "stream": True,
            "messages": [{"role": "user", "content": f"[[tokens:{tokens}]] [[tps:{tps:g}]] [[ttft:{ttft:g}]] hi"}]}


async def stream(client: httpx.AsyncClient, tokens: int, tps: float, ttft: float = 0.0) -> tuple[float, float, int]:
    """(seconds to the first content chunk, seconds to the end, status)."""
    start = time.perf_counter()
    first = None
    async with client.stream("POST", "http://sim/v1/chat/completions", json=body(tokens, tps, ttft)) as response:
        async for line in response.aiter_lines():
            if first is None and '"content":"' in line.replace(" ", "") and '"content":""' not in line:
                first = time.perf_counter() - start
        status = response.status_code
    return (first if first is not None else -1.0), time.perf_counter() - start, status


def test_reserve_spaces_tokens_on_a_shared_clock() -> None:
    cap = Capacity(tokens_per_s=100.0)
    assert cap.reserve(1.0) == 1.0
    assert cap.reserve(1.0) == pytest.approx(1.01)  # the next free slot, 1/100 s later
    assert cap.reserve(5.0) == 5.0  # idle capacity is not banked
    assert cap.reserve(5.0, count=10) == pytest.approx(5.01 + 0.09)  # ten slots, the last one's time
    assert Capacity().reserve(3.0) == 3.0  # unlimited


def test_rate_bucket_admits_then_refuses_with_a_wait() -> None:
    cap = Capacity(requests_per_s=2.0)
    assert cap.admit(0.0) is None and cap.admit(0.0) is None  # a one-second burst
    wait = cap.admit(0.0)
    assert wait == pytest.approx(0.5)
    assert cap.admit(0.6) is None


@pytest.mark.parametrize("bad", [{"capacity_tps": -1}, {"max_concurrency": -2}, {"max_rps": float("nan")}])
def test_bad_limits_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="0 = no limit"):
        SimSettings(**bad)  # type: ignore[arg-type]


async def test_shared_throughput_is_split_between_streams() -> None:
    transport = SimulatorTransport(SimSettings(capacity_tps=400.0, extra_models=("m",)))
    async with httpx.AsyncClient(transport=transport) as client:
        alone = await stream(client, 40, 400.0)
        start = time.perf_counter()
        together = await asyncio.gather(*(stream(client, 40, 400.0) for _ in range(4)))
        elapsed = time.perf_counter() - start
    assert alone[1] < 0.35  # one stream alone runs at its own 400 tok/s (0.1 s)
    # four streams of 40 tokens share 400 tok/s: 160 tokens take at least 0.4 s, never less
    assert elapsed >= 0.39
    assert all(end >= 0.3 for _, end, _ in together)


async def test_a_concurrency_limit_queues_before_the_ttft() -> None:
    transport = SimulatorTransport(SimSettings(max_concurrency=1, extra_models=("m",)))
    async with httpx.AsyncClient(transport=transport) as client:
        first, second = await asyncio.gather(stream(client, 20, 100.0, 0.05), stream(client, 20, 100.0, 0.05))
    early, late = sorted([first, second])
    assert early[0] < late[0]
    assert late[0] >= early[1] + 0.04  # the second waited for the first to end, then had its own TTFT
    assert transport.state.capacity is not None


async def test_over_the_request_rate_is_a_429_with_retry_after() -> None:
    transport = SimulatorTransport(SimSettings(max_rps=1.0, extra_models=("m",)))
    async with httpx.AsyncClient(transport=transport) as client:
        ok = await client.post("http://sim/v1/chat/completions", json={**body(3, 0), "stream": False})
        refused = await client.post("http://sim/v1/chat/completions", json={**body(3, 0), "stream": False})
    assert ok.status_code == 200
    assert refused.status_code == 429
    assert 0 < float(refused.headers["retry-after"]) <= 1.0
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"


async def test_reset_clears_the_rate_but_keeps_the_limits() -> None:
    transport = SimulatorTransport(SimSettings(max_rps=1.0, extra_models=("m",)))
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.post("http://sim/v1/chat/completions", json=body(2, 0))).status_code == 200
        await client.post("http://sim/_sim/reset")
        assert (await client.post("http://sim/v1/chat/completions", json=body(2, 0))).status_code == 200
        assert (await client.post("http://sim/v1/chat/completions", json=body(2, 0))).status_code == 429

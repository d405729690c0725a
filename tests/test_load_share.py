"""One process's share of a level: synthetic requests, clients per stream, clients built before the clock."""

from __future__ import annotations

import random

from botticelli.config import Profile
from botticelli.load.share import STREAMS_PER_CLIENT, StreamClients, build_request, expected_in_flight, is_local
from botticelli.targets import Target


def test_requests_have_the_asked_lengths_and_no_shared_prefix() -> None:
    rng = random.Random(5)
    one = build_request("m", 200, 64, rng, directive=False)
    two = build_request("m", 200, 64, rng, directive=False)
    text = one.messages[0].content
    assert 780 <= len(text) <= 830  # about 200 tokens of 4 characters
    assert one.max_tokens == 64 and one.temperature == 0.0
    assert text[:10] != two.messages[0].content[:10]  # a random tag opens every prompt
    assert "[[" not in text
    local = build_request("m", 50, 30, rng, directive=True)
    assert local.messages[0].content.startswith("[[tokens:30]] ")


def test_only_local_servers_get_simulator_directives() -> None:
    assert is_local(Target(Profile(name="s", base_url="http://127.0.0.1:8199/v1"), "m"))
    assert is_local(Target(Profile(name="d", base_url="http://x.invalid/v1", simulated=True), "m"))
    assert not is_local(Target(Profile(name="g", base_url="https://api.groq.com/openai/v1"), "m"))


async def test_the_pool_opens_a_client_per_few_streams() -> None:
    pool = StreamClients(Target(Profile(name="s", base_url="http://127.0.0.1:9/v1"), "m"))
    pool.prepare(10)
    assert len(pool.clients) == -(-10 // STREAMS_PER_CLIENT)
    taken = [pool.take() for _ in range(len(pool.clients) * STREAMS_PER_CLIENT + 1)]
    assert len(pool.clients) == -(-10 // STREAMS_PER_CLIENT) + 1  # one more once every client is full
    assert max(pool.busy) == STREAMS_PER_CLIENT
    for index, _ in taken:
        pool.give_back(index)
    assert set(pool.busy) == {0}
    await pool.aclose()


def test_expected_in_flight_for_a_rate_share() -> None:
    assert expected_in_flight(()) == 1
    assert expected_in_flight(tuple(i / 10 for i in range(1, 101))) == 20  # 10 req/s × 2 s
    assert expected_in_flight(tuple(i / 1000 for i in range(1, 10001))) == 64  # capped

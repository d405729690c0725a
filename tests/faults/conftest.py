"""Fixtures for the fault matrix: one loopback simulator for the whole folder, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from botticelli.simulator.server import running_simulator
from faults import FAST_SIM, Sim


@pytest.fixture(scope="session")
def _sim_server() -> Iterator[Sim]:
    with running_simulator(**FAST_SIM) as server:
        yield Sim(server)


@pytest.fixture
def sim(_sim_server: Sim) -> Iterator[Sim]:
    """The simulator with zeroed counters and fault counters; after the test, nothing may be left open."""
    _sim_server.wait_closed()
    _sim_server.reset()
    yield _sim_server

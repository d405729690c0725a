"""Shared data for the sessions tests."""

from __future__ import annotations

# The docs/ARCHITECTURE.md `stats` example, as a stored answer carries it.
STATS = {
    "ttft_s": 0.21,
    "total_s": 0.25,
    "completion_tokens": 8,
    "tokens_exact": True,
    "decode_tps": 840.0,
    "e2e_tps": 32.0,
    "server_tps": 1000.0,
    "queue_s": 0.17,
}

"""Botticelli's CLI against real servers it did not write: llama.cpp's llama-server and the LiteLLM proxy.

Run with `make test-servers`. The llama-server model is tiny with random weights: its text is gibberish, but the
tokenizer, streaming, usage, `timings` and errors are llama-server's own.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from helpers_bench import write_config
from helpers_servers import (
    LITELLM_GROQ,
    LITELLM_MOCK,
    LLAMA_CTX,
    LLAMA_MODEL,
    MOCK_ANSWER,
    MOCK_INPUT_TOKENS,
    botticelli,
)

pytestmark = [pytest.mark.servers, pytest.mark.usefixtures("servers_config")]

SERVER_TPS = re.compile(r"server ([\d,.]+) tok/s")


def test_profiles_check_reaches_both_servers() -> None:
    ran = botticelli("profiles", "--check", "--json")
    assert ran.code == 0, ran.err
    rows = {row["name"]: row for row in ran.json()}
    assert rows["llama"]["check"]["ok"] and rows["llama"]["check"]["models"] == 1
    assert rows["litellm"]["check"]["ok"] and rows["litellm"]["check"]["models"] == 2


def test_models_json_has_each_servers_context_window() -> None:
    llama = botticelli("models", "-p", "llama", "--json")
    assert llama.code == 0, llama.err
    (model,) = llama.json()
    assert {k: model[k] for k in ("id", "owned_by", "context_window", "active", "chat")} == {
        "id": LLAMA_MODEL, "owned_by": "llamacpp", "context_window": LLAMA_CTX, "active": True, "chat": True}
    proxy = botticelli("models", "-p", "litellm", "--json")
    assert proxy.code == 0, proxy.err
    windows = {m["id"]: m["context_window"] for m in proxy.json()}
    assert windows == {LITELLM_MOCK: MOCK_INPUT_TOKENS, LITELLM_GROQ: None}


def test_ask_streams_and_shows_llama_servers_own_speed() -> None:
    ran = botticelli("ask", "-p", "llama", "--max-tokens", "48", "Tell me a story.")
    assert ran.code == 0, ran.err
    assert ran.out.strip()
    assert ran.err.startswith(f"llama · {LLAMA_MODEL} · TTFT ")
    assert "~" not in ran.err  # exact tokens from the server's usage
    assert SERVER_TPS.search(ran.err), ran.err  # from llama.cpp's `timings`


@pytest.mark.parametrize("profile", ["llama", "litellm"])
def test_ask_json_usage_is_the_servers(profile: str) -> None:
    ran = botticelli("ask", "-p", profile, "--json", "--max-tokens", "32", "Say hello.")
    assert ran.code == 0, ran.err
    data = ran.json()
    assert data["error"] is None and data["finish_reason"] in {"stop", "length"}
    stats, usage = data["stats"], data["usage"]
    assert stats["tokens_exact"] and stats["completion_tokens"] == usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if profile == "llama":
        assert stats["server_tps"] and stats["server_tps"] > 0
    else:
        assert data["text"] == MOCK_ANSWER and stats["server_tps"] is None


def test_ask_session_sends_the_history_and_stores_both_turns() -> None:
    first = botticelli("ask", "-p", "llama", "--json", "--session", "new", "--max-tokens", "8", "First question.")
    assert first.code == 0, first.err
    session = first.json()["session_id"]
    second = botticelli("ask", "-p", "llama", "--json", "--session", session, "--max-tokens", "8", "Second.")
    assert second.code == 0, second.err
    assert second.json()["session_id"] == session
    # the server counted the first exchange in the second prompt
    assert second.json()["usage"]["prompt_tokens"] > first.json()["usage"]["prompt_tokens"] + 8
    shown = botticelli("sessions", "show", session)
    assert shown.code == 0, shown.err
    assert "First question." in shown.out and "Second." in shown.out


def test_bench_across_both_servers() -> None:
    targets = ["-t", f"llama:{LLAMA_MODEL}", "-t", f"litellm:{LITELLM_MOCK}"]
    # 128 tokens: long enough for a decode figure from llama-server even on a fast machine
    ran = botticelli("bench", *targets, "--runs", "2", "--max-tokens", "128", "--sequential", "--json")
    assert ran.code == 0, ran.err
    llama, proxy = ran.json()["summary"]
    assert (llama["target"], llama["ok"], proxy["target"], proxy["ok"]) == (
        f"llama:{LLAMA_MODEL}", 2, f"litellm:{LITELLM_MOCK}", 2)
    assert llama["decode_tps"] and llama["server_tps"] and llama["tokens_exact"]
    assert proxy["tokens_exact"] and proxy["server_tps"] is None

    table = botticelli("bench", *targets, "--runs", "2", "--max-tokens", "128", "--sequential")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert "TTFT vs slowest" in lines[2]  # both TTFTs compare even if one decode figure is missing
    assert any(line.startswith(("★ fastest ", "no clear winner")) for line in lines)
    if all("no decode tok/s" not in line for line in lines):
        assert "decode vs slowest" in lines[2]


def test_answer_cut_by_max_tokens_is_marked_cut() -> None:
    data = botticelli("ask", "-p", "llama", "--json", "--max-tokens", "5", "Write a long essay.").json()
    assert data["finish_reason"] == "length" and data["usage"]["completion_tokens"] == 5
    text = botticelli("ask", "-p", "llama", "--max-tokens", "5", "Write a long essay.")
    assert text.code == 0 and "cut (max tokens or context full)" in text.err


def test_llama_timings_agree_with_botticellis_decode_speed() -> None:
    """The server's tok/s (from `timings`) and ours (first to last token seen) within 10 %, median of 3."""
    ratios = []
    for _ in range(3):
        data = botticelli("ask", "-p", "llama", "--json", "--max-tokens", "300", "Go on and on.").json()
        stats = data["stats"]
        assert stats["completion_tokens"] >= 100, data  # long enough for the span to mean something
        ratios.append(stats["decode_tps"] / stats["server_tps"])
    assert abs(statistics.median(ratios) - 1) <= 0.10, ratios


@pytest.fixture
def small_config(llama_small, servers_config: Path) -> Path:
    return write_config({"small": {"base_url": llama_small.base_url, "flavor": "openai",
                                   "default_model": LLAMA_MODEL}})


def test_context_overflow_is_a_context_error_with_its_hint(small_config: Path) -> None:
    ran = botticelli("ask", "-p", "small", "--json", "--max-tokens", "8", "word " * 600)
    assert ran.code == 6, ran.err
    error = ran.json()["error"]
    assert error["kind"] == "invalid_request" and error["status"] == 400
    assert ran.err.startswith("error: ") and "the conversation is too long for this model" in ran.err
    assert "Traceback" not in ran.err

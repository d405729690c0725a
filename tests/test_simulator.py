"""The simulator as a client sees it: stream shapes per flavour, models, rate limits, stats, echo, the SDK."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from botticelli.simulator import SimSettings, content
from botticelli.simulator.engine import prompt_token_count
from botticelli.simulator.ratelimit import go_duration
from botticelli.simulator.server import running_simulator
from test_simulator_support import FAST, TEST_MODELS, SimAPI, deltas, sim_api

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recorded"
GROQ_USAGE_KEYS = ["queue_time", "prompt_tokens", "prompt_time", "completion_tokens", "completion_time",
                   "total_tokens", "total_time"]
GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)(ms|s))?$")


def parse_go_duration(text: str) -> float:
    match = GO_DURATION.match(text)
    assert match and text, f"not a Go duration: {text!r}"
    hours, minutes, number, unit = match.groups()
    seconds = float(number or 0) / (1000 if unit == "ms" else 1)
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds


@pytest.fixture(params=["socket", "inprocess"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def groq(mode: str) -> Iterator[SimAPI]:
    with sim_api(mode, "groq") as api:
        yield api


@pytest.fixture
def hf(mode: str) -> Iterator[SimAPI]:
    with sim_api(mode, "huggingface") as api:
        yield api


@pytest.fixture
def oai(mode: str) -> Iterator[SimAPI]:
    with sim_api(mode, "openai") as api:
        yield api


# -- stream shapes -----------------------------------------------------------------------------------------


async def test_groq_stream_shape(groq: SimAPI) -> None:
    reply = await groq.chat("Hello there [[tokens:40]]")
    assert reply.status == 200 and reply.error is None
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.events[-1] == (None, "[DONE]")
    chunks = reply.chunks
    first, middle, last = chunks[0], chunks[1:-1], chunks[-1]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert re.fullmatch(r"req_[0-9a-z]{26}", first["x_groq"]["id"])
    assert isinstance(first["x_groq"]["seed"], int)
    assert first["x_groq"]["id"] == reply.headers["x-request-id"]
    for chunk in middle:
        assert "x_groq" not in chunk and "usage" not in chunk
        assert chunk["id"] == first["id"] and chunk["object"] == "chat.completion.chunk"
    assert last["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    usage = last["x_groq"]["usage"]
    assert list(usage) == GROQ_USAGE_KEYS
    assert last["usage"] == usage and last["x_groq"]["id"] == first["x_groq"]["id"]
    pieces = deltas(chunks)
    assert usage["completion_tokens"] == len(pieces) == 40
    assert usage["completion_tokens"] / usage["completion_time"] == pytest.approx(FAST["tps"], rel=1e-9)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert "".join(pieces) == "".join(content.answer_tokens(40, "Hello there"))


async def test_groq_reasoning_comes_first_with_channel(groq: SimAPI) -> None:
    reply = await groq.chat("think [[tps:20000]] [[ttft:0]]", model="demo-reasoning")
    chunks = reply.chunks
    kinds = [("reasoning" if "reasoning" in c["choices"][0]["delta"] else "content")
             for c in chunks[1:-1]]
    assert kinds == sorted(kinds, key=lambda k: k == "content")  # all reasoning, then all content
    reasoning = [c["choices"][0]["delta"] for c in chunks if "reasoning" in c["choices"][0]["delta"]]
    assert reasoning and all(d["channel"] == "analysis" for d in reasoning)
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens_details"] == {"reasoning_tokens": len(reasoning)}
    assert usage["completion_tokens"] == len(reasoning) + len(deltas(chunks))


async def test_openai_stream_shape(oai: SimAPI) -> None:
    reply = await oai.chat("Hello [[tokens:30]]", model="gpt-4o-mini")
    chunks = reply.chunks
    assert reply.events[-1] == (None, "[DONE]")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    for chunk in chunks:
        assert chunk["service_tier"] == "default" and chunk["system_fingerprint"].startswith("fp_")
        assert isinstance(chunk["obfuscation"], str) and chunk["obfuscation"]
        assert chunk["model"] == "gpt-4o-mini-2024-07-18"
    assert all(c["usage"] is None for c in chunks[:-1])
    finish, tail = chunks[-2], chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "stop" and finish["choices"][0]["delta"] == {}
    assert tail["choices"] == []
    assert tail["usage"]["completion_tokens"] == len(deltas(chunks)) == 30
    assert tail["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_openai_without_include_usage_sends_no_usage(oai: SimAPI) -> None:
    body = {"model": "sim", "messages": [{"role": "user", "content": "hi [[tokens:5]]"}], "stream": True}
    reply = await oai.request("POST", "/chat/completions", body)
    assert all("usage" not in c for c in reply.chunks)
    assert all(c["choices"] for c in reply.chunks)


async def test_huggingface_stream_shape(hf: SimAPI) -> None:
    reply = await hf.chat("Hello [[tokens:25]]", model="meta-llama/Llama-3.1-8B-Instruct:novita")
    chunks = reply.chunks
    assert reply.events[-1] == (None, "[DONE]")
    body, tail = chunks[:-1], chunks[-1]
    assert all(c["id"] == "" for c in chunks)
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in body)
    assert all(c["model"] == "meta-llama/Llama-3.1-8B-Instruct" for c in chunks)  # suffix not echoed
    assert [c["choices"][0]["finish_reason"] for c in body] == [None] * (len(body) - 1) + ["stop"]
    assert tail["choices"] == [] and tail["usage"]["completion_tokens"] == len(deltas(chunks)) == 25
    assert "x-ratelimit-limit-requests" not in reply.headers


async def test_max_tokens_truncates_with_finish_length(groq: SimAPI) -> None:
    reply = await groq.chat("hi", max_tokens=7)
    assert len(deltas(reply.chunks)) == 7
    assert reply.chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert reply.chunks[-1]["usage"]["completion_tokens"] == 7


async def test_default_answer_is_markdown_from_the_simulator(groq: SimAPI) -> None:
    reply = await groq.chat("What is this?")
    text = "".join(deltas(reply.chunks))
    assert 150 <= reply.chunks[-1]["usage"]["completion_tokens"] <= 250
    assert "simulator" in text and "```python" in text and "|---" in text and "**" in text
    assert "\n- " in text and "`" in text


def test_content_long_answers_and_token_size() -> None:
    tokens = content.answer_tokens(20000, "bench")
    assert len(tokens) == 20000
    assert 3.0 <= sum(map(len, tokens)) / len(tokens) <= 5.0
    assert content.answer_tokens(20000, "bench") == tokens  # deterministic
    hostile = "x\x1b]52;c;aGk=\x07 [bold]x[/] \u2028 ü"
    assert "".join(content.tokenize(hostile)) == hostile


# -- non-stream bodies --------------------------------------------------------------------------------------


async def test_groq_non_stream_body(groq: SimAPI) -> None:
    reply = await groq.chat("hi [[tokens:12]]", stream=False)
    assert reply.status == 200 and reply.raw.endswith(b"}\n")
    body = reply.json()
    assert body["object"] == "chat.completion" and body["service_tier"] == "on_demand"
    assert list(body["usage"]) == GROQ_USAGE_KEYS and body["usage"]["completion_tokens"] == 12
    assert body["x_groq"]["id"] == reply.headers["x-request-id"] and "seed" in body["x_groq"]
    assert body["choices"][0]["message"]["content"] == "".join(content.answer_tokens(12, "hi"))
    assert int(reply.headers["content-length"]) == len(reply.raw)


async def test_huggingface_and_openai_non_stream_bodies(hf: SimAPI, oai: SimAPI) -> None:
    body = (await hf.chat("hi [[tokens:3]]", stream=False)).json()
    usage = body["usage"]
    assert body["id"] == "" and set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert usage["completion_tokens"] == 3 and usage["total_tokens"] == usage["prompt_tokens"] + 3
    body = (await oai.chat("hi [[tokens:3]]", stream=False)).json()
    assert body["choices"][0]["message"]["refusal"] is None
    assert body["usage"]["completion_tokens"] == 3 and "prompt_tokens_details" in body["usage"]


# -- headers, models, routes ----------------------------------------------------------------------------------


async def test_groq_rate_limit_headers_count_down_as_go_durations(mode: str) -> None:
    with sim_api(mode, "groq", tokens_per_minute=6000) as groq:
        first = (await groq.chat("one [[tokens:500]] [[tps:0]]")).headers
        second = (await groq.chat("two [[tokens:500]] [[tps:0]]")).headers
    prompt = prompt_token_count([{"role": "user", "content": "one [[tokens:500]] [[tps:0]]"}])
    assert (first["x-ratelimit-limit-requests"], first["x-ratelimit-limit-tokens"]) == ("14400", "6000")
    assert int(first["x-ratelimit-remaining-requests"]) == 14399
    assert int(second["x-ratelimit-remaining-requests"]) == 14398
    assert int(second["x-ratelimit-remaining-tokens"]) < int(first["x-ratelimit-remaining-tokens"]) < 5500
    for headers in (first, second):
        requests_reset = parse_go_duration(headers["x-ratelimit-reset-requests"])
        tokens_reset = parse_go_duration(headers["x-ratelimit-reset-tokens"])
        # two answers of 500 tokens plus their prompts, of 6,000 tokens a minute: about 10.3 s to refill
        assert 0 < requests_reset <= 12.0 and 0 < tokens_reset <= 60 * 2 * (500 + prompt) / 6000 + 0.05
    assert re.fullmatch(r"req_[0-9a-z]{26}", first["x-request-id"]) and first["x-groq-region"]


def test_go_duration_format() -> None:
    assert [go_duration(s) for s in (0, 0.07, 6, 60, 179.56, 3600.5)] == [
        "0s", "70ms", "6s", "1m0s", "2m59.56s", "1h0m0.5s"]
    assert parse_go_duration("2m59.56s") == pytest.approx(179.56)


async def test_groq_models_list(groq: SimAPI) -> None:
    reply = await groq.request("GET", "/models")
    assert reply.raw.endswith(b"\n")
    models = {m["id"]: m for m in reply.json()["data"]}
    assert {"demo-fast", "demo-slow", "demo-reasoning", "llama-3.1-8b-instant", "openai/gpt-oss-120b",
            "openai/gpt-oss-20b", "qwen/qwen3-32b", "whisper-large-v3"} <= set(models)
    recorded = json.loads((FIXTURES / "groq_models_2026.json").read_text())["data"][0]
    assert set(recorded) - {"supported_features"} <= set(models["llama-3.1-8b-instant"])
    assert models["whisper-large-v3"]["output_modalities"] == ["transcription"]
    assert models["whisper-large-v3"]["input_modalities"] == ["audio"]
    assert any(m["output_modalities"] == ["speech"] for m in models.values())
    assert any("prompt-guard" in name for name in models)
    assert any(m["active"] is False for m in models.values())


async def test_huggingface_models_list(hf: SimAPI) -> None:
    models = (await hf.request("GET", "/models")).json()["data"]
    sample = json.loads((FIXTURES / "hf_router_models_sample.json").read_text())["data"][0]
    ids = {m["id"] for m in models}
    assert "meta-llama/Llama-3.1-8B-Instruct" in ids and "demo-fast" in ids
    for model in models:
        assert set(model) == set(sample)
        assert set(model["providers"][0]) == set(sample["providers"][0])


async def test_openai_models_list(oai: SimAPI) -> None:
    models = (await oai.request("GET", "/models")).json()["data"]
    assert all(set(m) == {"id", "object", "created", "owned_by"} for m in models)
    assert "gpt-4o-mini" in {m["id"] for m in models}


async def test_groq_serves_under_openai_v1_too(groq: SimAPI) -> None:
    reply = await groq.request("GET", "/openai/v1/models", root=True)
    assert reply.status == 200 and reply.json()["object"] == "list"


async def test_unknown_path_is_a_json_404(oai: SimAPI) -> None:
    reply = await oai.request("GET", "/openai/v1/models", root=True)
    assert reply.status == 404 and "error" in reply.json()
    reply = await oai.request("GET", "/nothing-here")
    assert reply.status == 404 and "Invalid URL" in reply.json()["error"]["message"]


async def test_bad_directive_is_a_400_naming_it(groq: SimAPI) -> None:
    reply = await groq.chat("hi [[tps:fast]]")
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "invalid_sim_directive" and "tps" in reply.json()["error"]["message"]
    reply = await groq.chat("hi", headers={"x-sim-fault": "nope"})
    assert reply.status == 400 and "unknown fault" in reply.json()["error"]["message"]


async def test_invalid_body_answers_like_the_provider(groq: SimAPI, hf: SimAPI) -> None:
    reply = await groq.request("POST", "/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
    assert reply.status == 400 and reply.json()["error"]["message"] == "you must provide a model parameter"
    reply = await hf.request("POST", "/chat/completions", {"model": "m"})
    assert reply.status == 422 and reply.headers["content-type"].startswith("text/plain")


# -- directives: echo, headers ------------------------------------------------------------------------------

HOSTILE = "look: \x1b]52;c;aGk=\x07 and [bold]x[/] and \x1b[2J done"


@pytest.mark.parametrize("flavor", ["groq", "huggingface", "openai"])
async def test_echo_returns_the_exact_text(mode: str, flavor: str) -> None:
    with sim_api(mode, flavor) as api:
        reply = await api.chat(f"[[echo]] {HOSTILE}")
        assert "".join(deltas(reply.chunks)) == HOSTILE
        reply = await api.chat(HOSTILE, headers={"x-sim-echo": "1"})
        assert "".join(deltas(reply.chunks)) == HOSTILE
        reply = await api.chat(f"{HOSTILE} [[echo]]", stream=False)
        assert reply.json()["choices"][0]["message"]["content"] == HOSTILE


async def test_header_directives(groq: SimAPI) -> None:
    reply = await groq.chat("hi", headers={"x-sim-tokens": "9", "x-sim-tps": "15000", "x-sim-ttft": "0"})
    assert len(deltas(reply.chunks)) == 9
    assert reply.headers["x-sim-tps"] == "15000"
    usage = reply.chunks[-1]["usage"]
    assert usage["completion_tokens"] / usage["completion_time"] == pytest.approx(15000)


async def test_message_directive_wins_over_header(groq: SimAPI) -> None:
    reply = await groq.chat("hi [[tokens:4]]", headers={"x-sim-tokens": "9"})
    assert len(deltas(reply.chunks)) == 4


# -- stats ---------------------------------------------------------------------------------------------------


async def test_stats_count_requests_and_reset(groq: SimAPI) -> None:
    await groq.chat("a [[tokens:2]]")
    await groq.chat("b [[tokens:2]]", stream=False)
    await groq.request("GET", "/models")
    stats = await groq.stats()
    assert stats["requests"] == 3 and stats["chat_requests"] == 2
    assert stats["open_connections"] == 0 and stats["open_streams"] == 0
    await groq.reset()
    assert (await groq.stats())["requests"] == 0


async def test_recent_requests_show_what_the_client_sent(groq: SimAPI) -> None:
    await groq.chat("hello [[tokens:2]]", headers={"x-custom": "1"})
    recent = (await groq.request("GET", "/_sim/requests", root=True)).json()
    assert recent[-1]["body"]["stream_options"] == {"include_usage": True}
    assert recent[-1]["headers"]["x-custom"] == "1"


def test_open_connections_seen_by_the_server() -> None:
    with running_simulator(SimSettings(**FAST)) as sim, httpx.Client(base_url=sim.root_url) as client:
        client.get("/v1/models")  # keeps its connection open in the pool
        with httpx.Client(base_url=sim.root_url) as other:
            assert other.get("/_sim/stats").json()["open_connections"] == 1
        client.close()
        with httpx.Client(base_url=sim.root_url) as other:
            assert other.get("/_sim/stats?wait_idle=5").json()["open_connections"] == 0


# -- the official SDK -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["groq", "huggingface", "openai"])
async def test_openai_sdk_streams_a_full_answer(flavor: str) -> None:
    with running_simulator(SimSettings(flavor=flavor, **FAST, extra_models=TEST_MODELS)) as sim:
        bases = [sim.base_url] + ([f"{sim.root_url}/openai/v1"] if flavor == "groq" else [])
        for base in bases:
            async with openai.AsyncOpenAI(base_url=base, api_key="sim", max_retries=0) as client:
                stream = await client.chat.completions.create(
                    model="sim-test", messages=[{"role": "user", "content": "Tell me something"}],
                    stream=True, stream_options={"include_usage": True})
                text, usage = "", None
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        text += chunk.choices[0].delta.content
                    usage = chunk.usage or usage
                assert text == "".join(content.default_answer("Tell me something"))
                assert usage is not None and usage.completion_tokens == len(content.tokenize(text))
                listed = await client.models.list()
                assert "demo-fast" in [m.id for m in listed.data]


async def test_openai_sdk_through_the_in_process_transport() -> None:
    from botticelli.simulator.transport import SimulatorTransport

    http = httpx.AsyncClient(transport=SimulatorTransport(SimSettings(**FAST)))
    async with openai.AsyncOpenAI(base_url="http://demo.botticelli.invalid/v1", api_key="sim", max_retries=0,
                                  http_client=http) as client:
        reply = await client.chat.completions.create(
            model="demo-fast", messages=[{"role": "user", "content": "hi [[tps:20000]] [[ttft:0]]"}])
        assert reply.choices[0].message.content == "".join(content.default_answer("hi"))


# -- the command -------------------------------------------------------------------------------------------


def test_simulate_parser_defaults() -> None:
    from botticelli.cli import build_parser

    args = build_parser().parse_args(["simulate"])
    assert (args.host, args.port, args.flavor, args.tps, args.ttft) == ("127.0.0.1", 8199, "groq", 500.0, 0.2)
    assert SimSettings.from_args(args) == SimSettings()


def test_simulate_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    from botticelli.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["simulate", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: simulate: port {port} is in use (choose another with --port)"


def test_simulate_serves_until_interrupted() -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "botticelli", "simulate", "--port", "0", "--tps", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        banner = proc.stderr.readline() if proc.stderr else ""
        assert banner.startswith("botticelli simulator (groq flavour, unpaced, TTFT 0.2s) on http://127.0.0.1:")
        assert "/openai/v1 and /v1" in banner and "Ctrl-C to stop" in banner
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", banner).group(1))  # type: ignore[union-attr]
        assert httpx.get(f"http://127.0.0.1:{port}/openai/v1/models").status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "Traceback" not in err and "error" not in err and out == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

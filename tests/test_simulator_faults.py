"""Every simulator fault, as a client sees it: status, body, headers and stream behaviour."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from botticelli.simulator import SimSettings, content
from botticelli.simulator.errors import ORG_ID
from botticelli.simulator.server import running_simulator
from test_simulator_support import SimAPI, deltas, sim_api

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recorded"
FLAVORS = ["groq", "huggingface", "openai"]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(params=["socket", "inprocess"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def groq(mode: str) -> Iterator[SimAPI]:
    with sim_api(mode, "groq") as api:
        yield api


# -- HTTP status faults ----------------------------------------------------------------------------------------

STATUS = {"401": 401, "403": 403, "404": 404, "decommissioned": 400, "context_length": 400, "413": 413,
          "422": 422, "429": 429, "498": 498, "500": 500, "502": 502, "503": 503}


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("fault", list(STATUS))
async def test_status_fault_status_and_body_shape(flavor: str, fault: str) -> None:
    with sim_api("inprocess", flavor) as api:
        reply = await api.chat("hi", headers={"x-sim-fault": fault})
        assert reply.status == STATUS[fault]
        kind = reply.headers["content-type"]
        if fault == "502":
            assert kind == "text/html" and b"502 Bad Gateway" in reply.raw
        elif fault == "422" or (fault == "503" and flavor != "openai"):
            assert kind.startswith("text/plain") and not reply.raw.lstrip().startswith(b"{")
        else:
            error = reply.json()["error"]
            message = error if isinstance(error, str) else error["message"]
            assert message
        assert (await api.stats())["chat_requests"] == 1


async def test_groq_error_bodies_match_the_recordings(groq: SimAPI) -> None:
    async def body(fault: str, model: str = "sim") -> bytes:
        return (await groq.chat("x", model=model, headers={"x-sim-fault": fault})).raw

    assert await body("401") == fixture("groq_error_401_invalid_api_key.json")
    assert await body("404", "non-existent") == fixture("groq_error_404_model_not_found.json")
    assert await body("decommissioned", "llama-3.2-11b-vision-preview") == (
        fixture("groq_error_400_model_decommissioned.json") + b"\n")
    assert await body("context_length") == fixture("groq_error_400_context_length.json") + b"\n"
    recorded_413 = fixture("groq_error_413_request_too_large.json").replace(
        b"org_01jp8byqwpfx9sp1m0dbhb6a1e", ORG_ID.encode())
    assert await body("413", "llama-3.3-70b-versatile") == recorded_413 + b"\n"
    recorded_429 = fixture("groq_error_429_rpm.json").replace(b"org_01k9v83k2bf1zr2nc2pzp9y3ad", ORG_ID.encode())
    assert await body("429", "llama-3.1-8b-instant") == recorded_429 + b"\n"
    assert await body("503") == fixture("groq_error_503_upstream_reset.txt")


async def test_groq_401_has_request_id_but_no_rate_limits(groq: SimAPI) -> None:
    reply = await groq.chat("x", headers={"x-sim-fault": "401"})
    assert reply.headers["x-request-id"].startswith("req_") and reply.headers["x-groq-region"]
    assert "x-ratelimit-limit-requests" not in reply.headers
    reply = await groq.chat("x [[fault:429 retry_after=0]]")
    assert reply.headers["x-ratelimit-limit-requests"] == "14400"


async def test_huggingface_error_bodies_match_the_recordings(mode: str) -> None:
    with sim_api(mode, "huggingface") as hf:
        reply = await hf.chat("x", headers={"x-sim-fault": "401"})
        assert reply.raw == fixture("hf_router_error_401.json")
        assert reply.headers["www-authenticate"].startswith("Bearer realm=")
        reply = await hf.chat("x", model="this-model-does-not-exist-123", headers={"x-sim-fault": "404"})
        assert reply.raw == fixture("hf_router_error_404_model_not_found.json")
        assert (await hf.chat("x [[fault:422]]")).raw == fixture("hf_router_error_422_plaintext.txt")
        reply = await hf.chat("x [[fault:500]]")
        assert reply.json() == json.loads(fixture("hf_router_error_500_together.reserialized.json"))
        assert reply.headers["retry-after"] == "1"
        reply = await hf.chat("x [[fault:decommissioned]]")
        assert reply.json()["error"]["code"] == "model_not_supported"


async def test_openai_404_matches_the_recording() -> None:
    with sim_api("inprocess", "openai") as oai:
        reply = await oai.chat("x [[fault:404]]", model="gpt-5.2-proo")
        assert reply.json() == json.loads(fixture("openai_error_404_model_not_found.reserialized.json"))


async def test_429_retry_after_headers(groq: SimAPI) -> None:
    reply = await groq.chat("x [[fault:429]]")
    assert reply.headers["retry-after"] == "2" and "Please try again in 2s." in reply.json()["error"]["message"]
    reply = await groq.chat("x [[fault:429 retry_after=0]]")
    assert reply.headers["retry-after"] == "0"
    reply = await groq.chat("x [[fault:429 retry_after_ms=250]]")
    assert reply.headers["retry-after-ms"] == "250" and "retry-after" not in reply.headers
    assert "Please try again in 250ms." in reply.json()["error"]["message"]


async def test_times_limits_a_fault_to_the_first_requests(groq: SimAPI) -> None:
    statuses = [(await groq.chat("x [[tokens:3]]", headers={"x-sim-fault": "429 times=2 retry_after=0"})).status
                for _ in range(4)]
    assert statuses == [429, 429, 200, 200]
    stats = await groq.stats()
    assert stats["chat_requests"] == 4
    # another spec string has its own counter; reset starts every counter again
    assert (await groq.chat("x [[tokens:3]] [[fault:500 times=1]]")).status == 500
    assert (await groq.chat("x [[tokens:3]] [[fault:500 times=1]]")).status == 200
    await groq.reset()
    assert (await groq.chat("x [[tokens:3]] [[fault:500 times=1]]")).status == 500


async def test_status_fault_on_models_via_header(groq: SimAPI) -> None:
    reply = await groq.request("GET", "/models", headers={"x-sim-fault": "401 times=1"})
    assert reply.status == 401
    assert (await groq.request("GET", "/models", headers={"x-sim-fault": "401 times=1"})).status == 200


async def test_inactive_model_is_decommissioned(groq: SimAPI) -> None:
    reply = await groq.chat("x", model="gemma2-9b-it")
    assert reply.status == 400 and reply.json()["error"]["code"] == "model_decommissioned"


async def test_openai_sdk_sees_status_faults_as_typed_errors() -> None:
    with running_simulator(SimSettings(tps=20000, ttft_s=0, extra_models=("m",))) as sim:
        async with openai.AsyncOpenAI(base_url=sim.base_url, api_key="sim", max_retries=0) as client:
            with pytest.raises(openai.RateLimitError):
                await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x [[fault:429 retry_after=0]]"}])
            with pytest.raises(openai.NotFoundError):
                await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x [[fault:404]]"}])


async def test_openai_sdk_retries_a_429_then_succeeds() -> None:
    with running_simulator(SimSettings(tps=20000, ttft_s=0, extra_models=("m",))) as sim:
        async with openai.AsyncOpenAI(base_url=sim.base_url, api_key="sim", max_retries=2) as client:
            text = "x [[tokens:3]] [[fault:429 times=1 retry_after_ms=1]]"
            reply = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
            assert reply.choices[0].message.content == "".join(content.answer_tokens(3, "x"))
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{sim.root_url}/_sim/stats")).json()
        assert stats["chat_requests"] == 2


# -- stalls ---------------------------------------------------------------------------------------------------


async def test_stalls_still_deliver_the_full_answer(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:6]] [[fault:stall_first seconds=0.01]]")
    assert reply.status == 200 and len(deltas(reply.chunks)) == 6
    reply = await groq.chat("x [[tokens:6]] [[fault:stall_mid after=3 seconds=0.01]]")
    assert "".join(deltas(reply.chunks)) == "".join(content.answer_tokens(6, "x"))
    reply = await groq.chat("x [[tokens:6]] [[fault:stall_mid after=3 seconds=0.01]]", stream=False)
    assert reply.json()["usage"]["completion_tokens"] == 6


# -- stream faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_cut_ends_in_a_remote_protocol_error(mode: str, flavor: str) -> None:
    with sim_api(mode, flavor) as api:
        reply = await api.chat("x [[tokens:10]] [[fault:cut after=4]]")
        assert reply.status == 200
        assert isinstance(reply.error, httpx.RemoteProtocolError)
        assert b"[DONE]" not in reply.raw
        assert deltas(reply.chunks) == content.answer_tokens(10, "x")[:4]
        reply = await api.chat("x [[tokens:10]] [[fault:cut]]", stream=False)
        assert isinstance(reply.error, httpx.RemoteProtocolError)
        stats = await api.stats()
        assert stats["open_connections"] == 0 and stats["open_streams"] == 0


async def test_malformed_inserts_one_bad_event_and_goes_on(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:5]] [[fault:malformed after=2]]")
    data = [d for _, d in reply.events]
    assert data.count("{not json") == 1
    assert data.index("{not json") == 3  # role chunk, two tokens, then the bad event
    good = [json.loads(d) for d in data if d not in ("{not json", "[DONE]")]
    assert len(deltas(good)) == 5 and data[-1] == "[DONE]"
    reply = await groq.chat("x [[fault:malformed]]", stream=False)
    assert reply.status == 200 and reply.raw == b"{not json"


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_error_event_is_groqs_bytes_then_the_end(mode: str, flavor: str) -> None:
    recorded = fixture("groq_stream_error_event.sse")
    with sim_api(mode, flavor) as api:
        reply = await api.chat("x [[tokens:8]] [[fault:error_event after=3]]")
    assert reply.error is None and reply.raw.endswith(recorded[recorded.index(b"event: error"):])
    assert b"[DONE]" not in reply.raw
    name, data = reply.events[-1]
    assert name == "error" and json.loads(data)["error"]["status_code"] == 400
    assert len(deltas(reply.chunks)) == 3


async def test_openai_sdk_raises_on_error_event() -> None:
    with running_simulator(SimSettings(tps=20000, ttft_s=0, extra_models=("m",))) as sim:
        async with openai.AsyncOpenAI(base_url=sim.base_url, api_key="sim", max_retries=0) as client:
            stream = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x [[fault:error_event after=2]]"}], stream=True)
            with pytest.raises(openai.APIError, match="Tool call validation failed"):
                async for _ in stream:
                    pass


async def test_x_groq_error_chunk(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:6]] [[fault:x_groq_error after=2]]")
    errors = [c for c in reply.chunks if "error" in c.get("x_groq", {})]
    assert len(errors) == 1 and isinstance(errors[0]["x_groq"]["error"], str)
    assert reply.chunks[-1] is not None and reply.events[-1] == (None, "[DONE]")
    assert len(deltas(reply.chunks)) == 2


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_no_done_ends_after_the_finish(flavor: str) -> None:
    with sim_api("inprocess", flavor) as api:
        reply = await api.chat("x [[tokens:4]] [[fault:no_done]]")
    assert reply.error is None and b"[DONE]" not in reply.raw
    finishes = [c["choices"][0]["finish_reason"] for c in reply.chunks if c["choices"]]
    assert finishes[-1] == "stop"


async def test_empty_choices_chunk(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:4]] [[fault:empty_choices after=2]]")
    empty = [c for c in reply.chunks if c["choices"] == []]
    assert len(empty) == 1 and "usage" not in empty[0]
    assert len(deltas(reply.chunks)) == 4


async def test_big_chunk(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:3]] [[fault:big_chunk]]")
    sizes = sorted(len(d) for d in deltas(reply.chunks))
    assert sizes[-1] == 1_048_576 and len(sizes) == 4
    assert reply.chunks[-1]["usage"]["completion_tokens"] == 3 + 1_048_576 // 4


async def test_bad_utf8_bytes_inside_the_json(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:3]] [[fault:bad_utf8 after=1]]")
    lines = reply.raw.split(b"\n\n")
    bad = [line for line in lines if b"\xff\xfe" in line]
    assert len(bad) == 1 and bad[0].startswith(b"data: {")
    with pytest.raises(UnicodeDecodeError):
        bad[0].decode("utf-8")
    assert reply.raw.endswith(b"data: [DONE]\n\n")


async def test_keepalive_and_crlf(groq: SimAPI) -> None:
    reply = await groq.chat("x [[tokens:4]] [[fault:keepalive; crlf]]")
    assert reply.raw.startswith(b": ping\r\n\r\n")
    assert b"\n" not in reply.raw.replace(b"\r\n", b"")
    assert reply.raw.count(b": ping") >= 5
    assert len(deltas(reply.chunks)) == 4 and reply.events[-1] == (None, "[DONE]")

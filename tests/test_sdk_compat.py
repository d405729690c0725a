"""The official `openai` and `groq` Python SDKs against `botticelli simulate`, the real command, in its Groq and
OpenAI flavours: list models, plain and streamed calls, include_usage and Groq's x_groq usage."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import groq
import openai
import pytest

from botticelli.simulator import content
from botticelli.simulator.directives import strip_directives

PROMPT = "Tell me something [[tokens:12]]"
URL = re.compile(r"on (http://127\.0\.0\.1:\d+)/")


def simulate(flavor: str) -> Iterator[str]:
    """Run `botticelli simulate --port 0` and yield its root URL; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "botticelli", "simulate", "--port", "0", "--flavor", flavor, "--tps", "0",
         "--ttft", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if match := URL.search(line):
                yield match.group(1)
                return
        pytest.fail(f"`botticelli simulate` did not start: {line!r}")
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def groq_sim() -> Iterator[str]:
    yield from simulate("groq")


@pytest.fixture(scope="module")
def openai_sim() -> Iterator[str]:
    yield from simulate("openai")


def expected_text() -> str:
    """The simulator's 12-token answer to PROMPT (what it streams, token by token)."""
    return "".join(content.answer_tokens(12, strip_directives(PROMPT)[0]))


def test_groq_sdk_lists_models_with_context_windows(groq_sim: str) -> None:
    with groq.Groq(base_url=groq_sim, api_key="sim", max_retries=0) as client:
        models = {m.id: m for m in client.models.list().data}
    assert "demo-fast" in models
    assert models["demo-fast"].context_window > 0  # type: ignore[attr-defined]


def test_groq_sdk_plain_call_has_usage_with_times(groq_sim: str) -> None:
    with groq.Groq(base_url=groq_sim, api_key="sim", max_retries=0) as client:
        reply = client.chat.completions.create(model="demo-fast", messages=[{"role": "user", "content": PROMPT}])
    assert reply.choices[0].message.content == expected_text()
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 12
    assert reply.usage.completion_time is not None and reply.usage.completion_time > 0


def test_groq_sdk_stream_carries_x_groq_usage(groq_sim: str) -> None:
    with groq.Groq(base_url=groq_sim, api_key="sim", max_retries=0) as client:
        chunks = list(client.chat.completions.create(
            model="demo-fast", messages=[{"role": "user", "content": PROMPT}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_text()
    assert chunks[0].x_groq is not None and chunks[0].x_groq.id
    last = chunks[-1]
    assert last.x_groq is not None and last.x_groq.usage is not None
    assert last.x_groq.usage.completion_tokens == 12 and last.x_groq.usage.completion_time > 0


@pytest.mark.parametrize("path", ["/v1", "/openai/v1"])
def test_openai_sdk_against_the_groq_flavour(groq_sim: str, path: str) -> None:
    with openai.OpenAI(base_url=groq_sim + path, api_key="sim", max_retries=0) as client:
        stream = client.chat.completions.create(
            model="demo-fast", messages=[{"role": "user", "content": PROMPT}], stream=True,
            stream_options={"include_usage": True})
        chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_text()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12


def test_openai_sdk_lists_models_and_answers_plainly(openai_sim: str) -> None:
    with openai.OpenAI(base_url=openai_sim + "/v1", api_key="sim", max_retries=0) as client:
        assert "demo-fast" in [m.id for m in client.models.list().data]
        reply = client.chat.completions.create(model="demo-fast", messages=[{"role": "user", "content": PROMPT}])
    assert reply.choices[0].message.content == expected_text()
    assert reply.usage is not None and reply.usage.completion_tokens == 12
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 12


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_sdk_stream_usage_only_when_asked(openai_sim: str, include_usage: bool) -> None:
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    with openai.OpenAI(base_url=openai_sim + "/v1", api_key="sim", max_retries=0) as client:
        chunks = list(client.chat.completions.create(
            model="demo-fast", messages=[{"role": "user", "content": PROMPT}], stream=True, **extra))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_text()
    usages = [c.usage for c in chunks if c.usage is not None]
    if include_usage:
        assert len(usages) == 1 and usages[0].completion_tokens == 12 and chunks[-1].choices == []
    else:
        assert usages == []

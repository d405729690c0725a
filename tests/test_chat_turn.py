"""The headless chat core: the turn runner's events, retries, cut answers, failures, stops and the network thread."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest

from botticelli import format as fmt
from botticelli.chat import events as ev
from botticelli.chat.conversation import ChatSettings, Conversation, Exchange, check_temperature
from botticelli.chat.network import NetworkThread
from botticelli.chat.turn import Turn
from botticelli.providers.errors import AuthError
from botticelli.stats import SpeedFigures, SpeedMeter
from helpers_client import SSE_HEADERS, FakeClock, Server, SleepRecorder, chat_request, make_client, response


def chunk(content: str | None = None, finish: str | None = None, **extra: object) -> bytes:
    delta = {} if content is None else {"content": content}
    payload = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(payload)}\n\n".encode()


USAGE = {"usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
STREAM = [chunk("Hi"), chunk(" there"), chunk(finish="stop", **USAGE), b"data: [DONE]\n\n"]
CUT = [chunk("Hi"), chunk(" the"), chunk(finish="length", **USAGE), b"data: [DONE]\n\n"]
BUSY = json.dumps({"error": {"message": "overloaded", "type": "server_error"}})


class Recording:
    """A `TurnRecording` that keeps what it was told."""

    def __init__(self) -> None:
        self.checkpoints: list[tuple[str, str]] = []
        self.finished: list[tuple[str, str, str, SpeedFigures | None, dict[str, Any] | None]] = []

    def checkpoint(self, text: str, reasoning: str) -> None:
        self.checkpoints.append((text, reasoning))

    def finish(self, text: str, reasoning: str, finish_reason: str, figures: SpeedFigures | None,
               error: dict[str, Any] | None) -> None:
        self.finished.append((text, reasoning, finish_reason, figures, error))


async def run(turn: Turn) -> list[ev.TurnEvent]:
    seen: list[ev.TurnEvent] = []
    await turn.run(seen.append)
    return seen


async def test_a_turn_tells_started_text_figures_then_finished_and_records_the_end() -> None:
    client, _ = make_client(Server(response(200, headers=SSE_HEADERS, chunks=STREAM)))
    recording = Recording()
    async with client:
        seen = await run(Turn(client, chat_request(), profile="testprov", recording=recording))
    kinds = [type(e) for e in seen]
    assert kinds[0] is ev.Started and kinds[-1] is ev.Finished
    assert "".join(e.text for e in seen if isinstance(e, ev.ContentDelta)) == "Hi there"
    final = [e for e in seen if isinstance(e, ev.Figures) and e.final]
    assert len(final) == 1 and final[0].figures.completion_tokens == 2 and final[0].figures.tokens_exact
    end = seen[-1]
    assert isinstance(end, ev.Finished) and end.finish_reason == "stop" and not end.cut and end.text == "Hi there"
    assert recording.finished == [("Hi there", "", "stop", end.figures, None)]


async def test_retries_are_announced_and_the_total_counts_from_the_first_attempt() -> None:
    clock = FakeClock()
    server = Server(
        response(503, BUSY, [("retry-after", "3"), ("content-type", "application/json")]),
        response(503, BUSY, [("retry-after", "3"), ("content-type", "application/json")]),
        response(200, headers=SSE_HEADERS, chunks=STREAM),
    )
    client, _ = make_client(server, clock=clock, sleep=SleepRecorder(clock))
    async with client:
        seen = await run(Turn(client, chat_request(), profile="testprov", clock=clock))
    retries = [e for e in seen if isinstance(e, ev.RetryScheduled)]
    assert [(e.wait_s, e.attempt, e.of) for e in retries] == [(3, 2, 3), (3, 3, 3)]
    assert fmt.retrying(retries[0].wait_s, retries[0].attempt, retries[0].of) == "retrying in 3 s (attempt 2 of 3)"
    end = seen[-1]
    assert isinstance(end, ev.Finished) and end.figures is not None
    assert end.figures.total_s == pytest.approx(6.0)  # the two 3 s waits, not just the last attempt


async def test_an_answer_cut_by_the_length_limit_is_marked_cut() -> None:
    client, _ = make_client(Server(response(200, headers=SSE_HEADERS, chunks=CUT)))
    async with client:
        seen = await run(Turn(client, chat_request(), profile="testprov"))
    end = seen[-1]
    assert isinstance(end, ev.Finished) and end.finish_reason == "length" and end.cut
    assert "cut" in fmt.summary_line(end.figures, end.finish_reason)
    exchange = Exchange("q", "p", "m", finish_reason="length")
    assert exchange.cut


async def test_a_client_that_cannot_open_ends_in_failed_and_is_recorded() -> None:
    def no_key() -> Any:
        raise AuthError("no API key for profile 'groq'", provider="groq", code="missing_api_key",
                        hint="set GROQ_API_KEY")

    recording = Recording()
    seen = await run(Turn(no_key, chat_request(), profile="groq", recording=recording))
    end = seen[-1]
    assert isinstance(end, ev.Failed) and end.error.kind == "auth" and end.error.exit_code == 3
    assert "set GROQ_API_KEY" in end.error.shown and end.error.line.startswith("error: ")
    assert recording.finished[0][2] == "error" and recording.finished[0][4]["kind"] == "auth"


async def test_a_bug_is_a_failed_turn_of_kind_internal_not_a_raise() -> None:
    def broken() -> Any:
        raise RuntimeError("boom")

    seen = await run(Turn(broken, chat_request(), profile="p"))
    end = seen[-1]
    assert isinstance(end, ev.Failed) and end.error.kind == "internal" and "boom" in end.error.shown


class StallingStream(httpx.AsyncByteStream):
    """One chunk, then nothing more (until cancelled)."""

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield chunk("partial")
        await asyncio.Event().wait()


async def test_stopping_a_turn_keeps_the_part_received_as_cancelled() -> None:
    server = Server(lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=StallingStream(),
                                                   request=request))
    client, _ = make_client(server)
    recording = Recording()
    seen: list[ev.TurnEvent] = []

    def emit(event: ev.TurnEvent) -> None:
        seen.append(event)
        if isinstance(event, ev.ContentDelta):
            task.cancel()

    async with client:
        task = asyncio.ensure_future(Turn(client, chat_request(), profile="p", recording=recording).run(emit))
        with pytest.raises(asyncio.CancelledError):
            await task
    end = seen[-1]
    assert isinstance(end, ev.Finished) and end.finish_reason == "cancelled" and end.text.startswith("partial")
    assert recording.finished[0][2] == "cancelled"


async def test_events_can_be_iterated() -> None:
    client, _ = make_client(Server(response(200, headers=SSE_HEADERS, chunks=STREAM)))
    async with client:
        kinds = [type(e) async for e in Turn(client, chat_request(), profile="p").events()]
    assert kinds[0] is ev.Started and kinds[-1] is ev.Finished


def test_the_network_thread_runs_the_turn_and_stamps_chunks_off_the_callers_thread() -> None:
    stamped_on: set[str] = set()

    class WhereMeter(SpeedMeter):
        def on_text(self, text: str) -> None:
            stamped_on.add(threading.current_thread().name)
            super().on_text(text)

    network = NetworkThread()
    server = Server(response(200, headers=SSE_HEADERS, chunks=STREAM))
    client_box: list[Any] = []  # the client is made on the network loop, where it is used

    def connect() -> Any:
        client_box.append(make_client(server)[0])
        return client_box[0]

    woke = threading.Event()
    feed = network.start_turn(Turn(connect, chat_request(), profile="p", meter=WhereMeter()), woke.set)
    feed.done_future().result(10)  # type: ignore[union-attr]
    events = feed.drain()
    network.close(lambda: client_box[0].aclose())
    assert woke.is_set() and feed.ended and not feed.running
    assert stamped_on == {"botticelli-network"}
    assert isinstance(events[-1], ev.Finished) and events[-1].text == "Hi there"
    assert feed.drain() == []


def test_a_conversation_builds_its_request_from_its_settings_and_earlier_answers() -> None:
    conversation = Conversation(ChatSettings("Be brief.", 0.5, 10))
    first = Exchange("one", "p", "m", answer="1")
    failed = Exchange("two", "p", "m")  # no answer: not sent again
    third = Exchange("three", "p", "m")
    conversation.exchanges += [first, failed, third]
    request = conversation.request(third)
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", "Be brief."), ("user", "one"), ("assistant", "1"), ("user", "three")]
    assert (request.temperature, request.max_tokens, request.model) == (0.5, 10, "m")


@pytest.mark.parametrize("bad", [5.0, -0.1, float("nan")])
def test_temperature_rules_are_the_same_everywhere(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 2"):
        check_temperature(bad)
    with pytest.raises(ValueError):
        ChatSettings(temperature=bad)

"""The turn runner: one request, from the conversation to the last event, the same for every caller.

`Turn.run(emit)` opens the client, streams, and calls `emit` with typed events (`chat.events`) as things
happen; it records the turn (`TurnRecording`) at checkpoints and at its end, and never raises for a failure
of the provider, the configuration or a bug: those end in `Failed`. Stopping it (cancelling its task) ends it
with `Finished("cancelled")`, the part received kept, and re-raises the cancellation.

The TUI runs turns on the network thread (`chat.network`); `ask`, `bench` and the race run them on their own
loop. Either way the chunks are timestamped by the meter as the client reads them, before any `emit`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from botticelli.chat import events as ev
from botticelli.errors import BotticelliError
from botticelli.providers.client import ChatStream, OpenAICompatibleClient
from botticelli.providers.types import ChatRequest, RateLimitInfo
from botticelli.providers.types import ContentDelta as WireContent
from botticelli.providers.types import ReasoningDelta as WireReasoning
from botticelli.stats import SpeedFigures, SpeedMeter

log = logging.getLogger("botticelli.chat")

LIVE_EVERY_S = 0.05
"""Live figures are emitted at most this often while an answer streams."""
CHECKPOINT_S = 2.0
"""A streaming answer is recorded at most this often."""

Emit = Callable[[ev.TurnEvent], None]
Connect = Callable[[], OpenAICompatibleClient]


class TurnRecording(Protocol):
    """Where a turn is recorded (a session): the partial answer now and then, and how it ended."""

    def checkpoint(self, text: str, reasoning: str) -> None: ...

    def finish(
        self,
        text: str,
        reasoning: str,
        finish_reason: str,
        figures: SpeedFigures | None,
        error: dict[str, Any] | None,
    ) -> None: ...


def turn_error(exc: BaseException, label: str) -> ev.TurnError:
    """The typed error of a failed turn: a `BotticelliError` as it is, anything else as a bug (kind `internal`)
    of the turn for `label` (the profile)."""
    from botticelli.format import error_text

    if not isinstance(exc, BotticelliError):
        exc = _InternalError(f"{type(exc).__name__}: {exc}", label)
    return ev.TurnError(exc.kind, error_text(exc), exc.one_line(), exc.exit_code, exc, exc.to_dict())


class _InternalError(BotticelliError):
    """A bug met while running a turn (the app keeps running)."""

    default_hint = "this is a bug; please report it"

    def __init__(self, message: str, label: str) -> None:
        super().__init__(message)
        self.label = label

    @property
    def source(self) -> str:
        return self.label


class Turn:
    """One answer to one request: run it once with `run(emit)` (or iterate `events()`)."""

    def __init__(
        self,
        client: OpenAICompatibleClient | Connect,
        request: ChatRequest,
        *,
        profile: str,
        meter: SpeedMeter | None = None,
        recording: TurnRecording | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`client`: the client, or a function that opens it (its failure, a missing key say, ends the turn
        in `Failed`). `meter`: a custom speed meter (tests, deterministic screenshots)."""
        self._connect = client if callable(client) and not isinstance(client, OpenAICompatibleClient) else None
        self._client = client if isinstance(client, OpenAICompatibleClient) else None
        self.request = request
        self.profile = profile
        self.meter = meter
        self.recording = recording
        self.clock = clock
        self.stream: ChatStream | None = None
        """The client's stream once opened: partial text, retries, rate limits."""
        self.outcome: ev.Finished | ev.Failed | None = None

    @property
    def label(self) -> str:
        return f"{self.profile}·{self.request.model}"

    # -- reading the stream ----------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.stream.text if self.stream is not None else ""

    @property
    def reasoning(self) -> str:
        return self.stream.reasoning if self.stream is not None else ""

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        return self.stream.rate_limit if self.stream is not None else None

    def figures(self) -> SpeedFigures | None:
        """The figures so far (None before the request went out)."""
        stream = self.stream
        if stream is None or stream.meter.t_sent is None:
            return None
        return stream.meter.figures()

    # -- running ---------------------------------------------------------------------------------------------

    async def run(self, emit: Emit) -> ev.Finished | ev.Failed:
        """Run the turn, telling `emit` everything; returns the last event (`Finished` or `Failed`).

        An exception raised by `emit` itself (a closed stdout, say) is the caller's: the turn is recorded as
        cancelled and the exception goes back to the caller as it was."""
        try:
            return await self._run(_Guarded(emit))
        except _CallerError as failure:
            if self.recording is not None and self.outcome is None:
                self.recording.finish(self.text, self.reasoning, "cancelled", self.figures(), None)
            raise failure.error from None

    async def _run(self, emit: Emit) -> ev.Finished | ev.Failed:
        clock = self.clock
        emit(ev.Started(self.profile, self.request.model, clock()))
        try:
            client = self._client if self._client is not None else self._connect()  # type: ignore[misc]
            stream = self.stream = client.stream(
                self.request,
                meter=self.meter,
                on_retry=lambda wait_s, attempt, of: emit(ev.RetryScheduled(wait_s, attempt, of, clock())),
            )
            meter = stream.meter
            live_at = checkpoint_at = 0.0
            async with stream:
                checkpoint_at = clock() + CHECKPOINT_S
                async for event in stream:
                    kind = type(event)
                    if kind is WireContent:
                        emit(ev.ContentDelta(event.text, clock()))  # type: ignore[union-attr]
                    elif kind is WireReasoning:
                        emit(ev.ReasoningDelta(event.text, clock()))  # type: ignore[union-attr]
                    else:
                        continue
                    now = clock()
                    if now >= live_at:
                        live_at = now + LIVE_EVERY_S
                        emit(ev.Figures(meter.live(), False, stream.rate_limit, now))
                    if self.recording is not None and now >= checkpoint_at:
                        checkpoint_at = now + CHECKPOINT_S
                        self.recording.checkpoint(stream.text, stream.reasoning)
        except asyncio.CancelledError:
            self._end(emit, ev.Finished("cancelled", self.text, self.reasoning, self.figures(), self.rate_limit,
                                        clock()))
            raise
        except _CallerError:
            raise
        except Exception as exc:  # the provider's, the config's, or a bug: the caller gets `Failed`, not a raise
            if not isinstance(exc, BotticelliError):
                log.exception("a turn failed")
            error = turn_error(exc, self.profile)
            rate_limit = self.rate_limit or getattr(exc, "rate_limit", None)
            return self._end(emit, ev.Failed(error, self.text, self.reasoning, self.figures(), rate_limit,
                                             clock()))
        figures = stream.figures()
        emit(ev.Figures(figures, True, stream.rate_limit, clock()))
        return self._end(emit, ev.Finished(stream.finish_reason or "stop", stream.text, stream.reasoning, figures,
                                           stream.rate_limit, clock()))

    def _end(self, emit: Emit, outcome: ev.Finished | ev.Failed) -> ev.Finished | ev.Failed:
        self.outcome = outcome
        if self.recording is not None:
            try:
                if isinstance(outcome, ev.Failed):
                    self.recording.finish(outcome.text, outcome.reasoning, "error", outcome.figures,
                                          outcome.error.to_dict())
                else:
                    self.recording.finish(outcome.text, outcome.reasoning, outcome.finish_reason, outcome.figures,
                                          None)
            except Exception:  # recording reports its own failures; it never ends the turn
                log.exception("recording a turn failed")
        emit(outcome)
        return outcome

    async def events(self) -> AsyncIterator[ev.TurnEvent]:
        """The turn's events as an async iterator (the turn runs in a task; leaving the loop stops it)."""
        queue: asyncio.Queue[ev.TurnEvent | None] = asyncio.Queue()
        task = asyncio.ensure_future(self.run(queue.put_nowait))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass


class _CallerError(Exception):
    """An exception raised by the caller's `emit`, carried out of the turn untouched."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


class _Guarded:
    """`emit`, with its own exceptions marked as the caller's."""

    __slots__ = ("_emit",)

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def __call__(self, event: ev.TurnEvent) -> None:
        try:
            self._emit(event)
        except Exception as exc:
            raise _CallerError(exc) from exc

"""Every chat is a session: `SessionKeeper` records the conversation as it happens and loads saved ones.

The store is opened lazily, on the first prompt or the first look at the saved sessions, never before the first
frame. Every store call runs on one background thread in the order it was asked for, so SQLite never blocks the
event loop and the writes of one turn never overtake each other. A store failure (locked, damaged, unwritable)
is reported once, as a notification, and never stops the chat: the conversation on screen stays whole.

The stored session mirrors what the screen shows:
- a prompt is stored when it is sent, with an empty answer that the turn runner checkpoints while it streams
  (`recording_for(exchange)`, at most every `turn.CHECKPOINT_S`) and finishes when it ends, is stopped
  (`cancelled`, with the partial text) or fails (`error`, with the partial text and the error object);
- regenerate and a sent edit take the last exchange off the screen, so its prompt and answer are deleted
  from the session too; the new answer, or the edited prompt, is stored as a new exchange (a session left
  empty by an edit is deleted, and the edited prompt starts and names a new one);
- a new chat starts a new session on its first prompt (no empty sessions are created);
- the system prompt and parameters are saved with the first prompt sent under them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botticelli.catalog.cost import Cost, stats_with_cost, total_cost
from botticelli.chat.conversation import ChatSettings, Exchange
from botticelli.format import error_text, summary_line
from botticelli.providers.errors import ERROR_KINDS, ProviderError, error_from_dict
from botticelli.safety import strip_escapes
from botticelli.stats import SpeedFigures

if TYPE_CHECKING:
    from botticelli.sessions import Message, SearchHit, Session, SessionStore, SessionStoreError
    from botticelli.sessions.recorder import TurnRecorder

log = logging.getLogger("botticelli.chat")
T = TypeVar("T")

BROWSE_LIMIT = 500
"""Sessions listed at most (the newest); typing filters among all of them."""
SEARCH_LIMIT = 200
"""Message matches looked at for one search."""


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One message of a loaded transcript as it is shown (plain text, escapes stripped)."""

    role: str
    text: str
    title: str | None = None
    footer: str | None = None
    reasoning: str | None = None
    error: str | None = None
    cancelled: bool = False


@dataclass(slots=True)
class LoadedSession:
    """A saved session made ready for the chat screen."""

    session: Session
    exchanges: list[Exchange]
    messages: list[TranscriptEntry]
    settings: ChatSettings
    message_ids: list[list[int]] = field(default_factory=list)
    """The stored ids of each exchange (prompt, answer), parallel to `exchanges`."""


@dataclass(slots=True)
class BrowseRow:
    """One line of the session browser: a session, and the message that matched a search, if any."""

    session: Session
    hit: SearchHit | None = None
    cost: Cost | None = None
    """The session's total cost over its priced answers (None when none is priced)."""


@dataclass(slots=True)
class _SessionRef:
    """The session the conversation is stored in; its id arrives once the first prompt has been stored."""

    id: str | None = None
    settings: ChatSettings | None = None
    """The settings as last stored with it."""
    deleted: bool = False
    """Deleted from the browser: answers still streaming into it are not written any more."""


@dataclass(slots=True)
class _Turn:
    """One exchange and where it is stored."""

    exchange: Exchange
    ref: _SessionRef
    recorder: TurnRecorder | None = None
    stored_ids: list[int] = field(default_factory=list)
    latest: tuple[str, str] = ("", "")
    """The answer and reasoning of the last progress report (raw)."""
    finished: bool = False

    @property
    def message_ids(self) -> list[int]:
        return self.recorder.message_ids if self.recorder is not None else self.stored_ids


class ExchangeRecording:
    """The `TurnRecording` of one exchange: what the turn runner reports goes to the store's thread."""

    def __init__(self, keeper: SessionKeeper, exchange: Exchange) -> None:
        self._keeper = keeper
        self._exchange = exchange

    def checkpoint(self, text: str, reasoning: str) -> None:
        self._keeper.progress(self._exchange, text, reasoning)

    def finish(
        self,
        text: str,
        reasoning: str,
        finish_reason: str,
        figures: SpeedFigures | None,
        error: dict[str, Any] | None,
        cost: Cost | None = None,
    ) -> None:
        self._keeper.ended(self._exchange, text, reasoning, finish_reason, figures, error, cost)


class SessionKeeper:
    """Records the chat into the session store, and reads it for the session browser."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        on_failure: Callable[[SessionStoreError], None] | None = None,
    ) -> None:
        """`path`: the database (default: the data dir's); `on_failure` is called (from the store's thread) for
        the first failure only."""
        self.path = path
        self.on_failure = on_failure
        self.failure: SessionStoreError | None = None
        """The last store failure, if any."""
        self._executor: ThreadPoolExecutor | None = None
        self._store: SessionStore | None = None
        self._broken: SessionStoreError | None = None
        self._warned = False
        self._current: _SessionRef | None = None
        self._turns: dict[int, _Turn] = {}

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """The id of the session the chat is stored in (None for a new chat before its first prompt is stored)."""
        return self._current.id if self._current is not None else None

    @property
    def recording(self) -> bool:
        """True while an answer is still being recorded (its end not reported yet)."""
        return any(not turn.finished for turn in self._turns.values())

    @property
    def opened(self) -> bool:
        """True once the store has been opened (it is opened on first use)."""
        return self._store is not None

    # -- recording the chat ------------------------------------------------------------------------------------

    def prompt_sent(self, exchange: Exchange, settings: ChatSettings) -> None:
        """Store the prompt (creating the session on the first one) and the empty answer it waits for."""
        if self._current is None:
            self._current = _SessionRef()
        turn = _Turn(exchange, self._current)
        self._turns[id(exchange)] = turn
        self._submit(self._store_prompt, turn, settings)

    def progress(self, exchange: Exchange, text: str, reasoning: str) -> None:
        """Checkpoint a streaming answer (the runner reports at most every few seconds); safe from any thread."""
        turn = self._turns.get(id(exchange))
        if turn is None or turn.finished:
            return
        turn.latest = (text, reasoning)
        self._submit(self._checkpoint, turn, text, reasoning)

    def recording_for(self, exchange: Exchange) -> ExchangeRecording:
        """Where the turn runner records `exchange`'s answer (after `prompt_sent`)."""
        return ExchangeRecording(self, exchange)

    def ended(
        self,
        exchange: Exchange,
        text: str,
        reasoning: str,
        finish_reason: str,
        figures: SpeedFigures | None,
        error: dict[str, Any] | None,
        cost: Cost | None = None,
    ) -> None:
        """Store how the answer ended (complete, cancelled or failed) with its figures and cost; safe from any
        thread."""
        turn = self._turns.get(id(exchange))
        if turn is None or turn.finished:
            return
        turn.finished = True
        self._submit(self._finish, turn, strip_escapes(text), strip_escapes(reasoning), finish_reason,
                     stats_with_cost(figures, cost), error)

    def dropped(self, exchange: Exchange) -> None:
        """Delete an exchange the screen no longer shows (regenerated or edited)."""
        turn = self._turns.pop(id(exchange), None)
        if turn is not None:
            self._submit(self._drop, turn)

    def cleared(self) -> None:
        """A new chat: the next prompt starts a new session."""
        self._current = None
        self._forget_finished()

    def adopt(self, loaded: LoadedSession) -> None:
        """Continue `loaded`: the next prompts are appended to it, and its exchanges can be regenerated."""
        self._current = _SessionRef(loaded.session.id, loaded.settings)
        self._forget_finished()
        for exchange, ids in zip(loaded.exchanges, loaded.message_ids, strict=True):
            self._turns[id(exchange)] = _Turn(exchange, self._current, stored_ids=ids, finished=True)

    def _forget_finished(self) -> None:
        self._turns = {key: turn for key, turn in self._turns.items() if not turn.finished}

    # -- reading and managing sessions ---------------------------------------------------------------------

    async def load(self, session_ref: str) -> LoadedSession:
        """The session with this id (or unique id prefix), ready to show; raises `SessionStoreError`."""
        return await self._call(self._load, session_ref)

    async def browse(self, query: str = "", *, messages: bool = False) -> list[BrowseRow]:
        """Sessions newest first, titles filtered by `query`; with `messages`, also the sessions whose messages
        match (full-text), each with its first matching snippet."""
        return await self._call(self._browse, query, messages)

    async def rename(self, session_id: str, title: str) -> None:
        await self._call(lambda store: store.rename(session_id, title))

    async def delete(self, session_id: str) -> None:
        """Delete a saved session (the caller decides what happens to a chat still showing it)."""
        refs = [turn.ref for turn in self._turns.values()] + ([self._current] if self._current else [])
        doomed = [ref for ref in refs if ref.id == session_id]
        for ref in doomed:  # before the delete: a checkpoint queued meanwhile must not fail on a missing row
            ref.deleted = True
        try:
            await self._call(lambda store: store.delete(session_id))
        except BaseException:
            for ref in doomed:
                ref.deleted = False
            raise

    async def flush(self) -> None:
        """Wait until every write asked for so far is done (tests, and before reading what was written)."""
        if self._executor is not None:
            await asyncio.wrap_future(self._executor.submit(lambda: None))

    def close(self) -> None:
        """Finish answers still open (as cancelled, with what arrived), wait for the writes, close the store."""
        for turn in list(self._turns.values()):
            if not turn.finished:
                turn.finished = True
                exchange = turn.exchange
                if exchange.answered_at is not None:  # the screen finished it; the message did not arrive
                    finish_reason, error = outcome(exchange)
                    text, reasoning = exchange.answer, exchange.reasoning
                else:
                    finish_reason, error = "cancelled", None
                    text, reasoning = (strip_escapes(part) for part in turn.latest)
                self._submit(self._finish, turn, text, reasoning, finish_reason, exchange.figures, error)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- the store's thread ----------------------------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botticelli-sessions")
        return self._executor

    def _submit(self, fn: Callable[..., object], *args: Any) -> Future[None]:
        return self._pool().submit(self._guarded, fn, *args)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            return fn(self._open(), *args)

        return await asyncio.wrap_future(self._pool().submit(run))

    def _guarded(self, fn: Callable[..., object], *args: Any) -> None:
        from botticelli.sessions import SessionStoreError

        try:
            fn(self._open(), *args)
        except SessionStoreError as exc:
            self._failed(exc)
        except Exception as exc:  # a bug in the store must not take the chat down
            log.exception("session store call failed")
            self._failed(SessionStoreError(f"saving the chat failed ({type(exc).__name__}: {exc})",
                                           "please report this; the chat goes on without being saved"))

    def _failed(self, exc: SessionStoreError) -> None:
        self.failure = exc
        if not self._warned:
            self._warned = True
            if self.on_failure is not None:
                self.on_failure(exc)

    def _open(self) -> SessionStore:
        if self._store is not None:
            return self._store
        if self._broken is not None:
            raise self._broken
        from botticelli.sessions import SessionStore, SessionStoreError

        try:
            self._store = SessionStore.open(self.path)
        except SessionStoreError as exc:
            self._broken = exc
            raise
        return self._store

    def _store_prompt(self, store: SessionStore, turn: _Turn, settings: ChatSettings) -> None:
        from botticelli.sessions.recorder import TurnRecorder

        ref, exchange = turn.ref, turn.exchange
        if ref.id is None:
            session = store.create_session(
                system_prompt=settings.system_prompt or None,
                profile=exchange.profile,
                model=exchange.model,
                params=params_of(settings),
            )
            ref.id, ref.settings = session.id, settings
        elif ref.settings != settings:
            store.set_system_prompt(ref.id, settings.system_prompt or None)
            store.set_params(ref.id, params_of(settings))
            ref.settings = settings
        # The runner gates checkpoints (every CHECKPOINT_S); a second gate here would skip every other one.
        turn.recorder = TurnRecorder(store, ref.id, interval_s=0.0)
        turn.recorder.prompt(exchange.prompt, exchange.profile, exchange.model)

    def _checkpoint(self, store: SessionStore, turn: _Turn, text: str, reasoning: str) -> None:
        recorder = turn.recorder
        if recorder is None or turn.ref.deleted:
            return
        recorder.checkpoint(lambda: (strip_escapes(text), strip_escapes(reasoning) or None))
        if recorder.failed is not None:
            failure, recorder.failed = recorder.failed, None
            raise failure

    def _finish(
        self,
        store: SessionStore,
        turn: _Turn,
        text: str,
        reasoning: str,
        finish_reason: str,
        stats: Any,
        error: dict[str, Any] | None,
    ) -> None:
        recorder = turn.recorder
        if recorder is None or turn.ref.deleted:
            return
        recorder.finish(text, reasoning or None, finish_reason, stats, error)
        if recorder.failed is not None:
            failure, recorder.failed = recorder.failed, None
            raise failure

    def _drop(self, store: SessionStore, turn: _Turn) -> None:
        ref = turn.ref
        if ref.id is None or ref.deleted or not turn.message_ids:
            return
        store.delete_messages(ref.id, turn.message_ids)
        if store.message_count(ref.id) == 0:  # an empty screen has no session; the next prompt titles a new one
            store.delete(ref.id)
            ref.id = None

    def _load(self, store: SessionStore, session_ref: str) -> LoadedSession:
        session_id = store.resolve(session_ref)
        return conversation(store.get_session(session_id), store.messages(session_id))

    def _browse(self, store: SessionStore, query: str, messages: bool) -> list[BrowseRow]:
        query = query.strip()
        rows = [BrowseRow(s) for s in store.list_sessions(limit=BROWSE_LIMIT, query=query or None)]
        if messages and query:
            rows = self._with_hits(store, query, rows)
        priced = store.answer_stats([row.session.id for row in rows])
        for row in rows:
            row.cost = total_cost(priced.get(row.session.id, ()))
        return rows

    @staticmethod
    def _with_hits(store: SessionStore, query: str, rows: list[BrowseRow]) -> list[BrowseRow]:
        by_id = {row.session.id: row for row in rows}
        for hit in store.search(query, limit=SEARCH_LIMIT):
            row = by_id.get(hit.session_id)
            if row is None:
                row = by_id[hit.session_id] = BrowseRow(store.get_session(hit.session_id))
                rows.append(row)
            if row.hit is None and hit.role != "title":
                row.hit = hit
        return rows


def params_of(settings: ChatSettings) -> dict[str, Any]:
    """The stored parameters of `settings`."""
    return settings.params()


def settings_of(session: Session) -> ChatSettings:
    """The chat settings a stored session carries (anything unusable falls back to the default)."""
    params = session.params or {}
    temperature = params.get("temperature")
    max_tokens = params.get("max_tokens")
    return ChatSettings(
        system_prompt=session.system_prompt or "",
        temperature=float(temperature) if isinstance(temperature, int | float) and 0 <= temperature <= 2 else None,
        max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens >= 1 else None,
    )


def outcome(exchange: Exchange) -> tuple[str, dict[str, Any] | None]:
    """How an answer ended, for the store: (finish_reason, the error object of docs/ARCHITECTURE.md or None)."""
    if exchange.error is not None:
        return "error", exchange.error.to_dict()
    if exchange.error_text:
        kind = exchange.error_kind or "internal"
        return "error", {"kind": kind, "status": None, "code": None, "message": exchange.error_text,
                         "retry_after_s": None}
    if exchange.cancelled:
        return "cancelled", None
    return exchange.finish_reason or "stop", None


def conversation(session: Session, stored: list[Message]) -> LoadedSession:
    """The exchanges and transcript of a stored session: each prompt paired with the answer after it."""
    from botticelli.sessions.models import parse_timestamp

    exchanges: list[Exchange] = []
    ids: list[list[int]] = []
    shown: list[TranscriptEntry] = []
    prompt: Message | None = None
    for message in stored:
        if message.role == "user":
            if prompt is not None:  # a prompt whose answer was never stored
                exchanges.append(Exchange(prompt.content, session.profile or "", session.model or ""))
                ids.append([prompt.id])
            prompt = message
            shown.append(TranscriptEntry("user", strip_escapes(message.content)))
            continue
        if message.role != "assistant":
            shown.append(TranscriptEntry(message.role, strip_escapes(message.content)))
            continue
        exchange = Exchange(
            prompt.content if prompt is not None else "",
            message.profile or session.profile or "",
            message.model or session.model or "",
            answer=strip_escapes(message.content),
            reasoning=strip_escapes(message.reasoning or ""),
            figures=SpeedFigures.from_dict(message.stats) if message.stats else None,
            finish_reason=message.finish_reason,
            cancelled=message.finish_reason == "cancelled",
        )
        try:
            exchange.answered_at = parse_timestamp(message.created_at)
            if prompt is not None:
                exchange.created_at = parse_timestamp(prompt.created_at)
        except ValueError:
            pass
        shown_error = _restore_error(exchange, message.error) if message.error else None
        footer: str | None = answer_footer(exchange) if exchange.profile else None
        if shown_error is not None and not exchange.answer:
            footer = None
        elif message.interrupted:
            footer = f"{footer or 'answer'} · interrupted (the app stopped before it finished)"
        shown.append(
            TranscriptEntry(
                "assistant",
                exchange.answer,
                title=exchange.label if exchange.profile else None,
                footer=footer,
                reasoning=exchange.reasoning or None,
                error=shown_error,
                cancelled=exchange.cancelled,
            )
        )
        if prompt is not None:  # an answer without its prompt is shown, but never sent back
            exchanges.append(exchange)
            ids.append([prompt.id, message.id])
        prompt = None
    if prompt is not None:
        exchanges.append(Exchange(prompt.content, session.profile or "", session.model or ""))
        ids.append([prompt.id])
    return LoadedSession(session, exchanges, shown, settings_of(session), ids)


def _restore_error(exchange: Exchange, data: dict[str, Any]) -> str:
    """Set the exchange's error from its stored object; returns the text to show, as it was shown live."""
    kind = str(data.get("kind") or "internal")
    exchange.error_kind = kind
    if kind in ERROR_KINDS:
        error: ProviderError = error_from_dict(data, provider=exchange.profile or None)
        exchange.error = error
        exchange.error_text = error_text(error)
    else:
        exchange.error_text = strip_escapes(str(data.get("message") or kind))
    return exchange.error_text


def answer_footer(exchange: Exchange) -> str:
    """`demo·demo-fast · TTFT 210ms · 840 tok/s · 128 tok · server 1,010 tok/s · …`, and a cut answer says so."""
    summary = summary_line(exchange.figures, exchange.finish_reason)
    return f"{exchange.label} · {summary}" if summary else exchange.label

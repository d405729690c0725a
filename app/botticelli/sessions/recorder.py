"""Recording one turn of a conversation so nothing is lost: the prompt when sent, the answer as it grows.

Used by `ask --session` and the TUI: the user message is stored at once, the assistant answer is checkpointed
every `interval_s` while it streams and finished (stop, cancelled or error) at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botticelli.sessions.errors import SessionStoreError
from botticelli.sessions.store import SessionStore


class TurnRecorder:
    """Stores one prompt and its answer in a session."""

    def __init__(
        self,
        store: SessionStore,
        session_id: str,
        *,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.interval_s = interval_s
        self._clock = clock
        self._message_id: int | None = None
        self.message_ids: list[int] = []
        """The ids stored for this turn (the prompt, then the answer), for callers that drop the turn later."""
        self._last_checkpoint = 0.0
        self.failed: SessionStoreError | None = None  # a store failure never stops the answer

    def prompt(self, text: str, profile: str, model: str) -> None:
        """Store the user's message, then the (empty) answer it is waiting for."""
        self.message_ids = [self.store.add_message(self.session_id, "user", text)]
        self._message_id = self.store.begin_assistant(self.session_id, profile, model)
        self.message_ids.append(self._message_id)
        self._last_checkpoint = self._clock()

    def checkpoint(self, current: Callable[[], tuple[str, str | None]]) -> None:
        """Save the partial answer if `interval_s` has passed; `current()` is called only then."""
        if self._message_id is None or self._clock() - self._last_checkpoint < self.interval_s:
            return
        self._last_checkpoint = self._clock()
        text, reasoning = current()
        try:
            self.store.checkpoint(self._message_id, text, reasoning or None)
        except SessionStoreError as exc:
            self.failed = exc

    def finish(self, text: str, reasoning: str | None, finish_reason: str | None, stats: Any, error: Any) -> None:
        if self._message_id is None:
            return
        try:
            self.store.finish_message(
                self._message_id, text, reasoning or None, finish_reason or ("error" if error else "stop"),
                stats=stats, error=error,
            )
        except SessionStoreError as exc:
            self.failed = exc
        self._message_id = None

"""Saved conversations: an SQLite store with full-text search, and lossless export/import.

Never imports Textual: the TUI and the CLI both use `SessionStore`.
"""

from __future__ import annotations

from botticelli.sessions.errors import (
    AmbiguousSessionError,
    MessageNotFoundError,
    SessionImportError,
    SessionNotFoundError,
    SessionStoreError,
)
from botticelli.sessions.models import (
    BenchRun,
    Message,
    NewMessage,
    NewSession,
    SearchHit,
    Session,
    new_race_id,
    title_from_prompt,
    utc_now,
)
from botticelli.sessions.store import SessionStore

__all__ = [
    "AmbiguousSessionError",
    "BenchRun",
    "Message",
    "MessageNotFoundError",
    "NewMessage",
    "NewSession",
    "SearchHit",
    "Session",
    "SessionImportError",
    "SessionNotFoundError",
    "SessionStore",
    "SessionStoreError",
    "new_race_id",
    "title_from_prompt",
    "utc_now",
]

"""The session store: conversations, their messages and the bench history in one SQLite file.

Every write is its own short `BEGIN IMMEDIATE` transaction, so several processes can share the file (WAL,
5 s busy timeout) without losing a turn; a streaming answer is checkpointed with one cheap UPDATE so a crash
keeps the partial text. Methods are safe to call from any one thread at a time (an internal lock serialises
them), so the TUI may use the store from a worker thread.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botticelli.sessions import schema
from botticelli.sessions.errors import (
    AmbiguousSessionError,
    MessageNotFoundError,
    SessionNotFoundError,
)
from botticelli.sessions.models import (
    ROLES,
    BenchRun,
    Message,
    NewMessage,
    NewSession,
    SearchHit,
    Session,
    new_session_id,
    title_from_prompt,
    utc_now,
)
from botticelli.sessions.search import ParsedQuery, parse_query, snippet

MESSAGE_FIELDS = frozenset({"reasoning", "profile", "model", "finish_reason", "stats", "error", "created_at"})
_SESSION_COLUMNS = """
    s.id, s.title, s.created_at, s.updated_at, s.system_prompt, s.profile, s.model, s.params,
    (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS message_count
"""
_MESSAGE_COLUMNS = (
    "id, session_id, seq, role, content, created_at, reasoning, profile, model, finish_reason, stats, error"
)
_HEX = re.compile(r"[0-9a-f]+")
# Orders sessions active within the same second (timestamps have whole seconds); a write transaction
# makes it strictly increasing across processes.
_NEXT_ACTIVITY = "(SELECT coalesce(max(activity), 0) + 1 FROM sessions)"


class SessionStore:
    """Open with `SessionStore.open()`; close with `close()` or use it as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        conn.row_factory = sqlite3.Row
        conn.create_function("bt_fold", 1, _fold, deterministic=True)

    @classmethod
    def open(cls, path: Path | str | None = None) -> SessionStore:
        """Open the database at `path` (default: `paths.sessions_db()`), creating and migrating it as needed.

        Raises `SessionStoreError` (naming the file, leaving it untouched) for a file that is not a sessions
        database, is damaged, or was written by a newer Botticelli.
        """
        from botticelli import paths

        target = Path(path) if path is not None else paths.sessions_db()
        return cls(schema.connect(target), target)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # sessions

    def create_session(
        self,
        title: str | None = None,
        system_prompt: str | None = None,
        profile: str | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Session:
        """A new, empty session. Without a title, the first user message names it."""
        now = utc_now()
        with self._write() as conn:
            session_id = self._fresh_id(conn)
            conn.execute(
                "INSERT INTO sessions"
                " (id, title, created_at, updated_at, system_prompt, profile, model, params, activity)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, {_NEXT_ACTIVITY})",
                (session_id, _clean_title(title), now, now, system_prompt, profile, model, _dump_params(params)),
            )
        return self.get_session(session_id)

    def get_session(self, session_id: str) -> Session:
        """The session with exactly this id; raises `SessionNotFoundError`."""
        with self._read() as conn:
            row = conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)).fetchone()
        if row is None:
            raise SessionNotFoundError(session_id)
        return _session(row)

    def resolve(self, prefix: str) -> str:
        """The full id of the one session whose id starts with `prefix` (as git does with hashes).

        Raises `SessionNotFoundError` or `AmbiguousSessionError`.
        """
        key = prefix.strip().lower()
        if not _HEX.fullmatch(key):
            raise SessionNotFoundError(prefix)
        with self._read() as conn:
            # ids are lowercase hex, so every id starting with `key` sorts between key and key + "g"
            rows = conn.execute(
                "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6", (key, key + "g")
            ).fetchall()
        ids = [row["id"] for row in rows]
        if key in ids:
            return key
        if not ids:
            raise SessionNotFoundError(prefix)
        if len(ids) > 1:
            raise AmbiguousSessionError(prefix, ids)
        return ids[0]

    def list_sessions(self, limit: int | None = None, query: str | None = None) -> list[Session]:
        """Sessions, most recently active first, with message counts; `query` filters titles (any case)."""
        folded = query.casefold().strip() if query else None
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions s"
                " WHERE ?1 IS NULL OR instr(bt_fold(coalesce(s.title, '')), ?1) > 0"
                " ORDER BY s.updated_at DESC, s.activity DESC LIMIT ?2",
                (folded or None, _limit(limit)),
            ).fetchall()
        return [_session(row) for row in rows]

    def rename(self, session_id: str, title: str) -> None:
        cleaned = _clean_title(title)
        if cleaned is None:
            raise ValueError("a session title cannot be empty")
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (cleaned, session_id))

    def set_system_prompt(self, session_id: str, system_prompt: str | None) -> None:
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute("UPDATE sessions SET system_prompt = ? WHERE id = ?", (system_prompt, session_id))

    def set_params(self, session_id: str, params: Mapping[str, Any] | None) -> None:
        """Store the conversation's sampling parameters (None or an empty dict: the provider's defaults)."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute("UPDATE sessions SET params = ? WHERE id = ?", (_dump_params(params), session_id))

    def delete(self, session_id: str) -> None:
        """Delete a session and all its messages; raises `SessionNotFoundError`."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def import_session(self, new: NewSession) -> Session:
        """Write a whole session (from an import) under a new id, in one transaction: all of it or nothing."""
        updated = max([new.created_at, *(m.created_at for m in new.messages)])
        last = next((m for m in reversed(new.messages) if m.role == "assistant" and m.profile), None)
        with self._write() as conn:
            session_id = self._fresh_id(conn)
            conn.execute(
                "INSERT INTO sessions"
                " (id, title, created_at, updated_at, system_prompt, profile, model, params, activity)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, {_NEXT_ACTIVITY})",
                (
                    session_id,
                    new.title,
                    new.created_at,
                    updated,
                    new.system_prompt,
                    last.profile if last else None,
                    last.model if last else None,
                    _dump_params(new.params),
                ),
            )
            conn.executemany(
                f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(session_id, seq, *_message_values(m)) for seq, m in enumerate(new.messages, start=1)],
            )
        return self.get_session(session_id)

    # messages

    def add_message(self, session_id: str, role: str, content: str, **fields: Any) -> int:
        """Store one whole message now (e.g. the user's prompt when it is sent); returns its id.

        `fields`: reasoning, profile, model, finish_reason, stats (dict or an object with `to_dict()`),
        error (the docs/ARCHITECTURE.md error dict, or a `ProviderError`), created_at.
        """
        unknown = set(fields) - MESSAGE_FIELDS
        if unknown:
            raise TypeError(f"unknown message field(s): {', '.join(sorted(unknown))}")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        message = NewMessage(role=role, content=content, created_at=fields.pop("created_at", None) or utc_now())
        for name, value in fields.items():
            setattr(message, name, value)
        with self._write() as conn:
            return self._append(conn, session_id, message)

    def begin_assistant(self, session_id: str, profile: str | None, model: str | None) -> int:
        """Create the row an answer streams into; fill it with `checkpoint` and close it with `finish_message`.

        Until finished its `finish_reason` stays None, which reads as "interrupted" if the process dies.
        """
        return self.add_message(session_id, "assistant", "", profile=profile, model=model)

    def checkpoint(self, message_id: int, content: str, reasoning: str | None = None) -> None:
        """Save the answer so far: one UPDATE, committed at once. Ignored once the message is finished."""
        with self._lock:
            try:
                cursor = self._conn.execute(
                    "UPDATE messages SET content = ?, reasoning = coalesce(?, reasoning)"
                    " WHERE id = ? AND finish_reason IS NULL",
                    (content, reasoning, message_id),
                )
                if (
                    cursor.rowcount == 0
                    and self._conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is None
                ):
                    raise MessageNotFoundError(message_id)
            except sqlite3.DatabaseError as exc:
                raise schema.database_error(self.path, exc) from exc

    def finish_message(
        self,
        message_id: int,
        content: str,
        reasoning: str | None = None,
        finish_reason: str = "stop",
        stats: Any = None,
        error: Any = None,
    ) -> None:
        """Write the final answer with how it ended (`stop`, `length`, `cancelled`, `error`, ...), its speed
        figures (the docs/ARCHITECTURE.md `stats` dict or a `SpeedFigures`) and error (dict or `ProviderError`)."""
        if not finish_reason:
            raise ValueError("finish_reason must be a non-empty string such as 'stop' or 'cancelled'")
        with self._write() as conn:
            row = conn.execute("SELECT session_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise MessageNotFoundError(message_id)
            conn.execute(
                "UPDATE messages SET content = ?, reasoning = coalesce(?, reasoning), finish_reason = ?,"
                " stats = ?, error = ? WHERE id = ?",
                (content, reasoning, finish_reason, _dump(stats), _dump(error), message_id),
            )
            conn.execute(
                f"UPDATE sessions SET updated_at = ?, activity = {_NEXT_ACTIVITY} WHERE id = ?",
                (utc_now(), row["session_id"]),
            )

    def delete_messages(self, session_id: str, message_ids: list[int]) -> int:
        """Delete these messages of a session (a dropped exchange); returns how many were deleted."""
        if not message_ids:
            return 0
        with self._write() as conn:
            self._require_session(conn, session_id)
            marks = ", ".join("?" for _ in message_ids)
            cursor = conn.execute(
                f"DELETE FROM messages WHERE session_id = ? AND id IN ({marks})", (session_id, *message_ids)
            )
            conn.execute(
                f"UPDATE sessions SET updated_at = ?, activity = {_NEXT_ACTIVITY} WHERE id = ?", (utc_now(), session_id)
            )
            return cursor.rowcount

    def get_message(self, message_id: int) -> Message:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise MessageNotFoundError(message_id)
        return _message(row)

    def messages(self, session_id: str, offset: int = 0, limit: int | None = None) -> list[Message]:
        """Messages of a session in order, a window at a time for long sessions ([] for an unknown id)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                (session_id, _limit(limit), max(0, offset)),
            ).fetchall()
        return [_message(row) for row in rows]

    def answer_stats(self, session_ids: Sequence[str]) -> dict[str, list[Any]]:
        """The stored `stats` of the priced answers (`cost_usd` present) of each of these sessions, by id; a
        stats value that is not valid JSON is skipped (the caller validates the rest)."""
        found: dict[str, list[Any]] = {}
        ids = list(dict.fromkeys(session_ids))
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = conn.execute(
                    "SELECT session_id, stats FROM messages WHERE role = 'assistant' AND stats LIKE '%cost_usd%'"
                    f" AND session_id IN ({', '.join('?' * len(chunk))})", chunk,
                ).fetchall()
                for row in rows:
                    try:
                        found.setdefault(row["session_id"], []).append(json.loads(row["stats"]))
                    except (TypeError, ValueError):
                        continue
        return found

    def message_count(self, session_id: str) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0])

    # search

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Sessions whose title matches, then messages, newest first; every term must appear (any case).

        Any input is safe: it is never interpreted as FTS5 syntax. An empty query gives [].
        """
        parsed = parse_query(query)
        if not parsed.terms or limit <= 0:
            return []
        with self._read() as conn:
            hits = self._search_titles(conn, parsed, limit)
            hits += self._search_messages(conn, parsed, limit - len(hits))
        return hits

    def _search_titles(self, conn: sqlite3.Connection, parsed: ParsedQuery, limit: int) -> list[SearchHit]:
        expression = parsed.fts_expression()
        where, params = _short_filters("s.title", parsed)
        if expression:
            sql = (
                "SELECT s.id, s.title FROM sessions_fts JOIN sessions s ON s.rid = sessions_fts.rowid"
                f" WHERE sessions_fts MATCH ? {where} ORDER BY s.updated_at DESC LIMIT ?"
            )
            params = [expression, *params]
        else:
            sql = f"SELECT s.id, s.title FROM sessions s WHERE 1 {where} ORDER BY s.updated_at DESC LIMIT ?"
        hits = []
        for row in conn.execute(sql, [*params, limit]):
            text, spans = snippet(row["title"] or "", parsed.terms)
            hits.append(SearchHit(row["id"], row["title"], "title", text, spans=spans))
        return hits

    def _search_messages(self, conn: sqlite3.Connection, parsed: ParsedQuery, limit: int) -> list[SearchHit]:
        if limit <= 0:
            return []
        expression = parsed.fts_expression()
        where, params = _short_filters("m.content", parsed)
        columns = "m.id, m.session_id, m.seq, m.role, m.content, s.title"
        if expression:
            sql = (
                f"SELECT {columns} FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                " JOIN sessions s ON s.id = m.session_id"
                f" WHERE messages_fts MATCH ? {where} ORDER BY messages_fts.rowid DESC LIMIT ?"
            )
            params = [expression, *params]
        else:
            sql = (
                f"SELECT {columns} FROM messages m JOIN sessions s ON s.id = m.session_id"
                f" WHERE 1 {where} ORDER BY m.id DESC LIMIT ?"
            )
        hits = []
        for row in conn.execute(sql, [*params, limit]):
            text, spans = snippet(row["content"], parsed.terms)
            hits.append(SearchHit(row["session_id"], row["title"], row["role"], text, row["id"], row["seq"], spans))
        return hits

    # bench history

    def add_bench_run(
        self,
        race_id: str,
        prompt: str,
        target: str,
        run: int,
        stats: Any = None,
        error: Any = None,
        created_at: str | None = None,
    ) -> int:
        """Record one run of a bench race (`target` as `profile:model`); returns its id."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO bench_runs (race_id, created_at, prompt, target, run, stats, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (race_id, created_at or utc_now(), prompt, target, run, _dump(stats), _dump(error)),
            )
            return int(cursor.lastrowid or 0)

    def list_bench_runs(
        self, race_id: str | None = None, target: str | None = None, limit: int | None = None
    ) -> list[BenchRun]:
        """Bench runs, newest first, optionally of one race and/or one target."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, race_id, created_at, prompt, target, run, stats, error FROM bench_runs"
                " WHERE (?1 IS NULL OR race_id = ?1) AND (?2 IS NULL OR target = ?2) ORDER BY id DESC LIMIT ?3",
                (race_id, target, _limit(limit)),
            ).fetchall()
        return [
            BenchRun(
                id=row["id"],
                race_id=row["race_id"],
                created_at=row["created_at"],
                prompt=row["prompt"],
                target=row["target"],
                run=row["run"],
                stats=_load(row["stats"]),
                error=_load(row["error"]),
            )
            for row in rows
        ]

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only `SELECT` (the speed history's aggregate queries); store errors translated."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise ValueError("select() runs SELECT statements only")
        with self._read() as conn:
            return conn.execute(sql, tuple(params)).fetchall()

    # plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                raise schema.database_error(self.path, exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so concurrent writers queue instead of failing midway."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise schema.database_error(self.path, exc) from exc

    def _append(self, conn: sqlite3.Connection, session_id: str, message: NewMessage) -> int:
        title = self._require_session(conn, session_id)
        seq = conn.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
        cursor = conn.execute(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, seq, *_message_values(message)),
        )
        conn.execute(
            "UPDATE sessions SET updated_at = ?, profile = coalesce(?, profile), model = coalesce(?, model),"
            f" activity = {_NEXT_ACTIVITY} WHERE id = ?",
            (utc_now(), message.profile, message.model, session_id),
        )
        if title is None and message.role == "user":
            conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title_from_prompt(message.content), session_id))
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _require_session(conn: sqlite3.Connection, session_id: str) -> str | None:
        """The session's title; raises `SessionNotFoundError`."""
        row = conn.execute("SELECT title FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise SessionNotFoundError(session_id)
        return row["title"]

    @staticmethod
    def _fresh_id(conn: sqlite3.Connection) -> str:
        while True:
            candidate = new_session_id()
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, limit)


def _clean_title(title: str | None) -> str | None:
    cleaned = " ".join(title.split()) if title else ""
    return cleaned or None


def _short_filters(column: str, parsed: ParsedQuery) -> tuple[str, list[str]]:
    folded = parsed.folded_short()
    where = "".join(f" AND instr(bt_fold(coalesce({column}, '')), ?) > 0" for _ in folded)
    return where, list(folded)


def _message_values(message: NewMessage) -> tuple[Any, ...]:
    """Values for the columns after id, session_id and seq, in `_MESSAGE_COLUMNS` order."""
    return (
        message.role,
        message.content,
        message.created_at,
        message.reasoning,
        message.profile,
        message.model,
        message.finish_reason,
        _dump(message.stats),
        _dump(message.error),
    )


def _dump(value: Any) -> str | None:
    """JSON text for a stats or error object (dict, dataclass, or anything with `to_dict()`)."""
    if value is None:
        return None
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a dict, got {type(value).__name__}")
    return json.dumps(_finite(dict(value)), ensure_ascii=False, allow_nan=False)


def _finite(value: Any) -> Any:
    """Non-finite floats become null: JSON has no NaN, and the export must stay valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dump_params(params: Mapping[str, Any] | None) -> str | None:
    kept = {k: v for k, v in (params or {}).items() if v is not None}
    return _dump(kept) if kept else None


def _load(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def _session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        title=row["title"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        system_prompt=row["system_prompt"],
        profile=row["profile"],
        model=row["model"],
        message_count=row["message_count"],
        params=_load(row["params"]),
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        session_id=row["session_id"],
        seq=row["seq"],
        role=row["role"],
        content=row["content"],
        created_at=row["created_at"],
        reasoning=row["reasoning"],
        profile=row["profile"],
        model=row["model"],
        finish_reason=row["finish_reason"],
        stats=_load(row["stats"]),
        error=_load(row["error"]),
    )

"""Opening the sessions database safely, and its schema: versions by `PRAGMA user_version`, forward migrations.

A file that is not ours (not SQLite, another application's database, a damaged file) or that a newer Botticelli
wrote is refused before anything is written to it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from botticelli.sessions.errors import SessionStoreError

APPLICATION_ID = 0x42544943  # "BTIC" in the database header marks the file as ours
BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"
REQUIRED_TABLES = frozenset({"sessions", "messages", "messages_fts", "sessions_fts", "bench_runs"})
MOVE_AWAY = "move it away or set BOTTICELLI_DATA_DIR to another folder; botticelli will start a new one"

V1 = """
CREATE TABLE sessions (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    system_prompt TEXT,
    profile TEXT,
    model TEXT
);
CREATE INDEX sessions_updated ON sessions (updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT,
    profile TEXT,
    model TEXT,
    finish_reason TEXT,
    stats TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (session_id, seq)
);
"""

# v2: full-text search (trigram: finds words inside code, any script, CJK), the bench history, and an
# activity counter that orders sessions active within the same second.
V2 = """
ALTER TABLE sessions ADD COLUMN activity INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET activity = rid;
CREATE INDEX sessions_activity ON sessions (activity);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content='messages', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE sessions_fts USING fts5 (
    title, content='sessions', content_rowid='rid', tokenize='trigram'
);
CREATE TRIGGER sessions_fts_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO sessions_fts (rowid, title) VALUES (new.rid, new.title);
END;
CREATE TRIGGER sessions_fts_delete AFTER DELETE ON sessions BEGIN
    INSERT INTO sessions_fts (sessions_fts, rowid, title) VALUES ('delete', old.rid, old.title);
END;
CREATE TRIGGER sessions_fts_update AFTER UPDATE OF title ON sessions
WHEN old.title IS NOT new.title BEGIN
    INSERT INTO sessions_fts (sessions_fts, rowid, title) VALUES ('delete', old.rid, old.title);
    INSERT INTO sessions_fts (rowid, title) VALUES (new.rid, new.title);
END;
INSERT INTO sessions_fts (sessions_fts) VALUES ('rebuild');

CREATE TABLE bench_runs (
    id INTEGER PRIMARY KEY,
    race_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    prompt TEXT NOT NULL,
    target TEXT NOT NULL,
    run INTEGER NOT NULL,
    stats TEXT,
    error TEXT
);
CREATE INDEX bench_runs_race ON bench_runs (race_id);
"""

# v3: the conversation's sampling parameters (JSON: temperature, max_tokens), restored with the session.
V3 = """
ALTER TABLE sessions ADD COLUMN params TEXT;
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3)  # MIGRATIONS[n - 1] takes a database from version n - 1 to n
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if missing) and migrate the database at `path`, refusing files that are not ours."""
    _check_file(path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_contents(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
        _check_tables(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise database_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Apply the missing migrations, each in its own write transaction (safe with concurrent openers)."""
    while (version := user_version(conn)) < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)  # another process may have migrated while we waited for the lock
            if version < target:
                if version == 0:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for statement in statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (triggers included) for `execute`, which, unlike
    `executescript`, keeps the surrounding transaction."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:60]}")


def database_error(path: Path, exc: sqlite3.DatabaseError) -> SessionStoreError:
    """Translate an sqlite3 failure into a message naming the file and a fix."""
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        error = SessionStoreError(f"could not save to {path} ({text}); nothing was written", "please report this bug")
        error.exit_code = 1
        return error
    if "locked" in text or "busy" in text:
        return SessionStoreError(
            f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000}s",
            "another botticelli is writing to it; try again",
        )
    if "malformed" not in text and ("disk" in text or "readonly" in text):
        return SessionStoreError(f"cannot write {path} ({text})", "check the free space and the permissions")
    return SessionStoreError(f"{path} is damaged or not a sessions database ({text})", MOVE_AWAY)


def _check_file(path: Path) -> None:
    try:
        _check_or_create_file(path)
    except OSError as exc:
        raise SessionStoreError(
            f"cannot open {path} ({exc.strerror or exc})",
            "check the folder's permissions, or set BOTTICELLI_DATA_DIR to another folder",
        ) from exc


def _check_or_create_file(path: Path) -> None:
    if path.is_dir():
        raise SessionStoreError(f"{path} is a folder, not a sessions database", MOVE_AWAY)
    if path.exists():
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        if header and header != SQLITE_HEADER:
            raise SessionStoreError(f"{path} is not a sessions database (not an SQLite file)", MOVE_AWAY)
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Conversations are private: the file is created readable by its owner only.
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _check_contents(conn: sqlite3.Connection, path: Path) -> None:
    """Read-only checks, before anything could write to the file."""
    application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = user_version(conn)
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if version == 0 and application_id == 0 and tables == 0:
        return  # a new, empty database
    if application_id != APPLICATION_ID:
        raise SessionStoreError(
            f"{path} is another application's SQLite database, not a botticelli sessions database", MOVE_AWAY
        )
    if version > SCHEMA_VERSION:
        raise SessionStoreError(
            f"{path} was written by a newer botticelli (schema version {version}; this one knows up to "
            f"{SCHEMA_VERSION}); it was left unchanged",
            "upgrade botticelli, or set BOTTICELLI_DATA_DIR to another folder",
        )


def _check_tables(conn: sqlite3.Connection, path: Path) -> None:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = REQUIRED_TABLES - names
    if missing:
        raise SessionStoreError(f"{path} is damaged: table {', '.join(sorted(missing))} is missing", MOVE_AWAY)

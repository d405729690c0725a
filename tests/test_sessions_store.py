"""The session store: sessions, messages, streaming checkpoints, search, bench runs, migrations, bad files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from botticelli import paths
from botticelli.providers.errors import RateLimitError
from botticelli.sessions import (
    AmbiguousSessionError,
    SessionNotFoundError,
    SessionStore,
    SessionStoreError,
    title_from_prompt,
)
from botticelli.sessions.schema import APPLICATION_ID, SCHEMA_VERSION
from helpers_sessions import STATS


@pytest.fixture
def store() -> SessionStore:
    with SessionStore.open() as opened:
        yield opened


def test_opens_in_the_data_dir_with_wal_and_the_current_schema(store: SessionStore) -> None:
    assert store.path == paths.sessions_db()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert store.path.stat().st_mode & 0o077 == 0


def test_a_conversation_is_stored_turn_by_turn(store: SessionStore) -> None:
    session = store.create_session(system_prompt="Be brief.", profile="groq", model="llama-3.1-8b-instant")
    assert len(session.id) == 12 and session.title is None and session.message_count == 0
    assert session.created_at.endswith("Z") and len(session.created_at) == 20

    user_id = store.add_message(session.id, "user", "What is WAL mode?\nExplain briefly.")
    answer_id = store.begin_assistant(session.id, "groq", "llama-3.1-8b-instant")
    store.checkpoint(answer_id, "Write-ahead")
    assert store.get_message(answer_id).interrupted
    store.checkpoint(answer_id, "Write-ahead log", reasoning="thinking")
    store.finish_message(answer_id, "Write-ahead logging.", None, "stop", STATS, None)

    user, answer = store.messages(session.id)
    assert (user.id, user.seq, user.role, user.content) == (user_id, 1, "user", "What is WAL mode?\nExplain briefly.")
    assert (answer.seq, answer.content, answer.reasoning) == (2, "Write-ahead logging.", "thinking")
    assert (answer.finish_reason, answer.status, answer.interrupted) == ("stop", "stop", False)
    assert answer.stats == STATS and answer.error is None
    assert (answer.profile, answer.model) == ("groq", "llama-3.1-8b-instant")

    again = store.get_session(session.id)
    assert again.title == "What is WAL mode?"  # named after the first prompt
    assert again.message_count == store.message_count(session.id) == 2
    assert (again.profile, again.model, again.system_prompt) == ("groq", "llama-3.1-8b-instant", "Be brief.")


def test_a_checkpoint_after_finishing_changes_nothing(store: SessionStore) -> None:
    session = store.create_session()
    answer_id = store.begin_assistant(session.id, "demo", "sim")
    store.finish_message(answer_id, "final", None, "cancelled", {"ttft_s": 0.5}, None)
    store.checkpoint(answer_id, "late")
    assert store.get_message(answer_id).content == "final"
    assert store.get_message(answer_id).status == "cancelled"


def test_errors_and_speed_figures_objects_are_stored_as_their_dicts(store: SessionStore) -> None:
    from botticelli.stats import SpeedFigures

    session = store.create_session()
    answer_id = store.begin_assistant(session.id, "groq", "m")
    error = RateLimitError(
        "Rate limit reached", provider="groq", status=429, code="rate_limit_exceeded", retry_after_s=2.0
    )
    store.finish_message(answer_id, "", None, "error", SpeedFigures(ttft_s=float("nan")), error)
    message = store.get_message(answer_id)
    assert message.error == error.to_dict()
    assert message.stats is not None and message.stats["ttft_s"] is None  # NaN is not JSON


def test_add_message_checks_role_fields_and_session(store: SessionStore) -> None:
    session = store.create_session()
    with pytest.raises(ValueError, match="role"):
        store.add_message(session.id, "robot", "hi")
    with pytest.raises(TypeError, match="colour"):
        store.add_message(session.id, "user", "hi", colour="red")
    with pytest.raises(SessionNotFoundError):
        store.add_message("000000000000", "user", "hi")
    assert store.message_count(session.id) == 0


def test_messages_load_in_windows(store: SessionStore) -> None:
    session = store.create_session(title="long")
    for i in range(10):
        store.add_message(session.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert [m.content for m in store.messages(session.id, offset=7)] == ["m7", "m8", "m9"]
    assert [m.content for m in store.messages(session.id, offset=2, limit=3)] == ["m2", "m3", "m4"]
    assert store.messages("nope") == []


def test_list_is_newest_first_with_counts_and_filters_titles(store: SessionStore) -> None:
    first = store.create_session(title="Grüße aus Berlin")
    second = store.create_session(title="Rust lifetimes")
    store.add_message(first.id, "user", "hallo")
    listed = store.list_sessions()
    assert [s.id for s in listed] == [first.id, second.id]  # the latest activity wins, even within a second
    assert [s.message_count for s in listed] == [1, 0]
    assert [s.id for s in store.list_sessions(limit=1)] == [first.id]
    assert [s.id for s in store.list_sessions(query="GRÜSSE")] == [first.id]
    assert [s.id for s in store.list_sessions(query="lifeTIMES")] == [second.id]
    assert store.list_sessions(query="%") == []
    assert listed[0].to_dict() == {
        "id": first.id,
        "title": "Grüße aus Berlin",
        "created_at": first.created_at,
        "updated_at": listed[0].updated_at,
        "profile": None,
        "model": None,
        "messages": 1,
    }


def test_rename_and_delete(store: SessionStore) -> None:
    session = store.create_session(title="old")
    store.add_message(session.id, "user", "keep me searchable")
    store.rename(session.id, "  new   title ")
    assert store.get_session(session.id).title == "new title"
    with pytest.raises(ValueError):
        store.rename(session.id, "   ")
    store.delete(session.id)
    with pytest.raises(SessionNotFoundError):
        store.get_session(session.id)
    assert store.search("searchable") == [] and store.search("title") == []
    with pytest.raises(SessionNotFoundError):
        store.delete(session.id)


def test_ids_resolve_from_unique_prefixes(store: SessionStore) -> None:
    ids = [store.create_session().id for _ in range(40)]
    for session_id in ids[:5]:
        assert store.resolve(session_id) == session_id
        assert store.resolve(session_id[:10].upper()) == session_id
    by_first = {}
    for session_id in ids:
        by_first.setdefault(session_id[0], []).append(session_id)
    shared = next(group for group in by_first.values() if len(group) > 1)
    with pytest.raises(AmbiguousSessionError):
        store.resolve(shared[0][0])
    for bad in ("zzz", "", "ab%", "' OR 1=1 --"):
        with pytest.raises(SessionNotFoundError) as info:
            store.resolve(bad)
        assert info.value.one_line() == (
            f"error: sessions: no session matches '{bad}' (list them with botticelli sessions list)"
        )
        assert info.value.exit_code == 2


def test_title_from_prompt() -> None:
    assert title_from_prompt("\n\n  Fix   this bug  \nmore") == "Fix this bug"
    assert title_from_prompt("   \n ") is None
    long = "Please explain the difference between processes and threads in modern operating systems"
    title = title_from_prompt(long)
    assert title is not None and len(title) <= 60 and title.endswith("…") and long.startswith(title[:-1])
    assert title_from_prompt("\x1b]0;pwned\x07Hello \x1b[31mred\x1b[0m") == "Hello red"


CORPUS = {
    "code": "Try this:\n```python\ndef parse_config(path):\n    return tomllib.loads(path.read_text())\n```",
    "russian": "Эти факты хорошо известны специалистам.",
    "german": "Viele Grüße aus München!",
    "cjk": "东京是日本的首都，人口很多。",
    "english": "The quick brown fox jumps over the lazy dog",
}


@pytest.fixture
def corpus(store: SessionStore) -> dict[str, str]:
    session = store.create_session(title="Search corpus")
    return {name: str(store.add_message(session.id, "assistant", text)) for name, text in CORPUS.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("parse_config", "code"),
        ("tomllib.loads", "code"),
        ("известны", "russian"),
        ("ИЗВЕСТНЫ", "russian"),
        ("Grüße", "german"),
        ("grüße münchen", "german"),
        ("日本的首都", "cjk"),
        ("首都", "cjk"),  # shorter than a trigram
        ('"brown fox"', "english"),
        ("fox dog", "english"),
    ],
)
def test_search_finds_words_in_code_and_any_script(
    store: SessionStore, corpus: dict[str, str], query: str, expected: str
) -> None:
    hits = [h for h in store.search(query) if h.role != "title"]
    assert [str(h.message_id) for h in hits] == [corpus[expected]]
    hit = hits[0]
    assert hit.title == "Search corpus" and hit.role == "assistant"
    assert hit.spans and all(hit.snippet[a:b].casefold() in query.casefold() for a, b in hit.spans)


@pytest.mark.parametrize(
    "query", ["foo-bar", '"', '"unbalanced', "*", "AND", "OR NOT", "NEAR(a b)", "col:fox", "^fox", "a'b", "(", "- -"]
)
def test_search_never_raises_on_fts_syntax(store: SessionStore, corpus: dict[str, str], query: str) -> None:
    assert isinstance(store.search(query), list)


def test_search_edges(store: SessionStore, corpus: dict[str, str]) -> None:
    assert store.search("") == [] and store.search("   ") == []
    assert store.search("fox", limit=0) == []
    assert store.search("brown cat") == []  # every term must match
    hits = store.search("corpus")
    assert [(h.role, h.message_id) for h in hits] == [("title", None)]
    assert hits[0].to_dict() == {
        "session_id": hits[0].session_id,
        "title": "Search corpus",
        "role": "title",
        "snippet": "Search corpus",
    }


def test_search_snippets_are_short_and_centred(store: SessionStore) -> None:
    session = store.create_session()
    text = "lorem ipsum " * 200 + "NEEDLE in the\nhaystack " + "dolor sit " * 200
    store.add_message(session.id, "user", text)
    (hit,) = [h for h in store.search("needle haystack") if h.role != "title"]
    assert len(hit.snippet) <= 102 and hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "NEEDLE in the haystack" in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["NEEDLE", "haystack"]


def test_bench_runs(store: SessionStore) -> None:
    store.add_bench_run("race1", "hi", "groq:llama", 1, stats=STATS)
    store.add_bench_run("race1", "hi", "hf:llama", 1, error={"kind": "network", "message": "cut"})
    store.add_bench_run("race2", "yo", "groq:llama", 1, stats={"ttft_s": 0.3}, created_at="2026-01-01T00:00:00Z")
    runs = store.list_bench_runs()
    assert [r.race_id for r in runs] == ["race2", "race1", "race1"]
    assert runs[0].created_at == "2026-01-01T00:00:00Z"
    race1 = store.list_bench_runs(race_id="race1")
    assert [(r.target, r.stats, r.error) for r in race1] == [
        ("hf:llama", None, {"kind": "network", "message": "cut"}),
        ("groq:llama", STATS, None),
    ]
    assert len(store.list_bench_runs(target="groq:llama", limit=1)) == 1


# the version-1 schema as botticelli shipped it: no full-text index, no bench table, no activity column
V1_SCHEMA = """
CREATE TABLE sessions (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, system_prompt TEXT, profile TEXT, model TEXT
);
CREATE INDEX sessions_updated ON sessions (updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', reasoning TEXT, profile TEXT,
    model TEXT, finish_reason TEXT, stats TEXT, error TEXT, created_at TEXT NOT NULL, UNIQUE (session_id, seq)
);
"""


def test_a_version_1_database_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    for rid, (sid, updated) in enumerate(
        [("aaaaaaaaaaaa", "2025-01-01T10:00:00Z"), ("bbbbbbbbbbbb", "2025-01-02T10:00:00Z")], 1
    ):
        conn.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, '2025-01-01T09:00:00Z', ?, 'Be kind.', 'groq', 'llama')",
            (rid, sid, f"Old chat {rid}", updated),
        )
    conn.execute(
        "INSERT INTO messages (session_id, seq, role, content, created_at) VALUES"
        " ('aaaaaaaaaaaa', 1, 'user', 'What is a monad?', '2025-01-01T09:00:00Z')"
    )
    conn.execute(
        "INSERT INTO messages (session_id, seq, role, content, profile, model, finish_reason, stats, created_at)"
        " VALUES ('aaaaaaaaaaaa', 2, 'assistant', 'A monoid in the category of endofunctors.', 'groq', 'llama',"
        " 'stop', ?, '2025-01-01T09:00:01Z')",
        (json.dumps(STATS),),
    )
    conn.commit()
    conn.close()

    with SessionStore.open(path) as store:
        assert [s.id for s in store.list_sessions()] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
        old = store.get_session("aaaaaaaaaaaa")
        assert (old.title, old.system_prompt, old.message_count) == ("Old chat 1", "Be kind.", 2)
        user, answer = store.messages(old.id)
        assert user.content == "What is a monad?" and answer.stats == STATS and answer.finish_reason == "stop"
        # the new features work on the old data
        assert [h.message_id for h in store.search("endofunctors")] == [answer.id]
        assert [h.session_id for h in store.search("old chat 2")] == ["bbbbbbbbbbbb"]
        store.add_message(old.id, "user", "And a functor?")
        assert store.list_sessions()[0].id == old.id
        assert store.add_bench_run("r", "p", "groq:llama", 1) > 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def _refused(path: Path, *words: str) -> None:
    before = path.read_bytes()
    with pytest.raises(SessionStoreError) as info:
        SessionStore.open(path)
    line = info.value.one_line()
    assert line.startswith("error: sessions: ") and str(path) in line and "\n" not in line
    assert line.endswith(")") and info.value.exit_code == 2
    for word in words:
        assert word in line
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_a_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_text("these are my notes, not a database\n")
    _refused(path, "not an SQLite file")


def test_another_apps_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('hello')")
    conn.commit()
    conn.close()
    _refused(path, "another application")


def test_a_damaged_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    _refused(path, "damaged")


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    with SessionStore.open(path) as store:
        store.create_session(title="from the future")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    _refused(path, "newer botticelli", f"schema version {SCHEMA_VERSION + 1}")


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sessions.db").mkdir()
    with pytest.raises(SessionStoreError, match="is a folder"):
        SessionStore.open(tmp_path / "sessions.db")


WRITER = """
import sys
from botticelli.sessions import SessionStore

store = SessionStore.open(sys.argv[1])
sys.stdin.readline()  # start together
for i in range(200):
    store.add_message(sys.argv[2], "user", f"{sys.argv[3]} {i}")
store.close()
"""


def test_two_processes_writing_at_once_lose_nothing(store: SessionStore) -> None:
    session = store.create_session(title="shared")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.path), session.id, tag],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("left", "right")
    ]
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    messages = store.messages(session.id)
    assert len(messages) == 400
    assert [m.seq for m in messages] == list(range(1, 401))
    for tag in ("left", "right"):
        assert sorted(int(m.content.split()[1]) for m in messages if m.content.startswith(tag)) == list(range(200))


def test_threads_can_share_one_store(store: SessionStore) -> None:
    import threading

    session = store.create_session()

    def write(tag: str) -> None:
        for i in range(50):
            store.add_message(session.id, "user", f"{tag}{i}")

    threads = [threading.Thread(target=write, args=(tag,)) for tag in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.message_count(session.id) == 100


def test_an_unwritable_data_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SessionStoreError, match="cannot open"):
        SessionStore.open(blocker / "sessions.db")

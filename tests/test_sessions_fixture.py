"""A sessions database written by an earlier release opens with today's code, and nothing in it is lost.

`tests/fixtures/sessions/sessions-v3.db` was written on 2026-12-04 through the real commands (see
`make_sessions_db.py` beside it): sessions with stats, errors, reasoning, a cut answer, sampling parameters,
hostile and non-ASCII text, a renamed and an imported session, stored races and the FTS indexes.
`expected.json` is what that day's code read back. A later schema may add to any of it (new keys, new
tables), never drop or change what was there.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from botticelli.cli import main
from botticelli.sessions import SessionStore
from botticelli.sessions.export import export_document

FIXTURES = Path(__file__).parent / "fixtures" / "sessions"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def missing(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Where `actual` lost or changed something of `expected` (dicts may gain keys; lists keep their items)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        return [p for key, value in expected.items()
                for p in (missing(value, actual[key], f"{where}.{key}") if key in actual else [f"{where}.{key}: gone"])]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r:.200}"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [p for i, (e, a) in pairs for p in missing(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: expected {expected!r:.100}, got {actual!r:.100}"]


def test_the_comparison_sees_a_loss() -> None:
    assert missing({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2], "new": 3}) == []
    assert missing({"a": 1}, {"a": 2}) and missing({"a": 1}, {}) and missing({"b": [1, 2]}, {"b": [1]})


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    copy = tmp_path / "sessions.db"
    shutil.copyfile(FIXTURES / "sessions-v3.db", copy)
    return copy


def test_the_fixture_is_a_version_3_database_with_every_kind_of_content(old_db: Path) -> None:
    """Guards the fixture itself: it holds what the test below claims to check."""
    with sqlite3.connect(old_db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == EXPECTED["schema_version"] == 3
    messages = [m for s in EXPECTED["sessions"] for m in s["document"]["messages"]]
    assert len(EXPECTED["sessions"]) == 5 and len(messages) == 20
    assert {m.get("finish_reason") for m in messages} >= {"stop", "length", "error"}
    assert {(m.get("error") or {}).get("kind") for m in messages} >= {"network", "server"}
    assert any(m.get("reasoning") for m in messages) and any("\x1b[31m" in m["content"] for m in messages)
    assert any(s["params"] for s in EXPECTED["sessions"])
    assert {bool(r["error"]) for r in EXPECTED["bench_runs"]} == {True, False}
    assert all(EXPECTED["searches"].values())


def test_an_old_database_opens_and_nothing_is_lost(old_db: Path) -> None:
    with SessionStore.open(old_db) as store:
        sessions = {s.id: s for s in store.list_sessions()}
        assert set(sessions) == {s["id"] for s in EXPECTED["sessions"]}
        problems: list[str] = []
        for want in EXPECTED["sessions"]:
            session = sessions[want["id"]]
            got = {"id": session.id, "updated_at": session.updated_at, "profile": session.profile,
                   "model": session.model, "message_count": session.message_count, "params": session.params,
                   "document": export_document(session, store.messages(session.id))}
            problems += missing(want, got, f"session {session.id}")
        runs = [{"race_id": r.race_id, "created_at": r.created_at, "prompt": r.prompt, "target": r.target,
                 "run": r.run, "stats": r.stats, "error": r.error} for r in store.list_bench_runs()]
        problems += missing(EXPECTED["bench_runs"], runs, "bench_runs")
        for query, hits in EXPECTED["searches"].items():
            found = sorted((h.to_dict() for h in store.search(query)), key=json.dumps)
            problems += missing(sorted(hits, key=json.dumps), found, f"search {query!r}")
    assert not problems, "\n".join(problems)


def test_an_old_database_keeps_working_through_the_cli(
    old_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listing, searching and continuing an old session: the new answer lands after the old messages."""
    monkeypatch.setenv("BOTTICELLI_DATA_DIR", str(old_db.parent))
    capsys.readouterr()
    assert main(["sessions", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in listed] == [s["id"] for s in EXPECTED["sessions"]]
    assert main(["sessions", "search", "日本語", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    cut = next(s for s in EXPECTED["sessions"] if s["params"])
    assert main(["ask", "-q", "--session", cut["id"], "[[echo]] still here"]) == 0
    capsys.readouterr()
    with SessionStore.open(old_db) as store:
        contents = [m.content for m in store.messages(cut["id"])]
    old = [m["content"] for m in cut["document"]["messages"]]
    assert contents == [*old, "[[echo]] still here", "still here"]


def test_stored_figures_and_errors_come_back_typed(old_db: Path) -> None:
    """A stored answer's `stats` and `error` objects are read as SpeedFigures and errors of their kind."""
    from botticelli.providers.errors import NetworkError, ServerError

    with SessionStore.open(old_db) as store:
        messages = [m for s in store.list_sessions() for m in store.messages(s.id)]
        runs = store.list_bench_runs()
    failed = {type(m.failure): m for m in messages if m.error}
    assert set(failed) == {NetworkError, ServerError}
    assert failed[ServerError].failure.exit_code == 8 and failed[NetworkError].failure.exit_code == 7
    assert failed[ServerError].failure.one_line().startswith("error: demo: HTTP 500")
    timed = [m for m in messages if m.stats]
    assert timed and all(m.figures.to_dict() == m.stats for m in timed)
    assert all(m.figures is None and m.failure is None for m in messages if m.role == "user")
    assert {type(r.failure) for r in runs} == {type(None), ServerError}
    assert all(r.figures.decode_tps == r.stats["decode_tps"] for r in runs if r.stats)


def test_a_stored_error_with_wrong_types_still_reads() -> None:
    from botticelli.providers.errors import error_from_dict

    error = error_from_dict({"kind": "rate_limit", "status": "429", "code": 5, "message": None,
                             "retry_after_s": "soon"}, provider="p")
    assert (error.kind, error.status, error.code, error.retry_after_s) == ("rate_limit", None, None, None)
    assert error.one_line().startswith("error: p:") and error.one_line().endswith("(wait a little and try again)")
    kept = error_from_dict({"kind": "config", "message": "bad file"})
    assert kept.to_dict()["kind"] == "config"

"""`botticelli sessions ...` from the shell: output shapes, exit codes, error lines, terminal safety."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from botticelli import paths
from botticelli.commands import sessions as command
from botticelli.sessions import SessionStore
from botticelli.sessions.export import dumps_json, export_document
from helpers_sessions import STATS

EVIL = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m"


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="botticelli")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sessions", *argv])
    return args.run(args)


@pytest.fixture
def two_sessions() -> tuple[str, str]:
    with SessionStore.open() as store:
        older = store.create_session(title=f"Rust {EVIL}lifetimes", system_prompt="Be brief.")
        store.add_message(older.id, "user", "What is 'a?")
        answer = store.begin_assistant(older.id, "groq", "llama-3.1-8b-instant")
        store.finish_message(
            answer, f"A lifetime {EVIL}parameter.\n```rust\nfn f<'a>() {{}}\n```", "hmm", "stop", STATS, None
        )
        newer = store.create_session(system_prompt=None)
        store.add_message(newer.id, "user", "Grüße aus München")
        cut = store.begin_assistant(newer.id, "demo", "sim")
        store.checkpoint(cut, "Hallo zur")
        return older.id, newer.id


def _no_escapes(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text


def test_list_table_and_json(two_sessions: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    older, newer = two_sessions
    assert cli("list") == 0
    out = capsys.readouterr().out
    _no_escapes(out)
    header, first, second = out.splitlines()
    assert header.split() == ["ID", "UPDATED", "TITLE", "MODEL", "MESSAGES"]
    assert first.startswith(newer) and "Grüße aus München" in first and first.endswith(" 2")
    assert second.startswith(older) and "Rust" in second and "llama-3.1-8b-instant" in second

    assert cli("list", "--json", "--limit", "1") == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert list(item) == ["id", "title", "created_at", "updated_at", "profile", "model", "messages"]
    assert (item["id"], item["title"], item["messages"]) == (newer, "Grüße aus München", 2)

    assert cli("list", "--filter", "RUST") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [older]


def test_list_when_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("list") == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no sessions yet" in captured.err
    assert cli("list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_show_prints_the_conversation_with_stats(two_sessions: tuple[str, str], capsys) -> None:
    older, newer = two_sessions
    assert cli("show", older[:6]) == 0
    out = capsys.readouterr().out
    _no_escapes(out)
    assert out.startswith("Rust ") and f"{older} · created " in out and "2 messages" in out
    assert "system prompt:\n  Be brief." in out
    assert "── assistant · groq · llama-3.1-8b-instant · " in out
    assert "A lifetime parameter." in out and "fn f<'a>() {}" in out
    assert "  [TTFT 210ms · " in out and "server 1,000 tok/s" in out and "· stop]\n" in out
    assert "reasoning:\n  │ hmm" in out

    assert cli("show", newer) == 0
    assert "Hallo zur\n  [interrupted]" in capsys.readouterr().out


@pytest.mark.parametrize("action", [("show",), ("export",), ("delete", "--yes"), ("rename",)])
def test_an_unknown_id_is_a_usage_error(two_sessions, capsys, action: tuple[str, ...]) -> None:
    extra = ["new title"] if action[0] == "rename" else []
    assert cli(action[0], "zzz", *action[1:], *extra) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: sessions: no session matches 'zzz' (list them with botticelli sessions list)\n"


def test_an_ambiguous_prefix_asks_for_more(capsys: pytest.CaptureFixture[str]) -> None:
    with SessionStore.open() as store:
        ids = [store.create_session().id for _ in range(40)]
    firsts = [i[0] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    assert cli("show", shared) == 2
    assert "matches several sessions" in capsys.readouterr().err


def test_search_human_and_json(two_sessions: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    older, newer = two_sessions
    assert cli("search", "--json", "lifetime", "parameter") == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits == [
        {
            "session_id": older,
            "title": f"Rust {EVIL}lifetimes",
            "role": "assistant",
            "snippet": f"A lifetime {EVIL}parameter. ```rust fn f<'a>() {{}} ```",
        }
    ]
    assert cli("search", "münchen") == 0
    out = capsys.readouterr().out
    _no_escapes(out)
    assert out.splitlines() == [
        f"{newer}  title      Grüße aus München",
        "    Grüße aus München",
        f"{newer}  user       Grüße aus München",
        "    Grüße aus München",
    ]
    assert cli("search", "foo-bar", '"', "AND") == 0
    assert "no matches" in capsys.readouterr().err
    assert cli("search", "--json", '"') == 0
    assert json.loads(capsys.readouterr().out) == []


def test_search_highlights_matches_on_a_terminal(two_sessions, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli("search", "lifetime") == 0
    out = capsys.readouterr().out
    assert "A \x1b[1mlifetime\x1b[0m parameter." in out
    assert out.count("\x1b") == 4  # two highlights (title and message), nothing from the stored text


def test_export_to_stdout_and_to_a_file(two_sessions, capsys, tmp_path: Path) -> None:
    older, _ = two_sessions
    assert cli("export", older) == 0
    out = capsys.readouterr().out
    _no_escapes(out)
    with SessionStore.open() as store:
        expected = export_document(store.get_session(older), store.messages(older))
    assert json.loads(out) == expected and out == dumps_json(expected) + "\n"

    target = tmp_path / "out" / "chat.md"
    target.parent.mkdir()
    target.write_text("old content")
    assert cli("export", older[:5], "--format", "md", "-o", str(target)) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "exported" in captured.err
    assert target.read_text().startswith("# Rust lifetimes\n")
    assert [p.name for p in target.parent.iterdir()] == ["chat.md"]  # no temporary file left behind

    assert cli("export", older, "--format", "openai") == 0
    assert json.loads(capsys.readouterr().out)[0] == {"role": "system", "content": "Be brief."}


def test_export_to_a_missing_folder_fails_cleanly(two_sessions, capsys, tmp_path: Path) -> None:
    assert cli("export", two_sessions[0], "-o", str(tmp_path / "missing" / "x.json")) == 2
    assert capsys.readouterr().err.startswith(f"error: sessions: cannot write {tmp_path / 'missing' / 'x.json'}")


def test_import_prints_the_new_id(two_sessions, capsys, tmp_path: Path, monkeypatch) -> None:
    older, _ = two_sessions
    assert cli("export", older, "-o", str(tmp_path / "chat.json")) == 0
    capsys.readouterr()
    assert cli("import", str(tmp_path / "chat.json")) == 0
    new_id = capsys.readouterr().out.strip()
    assert len(new_id) == 12 and new_id not in two_sessions

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "chat.json").read_bytes())))
    assert cli("import", "-") == 0
    from_stdin = capsys.readouterr().out.strip()
    with SessionStore.open() as store:
        docs = [export_document(store.get_session(i), store.messages(i)) for i in (older, new_id, from_stdin)]
    assert docs[0] == docs[1] == docs[2]


def _good_export() -> str:
    with SessionStore.open() as store:
        session_id = store.list_sessions()[-1].id
        return dumps_json(export_document(store.get_session(session_id), store.messages(session_id)))


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda text: text[: len(text) // 2], "invalid JSON at line"),
        (lambda text: text.replace('"botticelli.session"', '"oterm.chat"'), 'format: expected "botticelli.session"'),
        (lambda text: text.replace('"version": 1', '"version": 2'), "version: expected 1, got 2"),
        (lambda text: text.replace('"role": "assistant"', '"role": "robot"'), "messages[1].role: expected one of"),
    ],
)
def test_a_refused_import_leaves_the_database_untouched(
    two_sessions, capsys, tmp_path: Path, mangle, expected: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(mangle(_good_export()))
    db = paths.sessions_db()
    before = db.read_bytes()
    assert cli("import", str(bad)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: sessions: cannot import {bad}: ") and expected in captured.err
    assert captured.err.count("\n") == 1
    assert db.read_bytes() == before
    with SessionStore.open() as store:
        assert len(store.list_sessions()) == 2 and sum(s.message_count for s in store.list_sessions()) == 4


def test_import_of_a_missing_file(capsys, tmp_path: Path) -> None:
    assert cli("import", str(tmp_path / "nope.json")) == 2
    assert capsys.readouterr().err.startswith(f"error: sessions: cannot read {tmp_path / 'nope.json'}")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_delete_asks_on_a_terminal_and_refuses_without_one(two_sessions, capsys, monkeypatch) -> None:
    older, newer = two_sessions
    assert cli("delete", older) == 2  # pytest's stdin is not a terminal
    assert "pass --yes" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", FakeTTY("n\n"))
    assert cli("delete", older) == 0
    captured = capsys.readouterr()
    assert "[y/N]" in captured.err and "nothing deleted" in captured.err
    _no_escapes(captured.err)

    monkeypatch.setattr("sys.stdin", FakeTTY("y\n"))
    assert cli("delete", older[:6]) == 0
    assert capsys.readouterr().out == f"deleted {older}\n"

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli("delete", newer, "--yes") == 0
    with SessionStore.open() as store:
        assert store.list_sessions() == []


def test_rename(two_sessions, capsys) -> None:
    older, _ = two_sessions
    assert cli("rename", older[:4], "Borrow", "checker") == 0
    with SessionStore.open() as store:
        assert store.get_session(older).title == "Borrow checker"
    assert cli("rename", older, " ") == 2
    assert "cannot be empty" in capsys.readouterr().err


def test_a_damaged_database_gives_one_line_and_exit_2(capsys) -> None:
    db = paths.sessions_db()
    db.parent.mkdir(parents=True)
    db.write_text("not a database")
    assert cli("list") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: sessions: {db} is not a sessions database") and err.count("\n") == 1
    assert db.read_text() == "not a database"


def test_registered_in_the_main_cli(two_sessions, capsys) -> None:
    from botticelli.cli import main

    assert main(["sessions", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2

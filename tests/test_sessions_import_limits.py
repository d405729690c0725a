"""`sessions import` of hostile files: lone surrogates, deep nesting, sizes over the cap. One line, exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from botticelli.sessions import SessionStore
from faults import cli_inprocess, cli_subprocess


@pytest.fixture
def export_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A real export of a two-message session."""
    with SessionStore.open() as store:
        session = store.create_session(profile="p", model="m")
        store.add_message(session.id, "user", "hello")
        store.add_message(session.id, "assistant", "PLACEHOLDER", finish_reason="stop")
    result = cli_inprocess(["sessions", "export", session.id], capsys)
    assert result.code == 0, result.err
    with SessionStore.open() as store:
        store.delete(session.id)
    return result.out


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_lone_surrogate_is_imported_as_a_replacement_character(export_text: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(export_text.replace("PLACEHOLDER", "X\\ud800Y"), encoding="utf-8")
    result = cli_inprocess(["sessions", "import", str(path)], capsys)
    assert result.code == 0, result.err
    session_id = result.out.strip()
    with SessionStore.open() as store:
        assert store.messages(session_id)[-1].content == "X\ufffdY"
    shown = cli_inprocess(["sessions", "show", session_id], capsys)
    assert shown.code == 0 and "X\ufffdY" in shown.out


def test_deeply_nested_json_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    result = cli_subprocess(["sessions", "import", str(path)])
    assert result.code == 2
    assert "nested too deeply" in one_line(result.err)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: 257 MiB that take no disk and must never be read
        handle.truncate(257 * 1024 * 1024)
    result = cli_inprocess(["sessions", "import", str(path)], capsys)
    assert result.code == 2
    line = one_line(result.err)
    assert "larger than 256 MiB" in line and "--max-size-mb" in line


def test_the_flag_sets_the_cap_for_files_and_stdin(export_text: str, tmp_path: Path) -> None:
    padded = json.loads(export_text)
    padded["title"] = "x" * (2 * 1024 * 1024)
    data = json.dumps(padded).encode()
    path = tmp_path / "big.json"
    path.write_bytes(data)
    refused = cli_subprocess(["sessions", "import", "--max-size-mb", "1", str(path)])
    assert refused.code == 2 and "larger than 1 MiB" in one_line(refused.err)
    refused = cli_subprocess(["sessions", "import", "--max-size-mb", "1", "-"], stdin=data)
    assert refused.code == 2 and "larger than 1 MiB" in one_line(refused.err)
    accepted = cli_subprocess(["sessions", "import", "--max-size-mb", "3", "-"], stdin=data)
    assert accepted.code == 0, accepted.err
    assert os.path.getsize(path) == len(data)

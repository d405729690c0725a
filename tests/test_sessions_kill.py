"""A process killed in the middle of a streamed answer keeps the prompt and the answer so far."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from botticelli import paths
from botticelli.sessions import SessionStore

STREAMER = """
import sys
import time
from botticelli.sessions import SessionStore

store = SessionStore.open(sys.argv[1])
session = store.create_session(profile="demo", model="sim")
store.add_message(session.id, "user", "Tell me a very long story")
answer = store.begin_assistant(session.id, "demo", "sim")
text = ""
for i in range(1_000_000):
    text += f"word{i} "
    store.checkpoint(answer, text, reasoning="planning the story")
    if i == 5:
        print(session.id, answer, flush=True)
    time.sleep(0.001)  # a stream's pace; the parent waits on the line above, not on time
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_stream_keeps_the_prompt_and_a_partial_answer() -> None:
    path = paths.sessions_db()
    child = subprocess.Popen(
        [sys.executable, "-c", STREAMER, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        session_id, answer_id = line.split()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    with SessionStore.open(path) as store:
        user, answer = store.messages(session_id)
        assert (user.role, user.content) == ("user", "Tell me a very long story")
        assert answer.id == int(answer_id) and answer.role == "assistant"
        assert answer.content.startswith("word0 word1 word2 word3 word4 word5 ")
        assert answer.reasoning == "planning the story"
        assert answer.finish_reason is None and answer.interrupted and answer.status == "interrupted"
        assert store.get_session(session_id).message_count == 2
        assert [h.message_id for h in store.search("word3") if h.role == "assistant"] == [answer.id]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

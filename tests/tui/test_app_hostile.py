"""A hostile server through the TUI (issue 13 items 3 and 4): the chat shows the answer and keeps saving it.

A lone surrogate in the stream used to stop the session being saved; a malformed 200 body left the stored answer
empty and unfinished. Over a real loopback socket, the app must show the text and store it finished.
"""

from __future__ import annotations

from pathlib import Path

from botticelli.sessions import SessionStore
from botticelli.tui.app import BotticelliApp
from helpers_hostile import HostileServer, chunk, finish, json_answer, sse_answer

from .app_helpers import last_message, send, wait_until, write_config

SIZE = (120, 40)


def stored_messages() -> list:
    with SessionStore.open() as store:
        sessions = store.list_sessions()
        return store.messages(sessions[0].id) if sessions else []


def answer_stored(expected_reason: str):
    def check() -> bool:
        messages = stored_messages()
        return len(messages) >= 2 and messages[-1].finish_reason == expected_reason
    return check


def hostile_app(server: HostileServer, tmp_path: Path) -> BotticelliApp:
    config = write_config(tmp_path / "tui-config",
                          f'[profiles.h]\nbase_url = "{server.base_url}"\ndefault_model = "m"\nmax_retries = 0\n')
    return BotticelliApp(config, profile="h")


async def test_a_lone_surrogate_is_shown_and_saved(tmp_path: Path) -> None:
    stream = sse_answer(chunk("a "), '{"choices":[{"index":0,"delta":{"content":"X\\ud800Y"}}]}', chunk(" b"),
                        finish())
    with HostileServer(stream) as server:
        app = hostile_app(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "hi")
            message = last_message(app)
            assert message is not None and message.text == "a X\ufffdY b" and message.error is None
            await wait_until(pilot, answer_stored("stop"), "the answer saved")
            # The app keeps saving: a second exchange is stored too.
            await send(pilot, "again")
            await wait_until(pilot, lambda: len(stored_messages()) == 4 and stored_messages()[-1].finish_reason,
                             "the second answer saved")
    assert [m.content for m in stored_messages()] == ["hi", "a X\ufffdY b", "again", "a X\ufffdY b"]


async def test_a_malformed_answer_is_stored_finished_with_its_error(tmp_path: Path) -> None:
    with HostileServer(json_answer({"choices": [{"message": "just a string"}]})) as server:
        app = hostile_app(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "hi")
            message = last_message(app)
            assert message is not None and message.error and "message" in message.error
            await wait_until(pilot, answer_stored("error"), "the failed answer saved")
    stored = stored_messages()[-1]
    assert stored.error is not None and stored.error["kind"] == "protocol"

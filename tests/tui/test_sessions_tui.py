"""Every chat is a session: recording (prompt, checkpoints, stop, errors, regenerate, edit), the session browser
(filter, search, open and continue, rename, delete), starting on a saved session, store failures, and the race
binding. Pilot tests against the in-process demo simulator; the store is read back with its own connection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from botticelli import paths
from botticelli.chat import turn as turn_module
from botticelli.chat.conversation import ChatSettings
from botticelli.sessions import Message, NewMessage, NewSession, SessionStore
from botticelli.tui import app as app_module
from botticelli.tui.app import BotticelliApp, run_app
from botticelli.tui.screens.confirm import ConfirmScreen
from botticelli.tui.screens.rename import RenameScreen
from botticelli.tui.screens.sessions import SessionBrowser

from .app_helpers import answer_settled, log_of, prompt_of, send, wait_until

SIZE = (120, 40)


async def saved(pilot: Pilot) -> None:
    """Wait until the app has handed every answer's end to the store, and the store has written it."""
    app = pilot.app
    assert isinstance(app, BotticelliApp)
    await wait_until(pilot, lambda: not app.chat.busy and not app.sessions.recording, "the answer's end")
    await app.sessions.flush()


def stored(session_id: str | None = None) -> list[Message]:
    """The messages of `session_id` (default: the only session)."""
    with SessionStore.open() as store:
        if session_id is None:
            sessions = store.list_sessions()
            assert len(sessions) == 1, [s.title for s in sessions]
            session_id = sessions[0].id
        return store.messages(session_id)


def session_titles() -> list[str | None]:
    with SessionStore.open() as store:
        return [s.title for s in store.list_sessions()]


async def open_browser(pilot: Pilot) -> SessionBrowser:
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionBrowser), "the session browser")
    browser = pilot.app.screen
    assert isinstance(browser, SessionBrowser)
    await wait_until(pilot, lambda: browser.loaded > 0, "the session list")
    return browser


async def type_filter(pilot: Pilot, browser: SessionBrowser, text: str) -> None:
    before = browser.loaded
    browser.query_one("#sessions-filter", Input).value = text
    await wait_until(pilot, lambda: browser.loaded > before and browser.shown_query == text, "the filtered list")


def option_texts(browser: SessionBrowser) -> list[str]:
    options = browser.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


# -- recording -----------------------------------------------------------------------------------------------


async def test_the_store_is_not_opened_before_the_first_prompt() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.sessions.opened
    assert not paths.sessions_db().exists()


async def test_a_prompt_and_its_answer_are_saved_in_a_session_titled_by_the_prompt() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "How does a CPU cache work?\nPlease be brief.")
        await saved(pilot)
        exchange = app.chat.exchanges[-1]
        assert session_titles() == ["How does a CPU cache work?"]
        user, answer = stored()
        assert (user.role, user.content) == ("user", "How does a CPU cache work?\nPlease be brief.")
        assert (answer.role, answer.profile, answer.model) == ("assistant", "demo", "demo-fast")
        assert answer.content == exchange.answer and answer.finish_reason == "stop" and answer.error is None
        assert answer.stats is not None and answer.stats["completion_tokens"] == exchange.figures.completion_tokens
        with SessionStore.open() as store:
            session = store.get_session(app.sessions.session_id or "")
        assert (session.profile, session.model, session.message_count) == ("demo", "demo-fast", 2)


async def test_a_streaming_answer_is_checkpointed_then_stopping_keeps_it_as_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(turn_module, "CHECKPOINT_S", 0.05)
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[tps:50]] [[tokens:2000]] Tell me a long story", wait=False)
        await wait_until(pilot, lambda: app.sessions.session_id is not None, "the session")

        def checkpointed() -> bool:
            messages = stored(app.sessions.session_id)
            return len(messages) == 2 and len(messages[1].content) > 20

        await wait_until(pilot, checkpointed, "a checkpoint of the partial answer")
        partial = stored(app.sessions.session_id)[1]
        assert partial.finish_reason is None and partial.interrupted  # a crash now would keep this text
        await pilot.press("escape")
        await wait_until(pilot, lambda: answer_settled(app), "the stop")
        await saved(pilot)
        exchange = app.chat.exchanges[-1]
        assert exchange.cancelled and exchange.answer
        answer = stored()[1]
        assert answer.finish_reason == "cancelled"
        assert answer.content == exchange.answer and answer.content.startswith(partial.content)
        assert answer.stats is not None


async def test_a_provider_error_is_saved_with_the_partial_text_and_the_error() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[fault:429 retry_after=31]] hello")
        await saved(pilot)
        user, answer = stored()
        assert user.content == "[[fault:429 retry_after=31]] hello"
        assert answer.finish_reason == "error" and answer.content == ""
        assert answer.error is not None
        assert (answer.error["kind"], answer.error["status"], answer.error["retry_after_s"]) == ("rate_limit", 429, 31)


async def test_regenerate_and_edit_keep_the_session_equal_to_the_screen() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first question")
        await send(pilot, "second question")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: answer_settled(app) and len(app.chat.exchanges) == 2, "the new answer")
        await saved(pilot)
        messages = stored()
        assert [m.content for m in messages if m.role == "user"] == ["first question", "second question"]
        assert messages[-1].content == app.chat.exchanges[-1].answer and len(messages) == 4
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: prompt_of(app).text == "second question", "the edit")
        await pilot.pause()
        await app.sessions.flush()
        assert len(stored()) == 4  # starting an edit deletes nothing
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.editing is None, "the edit to be abandoned")
        await app.sessions.flush()
        assert len(stored()) == 4 and len(app.chat.exchanges) == 2
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: prompt_of(app).text == "second question", "the edit")
        prompt_of(app).load_text("")
        await send(pilot, "second question, edited", wait=False)
        await wait_until(pilot, lambda: app.chat.exchanges[-1].prompt.endswith("edited") and answer_settled(app),
                         "the edited prompt's answer")
        await saved(pilot)
        assert [m.content for m in stored() if m.role == "user"] == ["first question", "second question, edited"]


async def test_new_chat_starts_a_new_session_on_its_first_prompt_with_the_default_settings() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        app.chat.settings = ChatSettings("You are terse.", 0.3, 256)
        await send(pilot, "one")
        await saved(pilot)
        first = app.sessions.session_id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.sessions.session_id is None and len(session_titles()) == 1
        await send(pilot, "two")
        await saved(pilot)
        assert app.sessions.session_id not in (None, first)
        assert session_titles() == ["two", "one"]
        with SessionStore.open() as store:
            session = store.get_session(first or "")
            second = store.get_session(app.sessions.session_id or "")
        assert session.system_prompt == "You are terse."
        assert session.params == {"temperature": 0.3, "max_tokens": 256}
        assert app.chat.settings == ChatSettings()  # the F2 settings were that chat's only
        assert second.system_prompt is None
        assert not second.params


# -- the browser ---------------------------------------------------------------------------------------------


async def _two_chats(pilot: Pilot) -> tuple[str, str]:
    """Two sessions: `[[echo]]` makes each answer the prompt's own words."""
    app = pilot.app
    assert isinstance(app, BotticelliApp)
    await send(pilot, "Alpha question [[echo]] the zeppelin lands softly")
    await saved(pilot)
    first = app.sessions.session_id
    await pilot.press("ctrl+n")
    await send(pilot, "Beta question about trains")
    await saved(pilot)
    second = app.sessions.session_id
    assert first and second
    return first, second


async def test_the_browser_lists_filters_and_searches_the_messages() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        first, second = await _two_chats(pilot)
        with SessionStore.open() as store:
            store.rename(first, "Airships")  # so the searched word is only in the messages
        browser = await open_browser(pilot)
        assert [row.session.id for row in browser.rows] == [second, first]
        texts = option_texts(browser)
        assert texts[0].startswith("● Beta question about trains")  # the open session is marked
        assert "demo·demo-fast" in texts[0] and re.search(r"\s2$", texts[0])
        await type_filter(pilot, browser, "sh")  # short: titles only
        assert [row.session.id for row in browser.rows] == [first] and browser.rows[0].hit is None
        await type_filter(pilot, browser, "zeppelin")  # 3+ characters: the messages too
        assert [row.session.id for row in browser.rows] == [first]
        hit = browser.rows[0].hit
        assert hit is not None and hit.role == "assistant" and "zeppelin" in hit.snippet
        assert any(hit.snippet[start:end].lower() == "zeppelin" for start, end in hit.spans)
        line = option_texts(browser)[0].splitlines()[1]
        assert "assistant:" in line and "zeppelin" in line
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SessionBrowser), "the browser to close")


async def test_opening_a_session_restores_it_and_the_chat_continues_it() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        first, _second = await _two_chats(pilot)
        earlier = stored(first)
        browser = await open_browser(pilot)
        await type_filter(pilot, browser, "Alpha")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.sessions.session_id == first, "the session to open")
        shown = log_of(app).messages
        assert [m.role for m in shown] == ["user", "assistant"]
        assert shown[1].text == earlier[1].content and shown[1].title == "demo·demo-fast"
        assert (shown[1].footer or "").startswith("demo·demo-fast · TTFT ")
        lines = "\n".join(log_of(app).lines_text())
        assert "zeppelin" in lines and "TTFT" in lines
        assert [e.prompt for e in app.chat.exchanges] == [earlier[0].content]
        await send(pilot, "and then?")
        await saved(pilot)
        assert app.sessions.session_id == first
        messages = stored(first)
        assert [m.id for m in messages[:2]] == [m.id for m in earlier]
        assert [m.content for m in messages[2:3]] == ["and then?"] and len(messages) == 4
        assert len(session_titles()) == 2
        request = app.chat.conversation.request(app.chat.exchanges[-1])  # the earlier exchange goes with it
        assert [m.content for m in request.messages][:2] == [earlier[0].content, earlier[1].content]


async def test_rename_from_the_browser() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        _first, second = await _two_chats(pilot)
        browser = await open_browser(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen), "the rename dialog")
        field = app.screen.query_one(Input)
        assert field.value == "Beta question about trains"
        field.value = "Trains, [b]renamed[/b]"
        before = browser.loaded
        await pilot.press("enter")
        await wait_until(pilot, lambda: browser.loaded > before, "the list to refresh")
        assert session_titles()[0] == "Trains, [b]renamed[/b]"
        assert browser.rows[0].session.id == second
        assert option_texts(browser)[0].startswith("● Trains, [b]renamed[/b]")  # shown as text, not markup


async def test_delete_asks_first_cancel_keeps_confirm_removes() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        first, second = await _two_chats(pilot)
        browser = await open_browser(pilot)
        await pilot.press("down")  # the older one: not the open session
        assert browser.highlighted_id == first
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser, "back to the browser")
        assert len(session_titles()) == 2
        browser.query_one(OptionList).focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        before = browser.loaded
        await pilot.press("y")
        await wait_until(pilot, lambda: browser.loaded > before, "the list to refresh")
        assert [row.session.id for row in browser.rows] == [second]
        assert session_titles() == ["Beta question about trains"]
        assert app.sessions.session_id == second and app.chat.exchanges


async def test_deleting_the_open_session_starts_a_new_chat() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "soon gone")
        await saved(pilot)
        browser = await open_browser(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: not browser.rows and browser.loaded > 1, "the emptied list")
        await wait_until(pilot, lambda: not app.chat.exchanges, "a new chat")
        assert app.sessions.session_id is None and session_titles() == []


# -- starting on a saved session -----------------------------------------------------------------------------


def _saved_session() -> str:
    """A stored session as another run left it: reasoning, figures, an error, a cancelled answer, settings."""
    stats = {"ttft_s": 0.21, "total_s": 0.5, "completion_tokens": 40, "tokens_exact": True, "decode_tps": 812.0,
             "e2e_tps": 80.0, "server_tps": None, "queue_s": None}
    error = {"kind": "rate_limit", "status": 429, "code": "rate_limit_exceeded", "message": "Slow down",
             "retry_after_s": 7}
    when = "2026-11-24T21:03:00Z"
    messages = [
        NewMessage("user", "Why is the sky blue?", when),
        NewMessage("assistant", "Rayleigh **scattering**.", when, reasoning="Short answer first.",
                   profile="demo", model="demo-reasoning", finish_reason="stop", stats=stats),
        NewMessage("user", "And at sunset?", when),
        NewMessage("assistant", "", when, profile="demo", model="demo-reasoning", finish_reason="error",
                   error=error),
        NewMessage("user", "Try again", when),
        NewMessage("assistant", "Longer path thro", when, profile="demo", model="demo-reasoning",
                   finish_reason="cancelled", stats=stats),
    ]
    with SessionStore.open() as store:
        session = store.import_session(NewSession("Sky colours", when, "Answer like a physicist.", messages))
        store.set_params(session.id, {"temperature": 0.2, "max_tokens": 300})
        return session.id


async def test_starting_on_a_saved_session_restores_everything() -> None:
    session_id = _saved_session()
    app = BotticelliApp(session=session_id[:6])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.sessions.session_id == session_id, "the session")
        chat = app.chat
        assert chat.target_label == "demo·demo-reasoning"
        assert chat.settings == ChatSettings("Answer like a physicist.", 0.2, 300)
        shown = log_of(app).messages
        assert [m.role for m in shown] == ["user", "assistant"] * 3
        assert shown[1].reasoning == "Short answer first."
        assert shown[1].footer == "demo·demo-reasoning · TTFT 210ms · 812 tok/s · 40 tok · total 500ms"
        assert shown[3].error and "HTTP 429" in shown[3].error and "wait 7 s" in shown[3].error
        assert shown[3].footer is None
        assert shown[5].cancelled and shown[5].text == "Longer path thro"
        assert [e.answer for e in chat.exchanges] == ["Rayleigh **scattering**.", "", "Longer path thro"]
        assert chat.exchanges[1].error is not None and chat.exchanges[1].error.kind == "rate_limit"
        assert not chat.welcome.display
        await send(pilot, "Once more")
        await saved(pilot)
        assert len(stored(session_id)) == 8


async def test_a_model_given_with_the_session_option_switches_the_session_and_says_so() -> None:
    session_id = _saved_session()  # last used demo·demo-reasoning
    app = BotticelliApp(session=session_id, model="demo-slow")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.sessions.session_id == session_id, "the session")
        assert app.chat.target_label == "demo·demo-slow"  # not silently replaced by the session's model
        assert any("It used demo·demo-reasoning; it continues with demo·demo-slow" in n.message
                   for n in app._notifications)
        await send(pilot, "Once more")
        await saved(pilot)
        assert stored(session_id)[-1].model == "demo-slow"


async def test_a_session_whose_profile_is_gone_keeps_the_current_target() -> None:
    when = "2026-11-24T21:03:00Z"
    with SessionStore.open() as store:
        session = store.import_session(NewSession("Old", when, None, [
            NewMessage("user", "hi", when),
            NewMessage("assistant", "hello", when, profile="vanished", model="m", finish_reason="stop"),
        ]))
    app = BotticelliApp(session=session.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.sessions.session_id == session.id, "the session")
        assert app.chat.target_label == "demo·demo-fast"
        assert any("vanished" in n.message for n in app._notifications)


async def test_an_unknown_session_at_start_is_reported_and_the_chat_starts_empty() -> None:
    app = BotticelliApp(session="abc123")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("abc123" in n.message for n in app._notifications), "the error")
        assert app.sessions.session_id is None and not app.chat.exchanges


def test_run_app_with_an_unknown_session_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(session="abc123") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sessions: no session matches 'abc123'") and err.count("\n") == 1


def test_run_app_resolves_a_session_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    session_id = _saved_session()
    started: list[str | None] = []

    def fake_run(self: BotticelliApp) -> int:
        started.append(self.session_id)
        return 0

    monkeypatch.setattr(app_module.BotticelliApp, "run", fake_run)
    assert run_app(session=session_id[:5]) == 0
    assert started == [session_id]


# -- store failures ------------------------------------------------------------------------------------------


def _store_notices(app: BotticelliApp) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Sessions not saved"]


@pytest.mark.parametrize("breakage", ["data dir is a file", "corrupt database"])
async def test_a_broken_store_is_reported_once_and_the_chat_goes_on(
    breakage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if breakage == "data dir is a file":
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")
        monkeypatch.setenv("BOTTICELLI_DATA_DIR", str(blocker))
    else:
        paths.sessions_db().parent.mkdir(parents=True, exist_ok=True)
        paths.sessions_db().write_bytes(b"SQLite format 3\x00" + b"\x13garbage" * 500)
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await wait_until(pilot, lambda: _store_notices(app), "the store notice")
        await send(pilot, "second")
        await saved(pilot)
        notices = _store_notices(app)
        assert len(notices) == 1 and notices[0].startswith("error: sessions: ")
        assert [e.prompt for e in app.chat.exchanges] == ["first", "second"]
        assert all(e.answer for e in app.chat.exchanges)
        assert len(log_of(app).messages) == 4
        await pilot.press("ctrl+o")  # the browser says what is wrong instead of opening
        await wait_until(pilot, lambda: isinstance(app.screen, SessionBrowser), "the browser")
        browser = app.screen
        assert isinstance(browser, SessionBrowser)
        await wait_until(pilot, lambda: browser.loaded > 0, "the list")
        assert not browser.rows and "error: sessions:" in str(browser.status.render())


# -- race ----------------------------------------------------------------------------------------------------


async def test_the_race_binding_opens_the_race_screen_with_the_current_target() -> None:
    from botticelli.tui.screens.race import RaceScreen

    app = BotticelliApp(model="demo-reasoning")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Which is faster?")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), "the race screen")
        race = app.screen
        assert isinstance(race, RaceScreen)
        await pilot.pause()
        assert race.target_list.selected == ["demo:demo-reasoning"]
        assert race.prompt_input.value == "Which is faster?"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.chat, "back to the chat")


@pytest.mark.parametrize("command", ["Sessions: open…", "Race: compare providers…"])
async def test_the_palette_opens_sessions_and_race(command: str) -> None:
    from botticelli.tui.screens.race import RaceScreen

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*command)
        hits = lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count  # noqa: E731
        await wait_until(pilot, hits, "palette hits")
        await pilot.press("enter")
        expected = SessionBrowser if command.startswith("Sessions") else RaceScreen
        await wait_until(pilot, lambda: isinstance(app.screen, expected), command)


async def test_help_lists_the_new_keys() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = {key: text for _title, section in app.help_sections() for key, text in section}
        assert "ctrl+o" in rows and "ctrl+g" in rows


async def test_quitting_mid_answer_keeps_the_partial_answer_as_cancelled() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[tps:50]] [[tokens:2000]] Tell me a long story", wait=False)
        await wait_until(pilot, lambda: len(log_of(app).messages) == 2 and len(log_of(app).messages[1].text) > 20,
                         "some of the answer")
    answer = stored()[1]
    assert answer.finish_reason == "cancelled" and len(answer.content) > 20


async def test_editing_the_only_prompt_renames_the_chat_by_the_new_prompt() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "frist question")
        await saved(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: prompt_of(app).text == "frist question", "the edit")
        await pilot.pause()
        await app.sessions.flush()
        assert session_titles() == ["frist question"]  # nothing deleted until the edit is sent
        prompt_of(app).load_text("")
        await send(pilot, "first question", wait=False)
        await wait_until(pilot, lambda: app.chat.exchanges[-1].prompt == "first question" and answer_settled(app),
                         "the edited prompt's answer")
        await saved(pilot)
        assert session_titles() == ["first question"]
        assert stored()[0].content == "first question"


# -- building blocks -----------------------------------------------------------------------------------------


def test_a_browser_row_is_plain_text_without_escapes() -> None:
    from botticelli.chat.recording import BrowseRow
    from botticelli.sessions import SearchHit, Session
    from botticelli.tui.screens.sessions import row_content

    session = Session("abc", "\x1b[31mred[/] [b]title", "2026-11-24T21:03:00Z", "2026-11-24T21:03:00Z",
                      profile="demo", model="\x1b]0;pwned\x07m", message_count=1234)
    hit = SearchHit("abc", None, "assistant", "…a zeppelin [i]lands", spans=[(3, 11)])
    content = row_content(BrowseRow(session, hit), 100)
    first, second = content.plain.splitlines()
    assert "\x1b" not in content.plain and "\x07" not in content.plain
    assert first.startswith("red[/] [b]title") and "demo·m" in first and first.rstrip().endswith("1,234")
    assert second == "  ↳ assistant: …a zeppelin [i]lands"
    assert len(first) == 100


def test_an_answer_the_app_never_finished_is_shown_as_interrupted() -> None:
    from botticelli.chat.recording import conversation
    from botticelli.sessions import Session

    when = "2026-11-24T21:03:00Z"
    session = Session("abc", "t", when, when, profile="demo", model="demo-fast")
    loaded = conversation(session, [
        Message(1, "abc", 1, "user", "hi", when),
        Message(2, "abc", 2, "assistant", "Hel", when, profile="demo", model="demo-fast"),
        Message(3, "abc", 3, "user", "still there?", when),
    ])
    assert [m.role for m in loaded.messages] == ["user", "assistant", "user"]
    assert "interrupted" in (loaded.messages[1].footer or "")
    assert [e.prompt for e in loaded.exchanges] == ["hi", "still there?"]
    assert loaded.message_ids == [[1, 2], [3]]
    assert [e.answer for e in loaded.exchanges] == ["Hel", ""]


async def test_deleting_the_session_of_a_streaming_answer_stops_it_quietly() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[tps:50]] [[tokens:2000]] Tell me a long story", wait=False)
        await wait_until(pilot, lambda: app.sessions.session_id is not None, "the session")
        browser = await open_browser(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: not browser.rows and browser.loaded > 1, "the emptied list")
        await wait_until(pilot, lambda: not app.chat.exchanges and not app.chat.busy, "a new chat")
        await saved(pilot)
        assert session_titles() == [] and not _store_notices(app) and app.sessions.failure is None

"""Pilot tests of the chat screen against the in-process demo simulator: send, stop, regenerate, edit, switch."""

from __future__ import annotations

import re

from textual.command import CommandList
from textual.screen import Screen

from botticelli.tui.app import BotticelliApp
from botticelli.tui.messages import AnswerFinished, PromptSent
from botticelli.tui.screens.chat import ChatScreen
from botticelli.tui.screens.help import HelpScreen, key_label
from botticelli.tui.screens.load import LoadScreen
from botticelli.tui.screens.race import RaceScreen
from botticelli.tui.screens.race_history import RaceHistoryScreen
from botticelli.tui.screens.sessions import SessionBrowser
from botticelli.tui.screens.settings import SettingsScreen
from botticelli.tui.screens.speed import SpeedScreen
from botticelli.tui.widgets.chat_log import ChatLog
from botticelli.tui.widgets.picker import Picker, PickerEntry
from botticelli.tui.widgets.prompt_input import PromptInput
from botticelli.tui.widgets.stats_bar import StatsBar

from .app_helpers import answer_settled, last_message, log_of, prompt_of, send, settle_picker, wait_until

SIZE = (120, 40)


async def test_starts_on_demo_with_a_key_hint() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.target.profile.name == "demo"
        hint = str(app.chat.hint.render())
        assert "GROQ_API_KEY" in hint and "HF_TOKEN" in hint
        assert app.chat.query_one(StatsBar).render_content().plain.startswith("demo·demo-fast")
        assert app.focused is prompt_of(app)


async def test_session_option_with_an_unknown_id_says_so() -> None:
    app = BotticelliApp(session="abc")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("abc" in n.message for n in app._notifications), "the notice")
        assert not app.chat.exchanges


async def test_profile_and_model_options_choose_the_target() -> None:
    app = BotticelliApp(profile="demo", model="demo-slow")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.chat.target_label == "demo·demo-slow"


class RecordingApp(BotticelliApp):
    """Records the messages a session store would listen to."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []

    def on_prompt_sent(self, message: PromptSent) -> None:
        self.seen.append(message)

    def on_answer_finished(self, message: AnswerFinished) -> None:
        self.seen.append(message)


async def test_send_streams_an_answer_with_its_figures() -> None:
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello there")
        exchange = app.chat.exchanges[-1]
        assert exchange.answer and exchange.error is None and not exchange.cancelled
        assert exchange.figures is not None and exchange.figures.tokens_exact
        messages = log_of(app).messages
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[0].text == "hello there"
        assert messages[1].title == "demo·demo-fast"
        assert messages[1].text == exchange.answer
        footer = messages[1].footer or ""
        assert footer.startswith("demo·demo-fast · TTFT ") and "tok/s" in footer and "server 800 tok/s" in footer
        stats = app.chat.query_one(StatsBar)
        assert stats.state == "done"
        assert "TTFT" in stats.render_content().plain
        assert prompt_of(app).text == ""
        await wait_until(pilot, lambda: len(app.seen) == 2, "the seam messages")
        assert [type(m) for m in app.seen] == [PromptSent, AnswerFinished]


async def test_stop_keeps_the_partial_answer_marked_cancelled() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[tps:20]] [[tokens:2000]] tell me a long story", wait=False)
        log = log_of(app)
        await wait_until(pilot, lambda: len(log.messages) == 2 and len(log.messages[1].text) > 10, "some text")
        stats = app.chat.query_one(StatsBar)
        await wait_until(pilot, lambda: stats.state == "streaming" and stats.figures is not None, "live figures")
        live = stats.render_content().plain
        assert "streaming" in live and "~" in live and "tok/s" in live  # estimates until the usage arrives
        assert app.chat.check_action("stop", ()) is True
        await pilot.press("escape")
        await wait_until(pilot, lambda: answer_settled(app), "the stop")
        exchange = app.chat.exchanges[-1]
        assert exchange.cancelled
        message = last_message(app)
        assert message is not None and message.cancelled
        assert message.text and message.text == exchange.answer
        assert exchange.figures is not None and (exchange.figures.completion_tokens or 0) < 2000
        assert "TTFT" in (message.footer or "")
        assert app.chat.query_one(StatsBar).state == "cancelled"
        assert app.chat.check_action("stop", ()) is None  # shown dimmed in the footer when idle
        # The partial answer is part of the conversation that the next request carries.
        request = app.chat.conversation.request(app.chat.ask("and then?"))
        assert [m.role for m in request.messages] == ["user", "assistant", "user"]
        assert request.messages[1].content == exchange.answer


async def test_regenerate_replaces_the_last_answer() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first question")
        first = app.chat.exchanges[-1]
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.chat.exchanges[-1] is not first and answer_settled(app), "regenerated")
        messages = log_of(app).messages
        assert [m.role for m in messages] == ["user", "assistant"]
        assert len(app.chat.exchanges) == 1
        assert app.chat.exchanges[0].prompt == "first question"
        assert messages[1].footer


async def test_edit_puts_the_last_prompt_back_and_replaces_the_exchange_when_sent() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await send(pilot, "two\nlines")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: prompt_of(app).text == "two\nlines", "the prompt back in the input")
        # Starting an edit removes nothing: only sending it replaces the last exchange.
        assert [e.prompt for e in app.chat.exchanges] == ["one", "two\nlines"]
        assert [m.text for m in log_of(app).messages if m.role == "user"] == ["one", "two\nlines"]
        await pilot.press("end", "!", "enter")
        await wait_until(pilot, lambda: len(app.chat.exchanges) == 2 and answer_settled(app), "the resent answer")
        assert [e.prompt for e in app.chat.exchanges] == ["one", "two\nlines!"]
        assert [m.text for m in log_of(app).messages if m.role == "user"] == ["one", "two\nlines!"]


async def test_an_edit_left_with_escape_changes_nothing() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await send(pilot, "two")
        before = [(m.role, m.text) for m in log_of(app).messages]
        prompt_of(app).load_text("a draft")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: prompt_of(app).text == "two", "the prompt in the input")
        assert app.chat.check_action("stop", ()) is True
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.editing is None, "the edit to end")
        assert [(m.role, m.text) for m in log_of(app).messages] == before
        assert [e.prompt for e in app.chat.exchanges] == ["one", "two"]
        assert prompt_of(app).text == "a draft"
        await send(pilot, "three")
        assert [e.prompt for e in app.chat.exchanges] == ["one", "two", "three"]


async def test_switching_model_mid_chat_names_the_new_model() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        picker = app.chat.picker
        await wait_until(pilot, lambda: picker.model_list("demo") is not None, "demo's models")
        node = next(n for n in picker._profile_nodes["demo"].children if n.data and n.data.model == "demo-slow")
        picker.select_node(node)
        await wait_until(pilot, lambda: app.chat.target.model == "demo-slow", "the switch")
        await send(pilot, "[[tps:3000]] and now?")
        titles = [m.title for m in log_of(app).messages if m.role == "assistant"]
        assert titles == ["demo·demo-fast", "demo·demo-slow"]
        assert [e.model for e in app.chat.exchanges] == ["demo-fast", "demo-slow"]
        assert (last_message(app).footer or "").startswith("demo·demo-slow · ")


async def test_reasoning_arrives_apart_from_the_answer() -> None:
    app = BotticelliApp(model="demo-reasoning")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "think first [[tps:3000]]")
        message = last_message(app)
        assert message is not None and message.reasoning and message.text
        assert "simulator" in message.reasoning


async def test_empty_prompt_is_not_sent() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt_of(app).load_text("   \n  ")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app._notifications, "a notification")
        assert "Nothing to send" in list(app._notifications)[-1].message
        assert app.chat.exchanges == [] and log_of(app).messages == []
        assert prompt_of(app).text == "   \n  "


async def test_newline_keys_and_prompt_recall() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt = prompt_of(app)
        await pilot.press("a", "ctrl+j", "b", "alt+enter", "c", "shift+enter", "d")
        assert prompt.text == "a\nb\nc\nd"
        await pilot.press("enter")
        await wait_until(pilot, lambda: answer_settled(app), "the answer")
        assert prompt.text == ""
        await pilot.press("up")
        assert prompt.text == "a\nb\nc\nd"
        await pilot.press("down")
        assert prompt.text == ""


async def test_a_burst_of_keys_then_enter_loses_no_character() -> None:
    from textual import events

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        driver = app._driver
        assert driver is not None
        for key in [*"fast typist", "enter", *"next"]:  # no pause between keys, as from a quick hand or tmux
            driver.send_message(events.Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: app.chat.exchanges and answer_settled(app), "the answer")
        assert app.chat.exchanges[0].prompt == "fast typist"
        assert log_of(app).messages[0].text == "fast typist"
        await wait_until(pilot, lambda: prompt_of(app).text == "next", "the keys typed after enter")


async def test_paste_of_many_lines_is_kept_until_enter() -> None:
    from textual.events import Paste

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        pasted = "\n".join(f"line {i}" for i in range(50))
        app.post_message(Paste(pasted))  # as the driver does: the app forwards it to the focused input
        await wait_until(pilot, lambda: prompt_of(app).text == pasted, "the paste")
        assert app.chat.exchanges == []


async def test_typing_while_streaming_keeps_the_new_prompt() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[fault:stall_first seconds=50]] an answer that waits until stopped", wait=False)
        await wait_until(pilot, lambda: app.chat.busy, "the request")
        await pilot.press("n", "e", "x", "t", "enter")
        await wait_until(pilot, lambda: app._notifications, "a notification")
        assert prompt_of(app).text == "next"
        assert len(app.chat.exchanges) == 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: answer_settled(app), "the stop")


async def test_copy_last_answer_and_last_code_block() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "show me some code")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: app.clipboard == app.chat.exchanges[-1].answer, "the answer copied")
        await pilot.press("ctrl+k")
        code = log_of(app).last_code_block()
        assert code and "```" not in code
        await wait_until(pilot, lambda: app.clipboard == code, "the code block copied")


async def test_new_chat_clears_the_conversation() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not log_of(app).messages, "an empty log")
        assert app.chat.exchanges == []
        assert app.chat.query_one(StatsBar).state == "idle"


async def test_settings_apply_to_the_next_request() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), "the settings")
        screen = app.screen
        screen.query_one("#system-prompt").load_text("Answer briefly.")
        screen.query_one("#temperature").value = "0.3"
        screen.query_one("#max-tokens").value = "64"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen), "the settings to close")
        request = app.chat.conversation.request(app.chat.ask("hi"))
        assert request.messages[0].role == "system" and request.messages[0].content == "Answer briefly."
        assert request.temperature == 0.3 and request.max_tokens == 64
        await wait_until(pilot, lambda: answer_settled(app), "the answer")
        # The dialog's title promises "this conversation": a new chat starts with the defaults.
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.chat.exchanges, "a new chat")
        request = app.chat.conversation.request(app.chat.ask("hi again"))
        assert [m.role for m in request.messages] == ["user"]
        assert request.temperature is None and request.max_tokens is None
        await wait_until(pilot, lambda: answer_settled(app), "the answer")


async def test_settings_refuse_bad_numbers() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), "the settings")
        app.screen.query_one("#temperature").value = "7"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen), "the settings to close")
        assert app.chat.settings.temperature is None


async def test_help_lists_every_binding() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        rows = [row for _, rows in app.help_sections() for row in rows]
        keys = " ".join(key for key, _ in rows)
        for key in ("ctrl+n", "esc", "ctrl+r", "ctrl+e", "ctrl+y", "ctrl+k", "f2", "ctrl+b", "f1", "?", "ctrl+t",
                    "ctrl+q", "ctrl+j", "alt+enter", "shift+enter", "enter", "ctrl+p"):
            assert key in keys, key
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "the help to close")


def test_help_has_every_key_of_the_transcript_picker_and_screens() -> None:
    """Generated from the BINDINGS: each place's keys (own and inherited, e.g. the picker's space and r, the
    transcript's r and scroll keys) are in its section, and tab / shift+tab once, under "Anywhere"."""
    sections = dict(BotticelliApp().help_sections())
    places = {
        "Chat": ChatScreen, "Prompt input": PromptInput, "Transcript (when focused)": ChatLog,
        "Model picker (when focused)": Picker, "Settings (f2)": SettingsScreen,
        "Saved chats (ctrl+o)": SessionBrowser, "Race (ctrl+g)": RaceScreen, "Anywhere": BotticelliApp,
        "Stored races (f5 in the race)": RaceHistoryScreen, "Speed history (f3)": SpeedScreen,
        "Load sweeps (f4)": LoadScreen,
    }
    anywhere = {key_label(key) for key in Screen._merge_bindings().key_to_bindings}
    for title, place in places.items():
        shown = {key for row_keys, _ in sections[title] for key in row_keys.split(" / ")}
        for key, bindings in place._merge_bindings().key_to_bindings.items():
            if any(not b.system and (b.tooltip or b.description) for b in bindings):
                assert key_label(key) in shown | anywhere, f"{title}: {key}"
    assert {"space", "r", "shift+space"} <= {k for keys, _ in sections["Model picker (when focused)"]
                                              for k in keys.split(" / ")}
    assert any(keys == "r" and "reasoning" in text for keys, text in sections["Transcript (when focused)"])
    assert anywhere <= {k for keys, _ in sections["Anywhere"] for k in keys.split(" / ")}
    assert not any("tab" in keys for keys, _ in sections["Chat"])


async def test_ctrl_b_picks_a_model_from_the_current_one() -> None:
    """The start hint says "pick a model with ctrl+b": ctrl+b focuses the shown picker, on the current model;
    pressed again (picker focused) it hides the picker; once more, it comes back."""
    app = BotticelliApp(model="demo-slow")
    async with app.run_test(size=SIZE) as pilot:
        await settle_picker(pilot)
        picker = app.chat.picker
        assert picker.display and app.focused is prompt_of(app)
        await pilot.press("ctrl+b")
        assert picker.display and app.focused is picker
        on_current = lambda: picker.cursor_node is not None and picker.cursor_node.data == PickerEntry(  # noqa: E731
            "demo", "demo-slow")
        await wait_until(pilot, on_current, "the cursor on demo-slow")
        await pilot.press("ctrl+b")
        assert not picker.display and app.focused is prompt_of(app)
        await pilot.press("ctrl+b")
        assert picker.display and app.focused is picker
        await wait_until(pilot, on_current, "the cursor back on demo-slow")


async def test_picker_focused_before_its_models_load_lands_on_the_current_model() -> None:
    app = BotticelliApp(model="demo-reasoning")
    async with app.run_test(size=SIZE) as pilot:
        picker = app.chat.picker
        await pilot.press("ctrl+b")  # right at start: demo's models are still loading
        assert app.focused is picker
        await settle_picker(pilot)
        await wait_until(pilot, lambda: picker.cursor_node is not None and picker.cursor_node.data == PickerEntry(
            "demo", "demo-reasoning"), "the cursor on demo-reasoning")
        await pilot.press("enter")  # keeps the current model
        assert app.chat.target.model == "demo-reasoning"


async def test_palette_switches_model_and_runs_actions() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Use demo · demo-slow")
        hits = lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count  # noqa: E731
        await wait_until(pilot, hits, "palette hits")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat.target.model == "demo-slow", "the switch")
        titles = {command.title for command in app.get_system_commands(app.chat)}
        assert {"New chat", "Stop generation", "Regenerate last answer", "Edit last prompt", "Copy last answer",
                "Copy last code block", "Settings", "Pick a model", "Help", "Theme", "Quit"} <= titles


async def test_clients_are_closed_on_exit() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        client = app.clients.get(app.target.profile)
    assert client._http.is_closed


async def test_a_retry_is_counted_down_in_the_bar_and_the_total_includes_the_wait() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[fault:429 times=1 retry_after=2]] hello", wait=False)
        stats = app.chat.query_one(StatsBar)
        await wait_until(pilot, lambda: stats.state == "retrying", "the retry")
        assert re.search(r"retrying in [\d.]+ s \(attempt 2 of 3\)", stats.render_content().plain)
        await wait_until(pilot, lambda: answer_settled(app), "the answer after the retry")
        exchange = app.chat.exchanges[-1]
        assert exchange.error is None and exchange.figures is not None
        assert (exchange.figures.total_s or 0) >= 2  # from the first attempt, not "total 5ms"
        assert stats.state == "done" and "retrying" not in stats.render_content().plain


async def test_the_bar_fits_one_line_at_120_columns_with_rate_limits() -> None:
    from botticelli.providers.types import RateLimitInfo
    from botticelli.stats import SpeedFigures

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stats = app.chat.query_one(StatsBar)
        stats.set_target("groq·meta-llama/llama-4-maverick-17b-128e-instruct")
        figures = SpeedFigures(ttft_s=0.21, total_s=1.52, completion_tokens=1280, tokens_exact=True,
                               decode_tps=840.0, server_tps=1010.0, queue_s=0.017)
        limits = RateLimitInfo(limit_requests=14400, remaining_requests=14399, reset_requests_s=6.0,
                               limit_tokens=250000, remaining_tokens=249811, reset_tokens_s=1.0)
        stats.finish("done", figures, limits)
        await pilot.pause()
        line = stats.render_content(stats.content_region.width).plain
        assert "\n" not in line and len(line) <= 118
        assert line.startswith("groq·meta-llama/llama-") and "…" in line
        assert "TTFT 210ms" in line and "840 tok/s" in line and "249,811 tokens left, resets in 1 s" in line
        assert stats.size.height == 1
        stats.set_target("groq·llama-3.1-8b-instant")
        line = stats.render_content(stats.content_region.width).plain
        assert line.startswith("groq·llama-3.1-8b") and "requests left" not in line and len(line) <= 118
        assert line.endswith("249,811 tokens left, resets in 1 s")


async def test_an_answer_cut_by_max_tokens_says_so_in_its_footer_and_the_bar() -> None:
    from botticelli.chat.conversation import ChatSettings

    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        app.chat.settings = ChatSettings(max_tokens=5)
        await send(pilot, "[[tokens:60]] [[tps:5000]] a long answer")
        exchange = app.chat.exchanges[-1]
        assert exchange.finish_reason == "length" and exchange.cut
        assert "cut (max tokens or context full)" in (last_message(app).footer or "")
        stats = app.chat.query_one(StatsBar)
        assert stats.state == "done" and "done · cut" in stats.render_content().plain

"""Model text is never markup and never reaches the terminal with control sequences (driven by `[[echo]]`)."""

from __future__ import annotations

from botticelli.tui.app import BotticelliApp
from botticelli.tui.widgets.stats_bar import StatsBar
from faults import write_config

from .app_helpers import last_message, log_of, send, wait_until

SIZE = (120, 40)
LITERALS = ("[INST] hi [/INST]", "x [/", "array[i]", "[bold]not bold[/bold]", "[/]", "[link=http://x]y[/link]")
ESCAPES = (
    "\x1b]52;c;aGk=\x07",  # OSC 52: write the clipboard
    "\x1b[2J",  # CSI: clear the screen
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # C1 CSI
    "\x1b]0;pwned title\x07",  # window title
)


async def test_markup_and_escapes_in_an_answer_render_literally() -> None:
    payload = "[[echo]] " + " ".join(LITERALS) + " " + " ".join(ESCAPES) + " end"
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, payload)
        message = last_message(app)
        assert message is not None and message.error is None
        shown = "\n".join(log_of(app).lines_text())
        for literal in LITERALS:
            assert literal in message.text
            assert literal in shown, literal
        assert "click" in shown and "end" in shown
        for text in (message.text, shown, app.chat.exchanges[-1].answer):
            assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
        assert "aGk=" not in shown and "pwned" not in shown
        assert app.clipboard == ""
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: app.clipboard, "the copy")
        assert "\x1b" not in app.clipboard and "[INST] hi [/INST]" in app.clipboard


async def test_hostile_model_name_is_plain_text_everywhere() -> None:
    # The simulator answers only models it serves: the demo profile declares this one.
    write_config('[profiles.demo]\nmodels = ["demo-fast", "demo-fast[/]"]\n')
    app = BotticelliApp(model="demo-fast[/]")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "demo-fast[/]" in app.chat.query_one(StatsBar).render_content().plain
        await send(pilot, "hello")
        message = last_message(app)
        assert message is not None and message.title == "demo·demo-fast[/]"
        assert (message.footer or "").startswith("demo·demo-fast[/] · ")
        assert any("demo-fast[/]" in line for line in log_of(app).lines_text())


async def test_reasoning_escapes_are_stripped() -> None:
    app = BotticelliApp(model="demo-reasoning")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[[echo]] [[tps:3000]] \x1b[2J[INST]")
        message = last_message(app)
        assert message is not None
        assert "\x1b" not in (message.reasoning or "") and "\x1b" not in message.text
        assert "[INST]" in message.text

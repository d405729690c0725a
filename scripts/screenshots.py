"""Write SVG screenshots of the TUI's main states into `screenshots/` (`make screenshots`).

Runs the app headless against the built-in demo simulator: no network, no keys (any set in the environment
are ignored, so the picker shows the missing-key hints). The session browser shows a few saved sessions with
fixed dates, in UTC; the race uses frozen speed figures. File names are stable, for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

KEY_VARS = ("GROQ_API_KEY", "HF_TOKEN", "HUGGINGFACE_API_KEY", "OPENAI_API_KEY", "TOGETHER_API_KEY",
            "OPENROUTER_API_KEY")
SIZE = (120, 36)
ROOT = Path(__file__).resolve().parent.parent


async def wait_until(pilot: Pilot, condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


async def shoot(name: str, out: Path, steps: Callable[[Pilot], Awaitable[None]]) -> Path:
    from botticelli.tui.app import BotticelliApp
    from botticelli.tui.widgets.prompt_input import PromptInput

    app = BotticelliApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.screen_stack and getattr(app.screen_stack[0], "ready", False), "start")
        app.chat.query_one(PromptInput).cursor_blink = False
        picker = app.chat.picker
        await wait_until(pilot, lambda: picker.model_list("demo") is not None, "the demo models")
        await wait_until(pilot, lambda: not picker.reach_pending, "the keyless servers' check")
        await steps(pilot)
        await pilot.pause()
        path = Path(app.save_screenshot(f"{name}.svg", path=str(out)))
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)
    return path


async def send(pilot: Pilot, text: str, *, wait: bool = True) -> None:
    app = pilot.app
    prompt = app.chat.prompt_input  # type: ignore[attr-defined]
    prompt.load_text(text)
    await pilot.press("enter")
    if wait:
        await wait_until(pilot, lambda: not app.chat.busy and not app.chat.chat_log.streaming, "the answer")  # type: ignore[attr-defined]


async def empty(pilot: Pilot) -> None:
    return None


async def answer(pilot: Pilot) -> None:
    await send(pilot, "How is decode speed measured?")


async def streaming(pilot: Pilot) -> None:
    app = pilot.app
    await send(pilot, "[[tps:40]] [[tokens:600]] Tell me about the simulator", wait=False)
    await wait_until(pilot, lambda: len(app.chat.chat_log.messages) > 1 and  # type: ignore[attr-defined]
                     len(app.chat.chat_log.messages[-1].text) > 400, "some streamed text")  # type: ignore[attr-defined]
    await pilot.pause(0.3)  # let the 10 Hz stats bar show the live rate


async def error(pilot: Pilot) -> None:
    await send(pilot, "[[fault:429 retry_after=31]] Summarise this for me")
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.query("Toast"), "the notification")


async def picker_missing_key(pilot: Pilot) -> None:
    picker = pilot.app.chat.picker  # type: ignore[attr-defined]
    picker._profile_nodes["demo"].collapse()
    groq = picker._profile_nodes["groq"]
    groq.expand()
    await wait_until(pilot, lambda: picker.model_list("groq") is not None, "the groq list")
    picker.focus()  # which puts the cursor on the current model: wait for it, then move
    await wait_until(pilot, lambda: picker.has_focus, "the picker's focus")
    await pilot.pause()
    picker.move_cursor(groq.children[0])
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.screen.query("Toast"), "the missing-key warning")


async def help_screen(pilot: Pilot) -> None:
    await pilot.press("f1")
    await wait_until(pilot, lambda: pilot.app.screen.is_modal, "the help screen")


async def sessions(pilot: Pilot) -> None:
    from botticelli.sessions import SessionStore
    from botticelli.tui.screens.sessions import SessionBrowser
    from botticelli.tui.sessions_demo import seed_sessions

    with SessionStore.open() as store:
        if not store.list_sessions(limit=1):
            seed_sessions(store)
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionBrowser), "the session browser")
    browser = pilot.app.screen
    browser.filter_input.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.press(*"cache")
    await wait_until(pilot, lambda: browser.shown_query == "cache", "the search results")  # type: ignore[attr-defined]


async def race(out: Path) -> Path:
    from botticelli.tui.race_demo import capture_race_screenshot

    path = await capture_race_screenshot(out / "08-race.svg")
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)
    return path


async def speed(pilot: Pilot) -> None:
    from botticelli.history.demo import END, seed_history
    from botticelli.sessions import SessionStore
    from botticelli.tui.screens.speed import SpeedScreen

    with SessionStore.open() as store:
        seed_history(store)
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SpeedScreen), "the speed screen")
    screen = pilot.app.screen
    screen.now = END  # type: ignore[attr-defined]  # the demo week, whatever the date today
    screen.action_reload()  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: screen.history is not None  # type: ignore[attr-defined]
                     and screen.history.window == screen.current_window()  # type: ignore[attr-defined]
                     and not screen.workers, "the speed history")


SHOTS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "01-start": empty,
    "02-answer": answer,
    "03-streaming": streaming,
    "04-error": error,
    "05-picker-missing-key": picker_missing_key,
    "06-help": help_screen,
    "07-sessions": sessions,
    "09-speed": speed,
}
RACE_SHOT = "08-race"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "screenshots", help="output folder")
    parser.add_argument("names", nargs="*", help=f"only these ({', '.join([*SHOTS, RACE_SHOT])})")
    args = parser.parse_args(argv)
    for name in KEY_VARS:
        os.environ.pop(name, None)
    scratch = tempfile.mkdtemp(prefix="botticelli-shots-")
    os.environ["BOTTICELLI_CONFIG_DIR"] = str(Path(scratch) / "config")  # built-in profiles only
    os.environ["BOTTICELLI_DATA_DIR"] = str(Path(scratch) / "data")
    os.environ["TZ"] = "UTC"  # the session browser shows dates in local time
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    unknown = [n for n in args.names if n not in SHOTS and n != RACE_SHOT]
    if unknown:
        parser.error(f"unknown screenshot {', '.join(unknown)}")
    for name, steps in SHOTS.items():
        if not args.names or name in args.names:
            asyncio.run(shoot(name, args.out, steps))
    if not args.names or RACE_SHOT in args.names:
        asyncio.run(race(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the TUI pilot and snapshot tests: wait on conditions (never fixed sleeps), send prompts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from textual.pilot import Pilot

from botticelli.config import Config, Profile, load_config
from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
from botticelli.targets import open_client
from botticelli.tui.app import BotticelliApp
from botticelli.tui.screens.chat import ChatScreen
from botticelli.tui.widgets.chat_log import ChatLog, MessageData
from botticelli.tui.widgets.picker import Picker
from botticelli.tui.widgets.prompt_input import PromptInput

SAFETY_NET_S = 30.0
"""Only a guard against a hung test: conditions are polled, and normally hold long before this."""


async def wait_until(
    pilot: Pilot, condition: Callable[[], object], what: str = "a condition", timeout: float = SAFETY_NET_S
) -> None:
    """Poll `condition` between pauses of the app until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


def chat_ready(app: BotticelliApp) -> bool:
    """The main screen is mounted and wired."""
    stack = app.screen_stack
    return bool(stack) and isinstance(stack[0], ChatScreen) and stack[0].ready


async def when_ready(pilot: Pilot) -> None:
    """Wait for the main screen (snapshot `run_before` hooks start before it is composed)."""
    await wait_until(pilot, lambda: chat_ready(pilot.app), "the chat screen")  # type: ignore[arg-type]


def log_of(app: BotticelliApp) -> ChatLog:
    return app.chat.query_one(ChatLog)


def prompt_of(app: BotticelliApp) -> PromptInput:
    return app.chat.query_one(PromptInput)


def picker_of(app: BotticelliApp) -> Picker:
    return app.chat.query_one(Picker)


def last_message(app: BotticelliApp) -> MessageData | None:
    messages = log_of(app).messages
    return messages[-1] if messages else None


def answer_settled(app: BotticelliApp) -> bool:
    """No answer in flight and the last assistant message fully rendered (footer or error in place)."""
    message = last_message(app)
    if app.chat.busy or message is None or message.role != "assistant":
        return False
    return bool(message.footer or message.error or message.cancelled) and not log_of(app).streaming


async def send(pilot: Pilot, text: str, *, wait: bool = True) -> None:
    """Put `text` in the prompt, press Enter, and (by default) wait until the answer has settled."""
    app = pilot.app
    assert isinstance(app, BotticelliApp)
    prompt = prompt_of(app)
    prompt.focus()
    prompt.load_text(text)
    before = len(app.chat.exchanges)
    await pilot.press("enter")
    if wait:
        await wait_until(pilot, lambda: len(app.chat.exchanges) > before and answer_settled(app), "the answer")


async def settle_picker(pilot: Pilot, profile: str = "demo") -> None:
    """Wait until the picker shows `profile`'s models and whether each keyless server is up."""
    picker = picker_of(pilot.app)  # type: ignore[arg-type]
    await wait_until(pilot, lambda: picker.model_list(profile) is not None, f"{profile}'s models")
    await wait_until(pilot, lambda: not picker.reach_pending, "the keyless servers' check")
    await pilot.pause()


def write_config(config_dir: Path, text: str) -> Config:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return load_config(path)


def failing_models_factory(broken: str) -> Callable[[Profile], OpenAICompatibleClient]:
    """Clients as usual, except that profile `broken` answers every request with HTTP 503."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "down for maintenance", "type": "server_error"}})

    def factory(profile: Profile) -> OpenAICompatibleClient:
        if profile.name != broken:
            return open_client(profile)
        return OpenAICompatibleClient(
            profile.base_url,
            provider=profile.name,
            transport=httpx.MockTransport(handler),
            retry=RetryPolicy(max_retries=0),
        )

    return factory

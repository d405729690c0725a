"""Command palette: every chat action (as system commands) and a provider to switch profile·model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from botticelli.safety import strip_escapes

if TYPE_CHECKING:
    from botticelli.tui.screens.chat import ChatScreen


@dataclass(frozen=True, slots=True)
class PaletteAction:
    """A palette entry for a chat-screen action, with the key that does the same."""

    title: str
    help: str
    action: str
    key: str


CHAT_ACTIONS: tuple[PaletteAction, ...] = (
    PaletteAction("New chat", "Clear the conversation and start again", "new_chat", "ctrl+n"),
    PaletteAction("Stop generation", "Stop the answer now; the part already received is kept", "stop", "esc"),
    PaletteAction("Regenerate last answer", "Ask the current model again for the last prompt", "regenerate",
                  "ctrl+r"),
    PaletteAction("Edit last prompt", "Put the last prompt back in the input and drop its answer", "edit_last",
                  "ctrl+e"),
    PaletteAction("Copy last answer", "Copy the last answer's Markdown to the clipboard", "copy_answer", "ctrl+y"),
    PaletteAction("Copy last code block", "Copy the last fenced code block to the clipboard", "copy_code", "ctrl+k"),
    PaletteAction("Settings", "System prompt, temperature and max tokens", "settings", "f2"),
    PaletteAction("Sessions: open…", "Browse, search, reopen, rename or delete saved chats", "app.open_sessions",
                  "ctrl+o"),
    PaletteAction("Race: compare providers…", "Send one prompt to 2–4 targets and compare their speed",
                  "app.open_race", "ctrl+g"),
    PaletteAction("Speed history…", "TTFT and decode tok/s per target over time, charted", "app.open_speed", "f3"),
    PaletteAction("Load sweeps…", "Throughput against latency per target, from `botticelli load`",
                  "app.open_load", "f4"),
    PaletteAction("Pick a model", "Show and focus the profiles and models pane (again: hide it)", "toggle_picker",
                  "ctrl+b"),
    PaletteAction("Focus input", "Move the cursor to the prompt", "focus_input", "ctrl+l"),
    PaletteAction("Help", "Every key binding", "help", "f1"),
)


def model_title(profile: str, model: str) -> str:
    return f"Use {profile} · {strip_escapes(model)}"


def safe_highlight(matcher: Matcher, text: str) -> Content:
    """`Matcher.highlight` without parsing `text` as markup (model ids may contain `[`)."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if not score:
        return content
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ModelCommands(Provider):
    """`Use groq · llama-3.1-8b-instant`: switch the conversation's target from the palette."""

    def _chat(self) -> ChatScreen | None:
        from botticelli.tui.screens.chat import ChatScreen

        screen = self.screen
        if isinstance(screen, ChatScreen):
            return screen
        for candidate in self.app.screen_stack:
            if isinstance(candidate, ChatScreen):
                return candidate
        return None

    def _targets(self) -> Iterator[tuple[str, str, str]]:
        chat = self._chat()
        if chat is None:
            return
        yield from chat.palette_targets()

    async def discover(self) -> Hits:
        chat = self._chat()
        if chat is None:
            return
        for profile, model, help_text in self._targets():
            yield DiscoveryHit(
                Content(model_title(profile, model)),
                partial(chat.switch_target, profile, model),
                help=escape(help_text),
            )

    async def search(self, query: str) -> Hits:
        chat = self._chat()
        if chat is None:
            return
        matcher = self.matcher(query)
        for profile, model, help_text in self._targets():
            title = model_title(profile, model)
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    safe_highlight(matcher, title),
                    partial(chat.switch_target, profile, model),
                    text=title,
                    help=escape(help_text),
                )

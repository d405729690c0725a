"""The Botticelli TUI: `BotticelliApp` and `run_app`, which `botticelli` (no sub-command) calls."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from botticelli.config import Config, ConfigError, load_config
from botticelli.targets import Target, resolve_target
from botticelli.tui.clients import ClientFactory, ClientPool, ModelCatalog, SteppedMeter, has_key
from botticelli.tui.commands import CHAT_ACTIONS, ModelCommands
from botticelli.tui.screens.chat import ChatScreen
from botticelli.tui.screens.help import INPUT_NOTES, PALETTE_NOTES, PICKER_NOTES, HelpScreen, Section, binding_rows
from botticelli.tui.widgets.prompt_input import PromptInput


class BotticelliApp(App[int]):
    """Chat with any OpenAI-compatible provider, with live speed figures."""

    CSS_PATH = Path(__file__).with_name("botticelli.tcss")  # absolute, so subclasses elsewhere find it too
    TITLE = "Botticelli"
    COMMANDS = App.COMMANDS | {ModelCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Quit Botticelli"),
        Binding("f1", "help", "Help", tooltip="This help: every key"),
        Binding("question_mark", "help", "Help", show=False, tooltip="Help (when the input is not focused)"),
        Binding("ctrl+t", "change_theme", "Theme", tooltip="Choose a colour theme"),
    ]

    def __init__(
        self,
        config: Config | None = None,
        *,
        profile: str | None = None,
        model: str | None = None,
        session: str | None = None,
        client_factory: ClientFactory | None = None,
        deterministic: bool = False,
    ) -> None:
        """`deterministic` freezes timing figures and hides rate-limit counters (snapshots, screenshots)."""
        super().__init__()
        self.config = config if config is not None else load_config()
        self.target: Target = resolve_target(self.config, profile, model)
        self.session_id = session
        self.deterministic = deterministic
        self.clients = ClientPool(client_factory) if client_factory is not None else ClientPool()
        self.catalog = ModelCatalog(self.clients)

    def get_default_screen(self) -> Screen:
        return ChatScreen(
            self.config,
            self.target,
            self.clients,
            self.catalog,
            meter_factory=SteppedMeter if self.deterministic else None,
            show_rate_limits=not self.deterministic,
        )

    @property
    def chat(self) -> ChatScreen:
        """The main screen (wherever the screen stack is)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, ChatScreen)
        return screen

    def on_mount(self) -> None:
        profile = self.target.profile
        if not has_key(profile):
            self.notify(
                f"{profile.name} has no API key: {profile.missing_key_hint()}, or pick another profile (ctrl+b).",
                title="No API key",
                severity="warning",
                timeout=10,
                markup=False,
            )
        if self.session_id:
            self.notify(
                "Reopening saved sessions is not available yet; this is a new chat.",
                title="Sessions",
                severity="warning",
                markup=False,
            )

    async def on_unmount(self) -> None:
        await self.clients.aclose()

    # -- palette and help ------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(chat, ChatScreen):
            return
        for entry in CHAT_ACTIONS:
            yield SystemCommand(
                entry.title, f"{entry.help} ({entry.key})", partial(chat.run_action, entry.action)
            )

    def help_sections(self) -> list[Section]:
        """Every binding, grouped by where it works."""
        return [
            ("Chat", binding_rows(ChatScreen.BINDINGS)),
            ("Anywhere", [*binding_rows(self.BINDINGS), *PALETTE_NOTES]),
            ("Prompt input", [*binding_rows(PromptInput.BINDINGS), *INPUT_NOTES]),
            ("Model picker", list(PICKER_NOTES)),
        ]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        note = (
            "Set GROQ_API_KEY, HF_TOKEN (and others) to unlock real providers; `botticelli profiles` checks them. "
            "Add your own profiles to config.toml (`botticelli config path` shows where)."
        )
        self.push_screen(HelpScreen(self.help_sections(), note))


def run_app(profile: str | None = None, model: str | None = None, session: str | None = None) -> int:
    """Open the TUI; returns the exit code (2 for a configuration problem)."""
    try:
        app = BotticelliApp(profile=profile, model=model, session=session)
    except ConfigError as error:
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    result = app.run()
    return int(result or app.return_code or 0)

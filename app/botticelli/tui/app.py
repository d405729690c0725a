"""The Botticelli TUI: `BotticelliApp` and `run_app`, which `botticelli` (no sub-command) calls."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from botticelli import paths
from botticelli.chat.meters import SteppedMeter
from botticelli.chat.network import NetworkThread
from botticelli.chat.pool import ClientFactory, ClientPool, ModelCatalog
from botticelli.chat.recording import SessionKeeper
from botticelli.clipboard import copy_out
from botticelli.config import Config, ConfigError, has_key, load_config
from botticelli.safety import strip_escapes
from botticelli.targets import Target, resolve_target
from botticelli.tui import APP_CSS
from botticelli.tui.commands import CHAT_ACTIONS, ModelCommands
from botticelli.tui.screens.chat import ChatScreen
from botticelli.tui.screens.help import INPUT_NOTES, PALETTE_ROW, HelpScreen, Section, binding_rows
from botticelli.tui.widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from botticelli.sessions import Session, SessionStoreError
    from botticelli.tui.screens.sessions import SessionBrowser


class BotticelliApp(App[int]):
    """Chat with any OpenAI-compatible provider, with live speed figures."""

    CSS_PATH = APP_CSS  # absolute, so subclasses elsewhere find it too
    TITLE = "Botticelli"
    COMMANDS = App.COMMANDS | {ModelCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Quit Botticelli"),
        Binding("f1", "help", "Help", tooltip="This help: every key"),
        Binding("question_mark", "help", "Help", show=False, tooltip="Help (when the input is not focused)"),
        Binding("ctrl+t", "change_theme", "Theme", tooltip="Choose a colour theme"),
        Binding("f3", "open_speed", "Speed", tooltip="Speed history: every measured answer per target, charted"),
        Binding("f4", "open_load", "Load", tooltip="Load sweeps: throughput against latency per target, charted"),
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
        """`session`: the id (or id prefix) of a saved session to continue. `deterministic` freezes timing
        figures and hides rate-limit counters (snapshots, screenshots)."""
        super().__init__()
        self.config = config if config is not None else load_config()
        self.target: Target = resolve_target(self.config, profile, model)
        self.session_id = session
        self.chosen_target = profile is not None or model is not None
        """`-p`/`-m` were given: a session opened at start-up continues with that target, and says so."""
        self.sessions = SessionKeeper(on_failure=self._store_failed)
        """Saves every chat as a session (the store is opened on first use)."""
        self.deterministic = deterministic
        self.network = NetworkThread()
        """The provider clients live and read on this thread's loop; the UI drains their events per frame."""
        self.clients = ClientPool(client_factory) if client_factory is not None else ClientPool()
        self.catalog = ModelCatalog(self.clients, self.network)

    def get_default_screen(self) -> Screen:
        return ChatScreen(
            self.config,
            self.target,
            self.clients,
            self.catalog,
            network=self.network,
            sessions=self.sessions,
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

    async def on_unmount(self) -> None:
        gc.unfreeze()
        self.network.close(self.clients.aclose)  # stops the turns in flight: they end as cancelled
        self.sessions.close()

    # -- sessions --------------------------------------------------------------------------------------------

    def on_chat_screen_ready(self, message: ChatScreen.Ready) -> None:
        # Everything alive now (modules, Textual, the screen) lives as long as the app: keep it out of the
        # collector's full passes, which otherwise pause the app for tens of ms while scrolling a long chat.
        gc.freeze()
        if self.session_id:
            self.run_worker(self.open_session(self.session_id, keep_target=self.chosen_target),
                            group="open-session", exit_on_error=False)

    # -- clipboard -------------------------------------------------------------------------------------------

    def on_chat_screen_copy_requested(self, message: ChatScreen.CopyRequested) -> None:
        self.copy_to_clipboard(message.text)  # OSC 52: the terminal's clipboard (also over ssh), unconfirmed
        self._copy_out(message.text, message.what)

    @work(thread=True, group="clipboard", exit_on_error=False)
    def _copy_out(self, text: str, what: str) -> None:
        """The system clipboard tool, off the UI thread; the toast says which took the text, or that none did."""
        confirmed, report = copy_out(text, what)
        self.notify(report, title="Copied" if confirmed else "Clipboard", markup=False)

    def _store_failed(self, error: SessionStoreError) -> None:
        """Called once, from the store's thread (`notify` is thread-safe)."""
        self.notify(
            f"{error.one_line()}\nThe chat goes on, but it is not being saved.",
            title="Sessions not saved",
            severity="error",
            timeout=12,
            markup=False,
        )

    @work(group="sessions-browser", exclusive=True, exit_on_error=False)
    async def action_open_sessions(self) -> None:
        """Show the session browser; open the session picked there."""
        from botticelli.tui.screens.sessions import SessionBrowser

        if isinstance(self.screen, SessionBrowser) or not self.chat.ready:
            return
        picked = await self.push_screen_wait(SessionBrowser(self.sessions, self.sessions.session_id))
        if not picked:
            return
        if picked == self.sessions.session_id and self.chat.exchanges:
            self.notify("That session is already open.", markup=False)
            return
        await self.open_session(picked)

    async def open_session(self, session_ref: str, *, keep_target: bool = False) -> bool:
        """Show a saved session (id or unique prefix) and continue it; False (with a notification) if it fails.

        The chat switches to the profile·model the session last used, unless `keep_target` (`-p`/`-m` given
        with `--session`): then the session continues with the current one, and the notice says so."""
        from botticelli.sessions import SessionStoreError

        try:
            loaded = await self.sessions.load(session_ref)
        except SessionStoreError as error:
            self.notify(error.one_line(), title="Could not open the session", severity="error", markup=False)
            return False
        session = loaded.session
        switch = ""
        if keep_target:
            target = None
            used = f"{session.profile}·{session.model}"
            if session.profile and session.model and used != self.chat.target_label:
                switch = f" It used {strip_escapes(used)}; it continues with {self.chat.target_label}."
        else:
            target = self._session_target(session)
        await self.chat.restore(loaded.exchanges, loaded.messages, loaded.settings, target)
        self.sessions.adopt(loaded)
        count = session.message_count
        self.notify(
            f"“{strip_escapes(session.display_title)}”: {count:,} message{'s' if count != 1 else ''}. "
            f"New prompts are added to it.{switch}",
            title="Session opened",
            markup=False,
        )
        return True

    def _session_target(self, session: Session) -> Target | None:
        """The profile·model the session last used, if it can still be used (else None, with a notification)."""
        if not session.profile or not session.model:
            return None
        name, model = session.profile, strip_escapes(session.model)
        keep = f"keeping {self.chat.target_label}"
        profile = self.config.profiles.get(name)
        if profile is None:
            self.notify(f"This session used profile {name}, which is not configured any more; {keep}.",
                        title="Session opened", severity="warning", markup=False)
            return None
        listed = self.chat.catalog.cached(profile)
        if listed is not None and listed.live and model not in listed.models:
            self.notify(f"{name} no longer lists the model {model}; {keep}.", title="Session opened",
                        severity="warning", markup=False)
            return None
        if not has_key(profile):
            self.notify(f"This session used {name}, which needs a key: {profile.missing_key_hint()}; {keep}.",
                        title="Session opened", severity="warning", markup=False)
            return None
        return Target(profile, model)

    async def on_session_browser_deleted(self, message: SessionBrowser.Deleted) -> None:
        if message.session_id == self.sessions.session_id:
            await self.chat.action_new_chat()  # the chat on screen no longer has a session to be saved in
            self.notify("The open session was deleted: this is a new chat.", markup=False)

    # -- race ------------------------------------------------------------------------------------------------

    def action_open_race(self) -> None:
        """Open the race screen with the current target chosen and the prompt being typed (or the last one)."""
        from botticelli.tui.screens.race import DEFAULT_TARGETS, RaceScreen, open_race

        if isinstance(self.screen, RaceScreen) or not self.chat.ready:
            return
        chat = self.chat
        current = chat.target
        targets = None if current.label in DEFAULT_TARGETS else [current]
        prompt = chat.prompt_input.text.strip() or (chat.exchanges[-1].prompt if chat.exchanges else None)
        open_race(self, targets, prompt)

    # -- speed history ---------------------------------------------------------------------------------------

    def action_open_speed(self) -> None:
        """Open the Speed screen (speed history per target, with charts)."""
        from botticelli.tui.screens.speed import SpeedScreen

        if not isinstance(self.screen, SpeedScreen):
            self.push_screen(SpeedScreen(config=self.config))

    # -- load sweeps ------------------------------------------------------------------------------------------

    def action_open_load(self) -> None:
        """Open the Load screen (stored `botticelli load` sweeps, charted)."""
        from botticelli.tui.screens.load import LoadScreen

        if not isinstance(self.screen, LoadScreen):
            self.push_screen(LoadScreen())

    # -- palette and help ------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # Textual's saves to ~/Downloads only, and fails where there is none
                yield command
        yield SystemCommand(
            "Screenshot",
            "Save an SVG of the screen (in Downloads, else the data folder's screenshots/)",
            lambda: self.set_timer(0.1, self.action_screenshot),  # once the palette has closed
        )
        chat = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(chat, ChatScreen):
            return
        for entry in CHAT_ACTIONS:
            yield SystemCommand(
                entry.title, f"{entry.help} ({entry.key})", partial(chat.run_action, entry.action)
            )

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen (see `paths.screenshot_folders`) and say where it went."""
        try:
            saved = paths.save_screenshot(
                self.export_screenshot(), [Path(path)] if path else None, filename
            )
        except OSError as error:
            self.notify(f"Could not save the screenshot: {error}", title="Screenshot", severity="error",
                        markup=False)
            return
        self.notify(f"Saved in {saved}", title="Screenshot", markup=False)

    def help_sections(self) -> list[Section]:
        """Every key, grouped by where it works, generated from the BINDINGS (so the help cannot drift)."""
        from botticelli.tui.screens.load import LoadScreen
        from botticelli.tui.screens.race import RaceScreen
        from botticelli.tui.screens.race_history import RaceHistoryScreen
        from botticelli.tui.screens.sessions import SessionBrowser
        from botticelli.tui.screens.settings import SettingsScreen
        from botticelli.tui.screens.speed import SpeedScreen
        from botticelli.tui.widgets.chat_log import ChatLog
        from botticelli.tui.widgets.picker import Picker

        anywhere = set(Screen._merge_bindings().key_to_bindings)  # tab, shift+tab, copy the selected text
        return [
            ("Chat", binding_rows(ChatScreen, skip=anywhere)),
            ("Anywhere", [*binding_rows(type(self)), (self.COMMAND_PALETTE_BINDING, PALETTE_ROW),
                          *binding_rows(Screen)]),
            ("Prompt input", [*binding_rows(PromptInput), *INPUT_NOTES]),
            ("Transcript (when focused)", binding_rows(ChatLog)),
            ("Model picker (when focused)", binding_rows(Picker)),
            ("Settings (f2)", binding_rows(SettingsScreen, skip=anywhere)),
            ("Saved chats (ctrl+o)", binding_rows(SessionBrowser, skip=anywhere)),
            ("Race (ctrl+g)", binding_rows(RaceScreen, skip=anywhere)),
            ("Stored races (f5 in the race)", binding_rows(RaceHistoryScreen, skip=anywhere)),
            ("Speed history (f3)", binding_rows(SpeedScreen, skip=anywhere)),
            ("Load sweeps (f4)", binding_rows(LoadScreen, skip=anywhere)),
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
    """Open the TUI; returns the exit code (2 for a configuration problem or an unknown session)."""
    try:
        app = BotticelliApp(profile=profile, model=model, session=session)
    except ConfigError as error:
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    if session:
        from botticelli.sessions import SessionStore, SessionStoreError

        try:
            with SessionStore.open() as store:
                app.session_id = store.resolve(session)
        except SessionStoreError as error:
            print(error.one_line(), file=sys.stderr)
            return error.exit_code
    result = app.run()
    return int(result or app.return_code or 0)

"""The main screen: picker, transcript, prompt and stats bar; sends prompts and streams answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from botticelli.chat import events as ev
from botticelli.chat.conversation import ChatSettings, Conversation, Exchange
from botticelli.chat.network import NetworkThread, TurnFeed
from botticelli.chat.pool import ClientPool, ModelCatalog
from botticelli.chat.recording import SessionKeeper, TranscriptEntry, answer_footer
from botticelli.chat.turn import Turn
from botticelli.config import Config, has_key
from botticelli.providers.errors import ProviderError
from botticelli.safety import EscapeStripper, strip_escapes
from botticelli.stats import SpeedMeter
from botticelli.targets import Target
from botticelli.tui.deferred import after_first_frame
from botticelli.tui.messages import AnswerFinished, PromptSent
from botticelli.tui.screens.settings import SettingsScreen
from botticelli.tui.widgets.chat_log import ChatLog, MessageData, StreamingMessage
from botticelli.tui.widgets.footer import CoalescingFooter
from botticelli.tui.widgets.picker import Picker
from botticelli.tui.widgets.prompt_input import PromptInput
from botticelli.tui.widgets.stats_bar import StatsBar

log = logging.getLogger("botticelli.tui")

PICKER_MIN_WIDTH = 100
"""Narrower terminals start with the picker hidden (ctrl+b shows it), leaving the width to the chat."""
MeterFactory = Callable[[], SpeedMeter]
PROMPT_SUBTITLE = "enter send · ctrl+j newline · ↑ last prompt"
EDIT_SUBTITLE = "editing the last prompt: enter replaces it · esc leaves it as it was"


def short_notice(text: str, limit: int = 90) -> str:
    """The first line cut to `limit` characters, then what to do (the full text is in the chat)."""
    lines = text.splitlines() or [""]
    first = lines[0] if len(lines[0]) <= limit else lines[0][: limit - 1] + "…"
    return "\n".join([first, *lines[1:2]])


def key_hint(config: Config, limit: int = 2) -> str:
    """`GROQ_API_KEY or HF_TOKEN`: the first variables that unlock real providers."""
    names: list[str] = []
    for profile in config.profiles.values():
        if profile.api_key_env and profile.api_key_env[0] not in names:
            names.append(profile.api_key_env[0])
    return " or ".join(names[:limit])


class ChatScreen(Screen[None]):
    """Chat with one profile·model at a time; switch mid-chat from the picker or the palette."""

    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_chat", "New", tooltip="Start a new chat"),
        Binding("escape", "stop", "Stop", tooltip="Stop the answer (part kept), or leave an edit"),
        Binding("ctrl+r", "regenerate", "Regenerate", tooltip="Ask again for the last prompt"),
        Binding("ctrl+e", "edit_last", "Edit", tooltip="Edit the last prompt; sending it replaces it"),
        Binding("ctrl+y", "copy_answer", "Copy", tooltip="Copy the last answer"),
        Binding("ctrl+k", "copy_code", "Code", tooltip="Copy the last code block"),
        Binding("f2", "settings", "Settings", tooltip="System prompt, temperature, max tokens"),
        Binding("ctrl+b", "toggle_picker", "Models", tooltip="Pick a model (again: hide the picker)"),
        # Not in the footer, which is full at 120 columns: the welcome text, f1 and the palette show them.
        Binding("ctrl+o", "app.open_sessions", "Sessions", show=False, tooltip="Saved chats: open, search"),
        Binding("ctrl+g", "app.open_race", "Race", show=False, tooltip="Race providers on one prompt"),
        Binding("ctrl+l", "focus_input", "Input", show=False, tooltip="Focus the prompt input"),
    ]

    class Ready(Message):
        """The screen is mounted and wired: a saved session can be shown in it now."""

    class CopyRequested(Message):
        """Copy `text` to the clipboard; `what` names it in the report (`the last answer (12 characters)`)."""

        def __init__(self, text: str, what: str) -> None:
            super().__init__()
            self.text = text
            self.what = what

    def __init__(
        self,
        config: Config,
        target: Target,
        clients: ClientPool,
        catalog: ModelCatalog,
        *,
        network: NetworkThread | None = None,
        sessions: SessionKeeper | None = None,
        meter_factory: MeterFactory | None = None,
        show_rate_limits: bool = True,
    ) -> None:
        """`network`: where the turns run (a thread of the screen's own when None); `sessions`: where the chat
        is recorded (not recorded when None)."""
        super().__init__()
        self.config = config
        self.target = target
        self.clients = clients
        self.catalog = catalog
        self.network = network if network is not None else NetworkThread()
        self.sessions = sessions
        self.meter_factory = meter_factory
        self.show_rate_limits = show_rate_limits
        self.conversation = Conversation()
        self._feed: TurnFeed | None = None
        self._turn_done: asyncio.Event | None = None
        self._drain_pending = False
        self._answer: _Answer | None = None
        self._draft = ""
        """What the input held when an edit began (put back if the edit is abandoned)."""
        self.editing: Exchange | None = None
        """The exchange whose prompt is being edited (ctrl+e): it is replaced only when the edit is sent."""
        self.ready = False
        """True once mounted and wired (tests and scripts wait for it)."""

    @property
    def exchanges(self) -> list[Exchange]:
        """The conversation's exchanges, oldest first."""
        return self.conversation.exchanges

    @property
    def settings(self) -> ChatSettings:
        """This conversation's settings (F2); a new chat starts with the defaults."""
        return self.conversation.settings

    @settings.setter
    def settings(self, settings: ChatSettings) -> None:
        self.conversation.settings = settings

    # -- layout --------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Picker(
                self.config.profiles.values(),
                self.catalog.models,
                current=(self.target.profile.name, self.target.model),
                id="picker",
            )
            with Vertical(id="conversation"):
                yield Static(self._hint_content(), id="hint", markup=False)
                yield Static(self._welcome_content(), id="welcome", markup=False)
                yield ChatLog(id="chat-log")
                yield PromptInput(id="prompt")
        yield StatsBar(id="stats")
        yield CoalescingFooter(compact=True)

    def on_mount(self) -> None:
        self.chat_log = self.query_one(ChatLog)
        self.prompt_input = self.query_one(PromptInput)
        self.stats_bar = self.query_one(StatsBar)
        self.picker = self.query_one(Picker)
        self.hint = self.query_one("#hint", Static)
        if not self.show_rate_limits:
            self.stats_bar.show_rate_limits = False
        self.prompt_input.border_title = "Prompt"
        self.prompt_input.border_subtitle = PROMPT_SUBTITLE
        self.welcome = self.query_one("#welcome", Static)
        self._show_target()
        self._sync_welcome()
        self.picker.display = self.app.size.width >= PICKER_MIN_WIDTH
        self.prompt_input.focus()
        self.ready = True
        self.post_message(self.Ready())
        after_first_frame(self, self._warm_up)

    def _warm_up(self) -> None:
        """Before the first answer: start the network thread and import what rendering an answer needs.

        An import holds the interpreter's lock without letting other threads in; made while the first answer
        streams, it would hold back the network thread's timestamps and flatter the first answer's speed."""
        _ = self.network.loop
        import markdown_it  # noqa: F401  (the Markdown parser of the transcript)
        import rich.markdown  # noqa: F401

    def _welcome_content(self) -> Content:
        rows = (
            ("enter", "send", "ctrl+j", "newline (also alt+enter)"),
            ("esc", "stop the answer", "ctrl+r", "regenerate"),
            ("ctrl+e", "edit the last prompt", "ctrl+y", "copy the last answer"),
            ("ctrl+b", "models", "f2", "system prompt, parameters"),
            ("ctrl+o", "saved chats", "ctrl+g", "race providers"),
            ("ctrl+p", "every command", "f1", "every key"),
        )
        pieces: list[tuple[str, str] | str] = [
            ("Botticelli", "bold $accent"),
            " — chat with fast OpenAI-compatible providers and see how fast they really are.\n\n",
        ]
        for key1, what1, key2, what2 in rows:
            pieces.extend([(f"{key1:>8}", "bold"), f"  {what1:<24}", (f"{key2:>8}", "bold"), f"  {what2}\n"])
        if self.target.profile.simulated:
            pieces.extend([
                "\nThe demo understands directives: ",
                ("[[tps:60]]", "bold"), " a slow provider, ",
                ("[[echo]]", "bold"), " your own text back, ",
                ("[[fault:429]]", "bold"), " a rate limit.",
            ])
        return Content.assemble(*pieces)

    def _sync_welcome(self) -> None:
        empty = not self.exchanges and not self.chat_log.messages
        self.welcome.display = empty
        self.chat_log.display = not empty

    def _hint_content(self) -> Content:
        profile = self.target.profile
        if profile.simulated:
            return Content.assemble(
                (profile.name, "bold"),
                ": the built-in simulator, canned answers. Set ",
                (key_hint(self.config), "bold"),
                " for real providers (f1 lists all), then pick a model with ctrl+b.",
            )
        if not has_key(profile):
            return Content.assemble(
                (profile.name, "bold"), " has no API key: ", (profile.missing_key_hint(), "bold"),
                ", or pick another profile with ctrl+b.",
            )
        return Content("")

    def _show_target(self) -> None:
        self.stats_bar.set_target(self.target_label)
        self.hint.update(self._hint_content())
        self.welcome.update(self._welcome_content())
        self.hint.display = self.target.profile.simulated or not has_key(self.target.profile)
        self.hint.set_class(not self.target.profile.simulated, "-warning")
        self.sub_title = self.target_label

    @property
    def target_label(self) -> str:
        return f"{self.target.profile.name}·{self.target.model}"

    # -- state ---------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while an answer is being requested or streamed (until its end has been shown)."""
        return self._feed is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.busy or self.editing is not None else None
        return True

    # -- sending -------------------------------------------------------------------------------------------

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        if self.busy:
            self.notify("An answer is still streaming: press esc to stop it first.", severity="warning",
                        markup=False)
            return
        text = event.text
        self.prompt_input.remember(text)
        self.prompt_input.consume(text)
        if self.editing is not None:
            self._replace_edited()
        self.ask(text)

    def on_prompt_input_rejected(self, event: PromptInput.Rejected) -> None:
        event.stop()
        self.notify("Nothing to send: type a prompt first.", severity="warning", markup=False)

    def ask(self, prompt: str, *, show_prompt: bool = True) -> Exchange:
        """Send `prompt` to the current target (showing it as a user message unless it already is)."""
        exchange = Exchange(prompt, self.target.profile.name, self.target.model)
        self.welcome.display, self.chat_log.display = False, True
        if show_prompt:
            self.chat_log.add_message("user", strip_escapes(prompt))
        self.exchanges.append(exchange)
        recording = None
        if self.sessions is not None:
            self.sessions.prompt_sent(exchange, self.settings)
            recording = self.sessions.recording_for(exchange)
        self.post_message(PromptSent(exchange))
        profile = self.target.profile
        turn = Turn(
            lambda: self.clients.get(profile),
            self.conversation.request(exchange),
            profile=profile.name,
            meter=self.meter_factory() if self.meter_factory is not None else None,
            recording=recording,
        )
        self._start(exchange, turn)
        return exchange

    # -- an answer in flight: the turn runs on the network thread; its events are drained here ---------------

    def _start(self, exchange: Exchange, turn: Turn) -> None:
        self._answer = _Answer(exchange, self.chat_log.start_assistant(title=exchange.label))
        self._turn_done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def wake() -> None:  # on the network thread: schedule one drain, however many events are waiting
            if not self._drain_pending:
                self._drain_pending = True
                loop.call_soon_threadsafe(self._drain)

        self._feed = self.network.start_turn(turn, wake)
        self.refresh_bindings()

    def _drain(self) -> None:
        """Show every event that arrived since the last drain (runs on the UI's loop)."""
        self._drain_pending = False
        feed, answer = self._feed, self._answer
        if feed is None or answer is None:
            return
        for event in feed.drain():
            kind = type(event)
            if kind is ev.ContentDelta:
                if text := answer.content.feed(event.text):  # type: ignore[union-attr]
                    answer.message.append(text)
            elif kind is ev.ReasoningDelta:
                if text := answer.reasoning.feed(event.text):  # type: ignore[union-attr]
                    answer.message.append_reasoning(text)
            elif kind is ev.Figures:
                self.stats_bar.show_figures(event.figures, event.rate_limit)  # type: ignore[union-attr]
            elif kind is ev.RetryScheduled:
                self.stats_bar.retrying(event.wait_s, event.attempt, event.of, event.at)  # type: ignore[union-attr]
            elif kind is ev.Started:
                self.stats_bar.started(event.at)  # type: ignore[union-attr]
            elif kind is ev.Finished:
                self._finish(answer, event)  # type: ignore[arg-type]
            elif kind is ev.Failed:
                self._fail(answer, event)  # type: ignore[arg-type]

    def _finish(self, answer: _Answer, event: ev.Finished) -> None:
        exchange = answer.exchange
        self._take(exchange, event.text, event.reasoning, event.figures, event.rate_limit)
        exchange.finish_reason = event.finish_reason
        if event.finish_reason == "cancelled":
            exchange.cancelled = True
            answer.message.finish(footer=answer_footer(exchange), cancelled=True)
            self.stats_bar.finish("cancelled", exchange.figures, event.rate_limit)
        else:
            answer.message.finish(footer=answer_footer(exchange))
            self.stats_bar.finish("done", exchange.figures, event.rate_limit, detail="cut" if event.cut else "")
        self._ended(exchange)

    def _fail(self, answer: _Answer, event: ev.Failed) -> None:
        exchange, error = answer.exchange, event.error
        self._take(exchange, event.text, event.reasoning, event.figures, event.rate_limit)
        provider_error = error.exc if isinstance(error.exc, ProviderError) else None
        exchange.error, exchange.error_kind, exchange.error_text = provider_error, error.kind, error.shown
        exchange.finish_reason = "error"
        footer = answer_footer(exchange) if exchange.answer else None
        answer.message.finish(footer=footer, error=error.shown)
        self.stats_bar.finish("error", exchange.figures, event.rate_limit, detail=error.kind.replace("_", " "))
        if not (exchange.answer or exchange.reasoning):
            self._restore_prompt(exchange.prompt)
        title = f"{exchange.profile}: request failed" if provider_error is None else f"{exchange.profile}: {error.kind}"
        self.notify(short_notice(error.shown), title=title.replace("_", " "), severity="error", timeout=8,
                    markup=False)
        self._ended(exchange)

    @staticmethod
    def _take(exchange: Exchange, text: str, reasoning: str, figures: object, rate_limit: object) -> None:
        """Copy what the turn delivered (also a partial answer) into the exchange."""
        exchange.answer = strip_escapes(text)
        exchange.reasoning = strip_escapes(reasoning)
        exchange.figures = figures  # type: ignore[assignment]
        exchange.rate_limit = rate_limit  # type: ignore[assignment]

    def _ended(self, exchange: Exchange) -> None:
        exchange.answered_at = datetime.now(UTC)
        self._feed = None
        if self._turn_done is not None:
            self._turn_done.set()
        self.refresh_bindings()  # esc (stop) is only enabled while an answer is in flight
        self.post_message(AnswerFinished(exchange))

    def _restore_prompt(self, prompt: str) -> None:
        """Put a prompt that got no answer back into the input, unless the user is already typing another."""
        if not self.prompt_input.text.strip():
            self.prompt_input.set_prompt(prompt)
        else:
            self.notify("Your prompt is in the history: press ↑ in an empty input.", markup=False)

    # -- actions -------------------------------------------------------------------------------------------

    async def _stop_and_wait(self) -> None:
        feed, done = self._feed, self._turn_done
        if feed is None or done is None:
            return
        feed.stop()
        await done.wait()

    def action_stop(self) -> None:
        """Stop the answer now (what arrived stays, marked cancelled, with its figures), or leave an edit."""
        if self._feed is not None:
            self._feed.stop()
        elif self.editing is not None:
            self._leave_edit(restore_input=True)

    async def action_new_chat(self) -> None:
        """Clear the conversation; the target stays, the settings go back to the defaults."""
        await self._stop_and_wait()
        self._leave_edit()
        self.conversation = Conversation()
        self.chat_log.clear()
        self._sync_welcome()
        self.stats_bar.reset()
        if self.sessions is not None:
            self.sessions.cleared()
        self.prompt_input.focus()

    async def action_regenerate(self) -> None:
        """Ask the current target again for the last prompt, replacing the last answer."""
        if not self.exchanges:
            self.notify("Nothing to regenerate yet.", severity="warning", markup=False)
            return
        await self._stop_and_wait()
        self._leave_edit()
        last = self._drop_last(1)
        if self.prompt_input.text == last.prompt:  # restored after an error: it is being sent again now
            self.prompt_input.clear()
        self.ask(last.prompt, show_prompt=False)

    async def action_edit_last(self) -> None:
        """Put the last prompt in the input to edit; nothing is removed until the edited prompt is sent."""
        if not self.exchanges:
            self.notify("No prompt to edit yet.", severity="warning", markup=False)
            return
        await self._stop_and_wait()
        self.editing = self.exchanges[-1]
        self._draft = self.prompt_input.text
        self.prompt_input.set_prompt(self.editing.prompt)
        self.prompt_input.border_subtitle = EDIT_SUBTITLE
        self.prompt_input.focus()
        self.refresh_bindings()

    def _replace_edited(self) -> None:
        """The edited prompt is being sent: the exchange it replaces leaves the transcript and the session."""
        editing = self.editing
        self._leave_edit()
        if editing is not None and self.exchanges and self.exchanges[-1] is editing:
            self._drop_last(2)
            self._sync_welcome()

    def _leave_edit(self, *, restore_input: bool = False) -> None:
        if self.editing is None:
            return
        self.editing = None
        self.prompt_input.border_subtitle = PROMPT_SUBTITLE
        if restore_input:
            self.prompt_input.set_prompt(self._draft)
            self.notify("Edit abandoned: the conversation is as it was.", markup=False)
        self.refresh_bindings()

    def _drop_last(self, log_messages: int) -> Exchange:
        """Take the last exchange out of the conversation, the transcript and the session."""
        last = self.exchanges.pop()
        if self.sessions is not None:
            self.sessions.dropped(last)
        self._drop_log_messages(log_messages)
        return last

    async def restore(
        self,
        exchanges: list[Exchange],
        messages: list[TranscriptEntry],
        settings: ChatSettings,
        target: Target | None = None,
    ) -> None:
        """Show a saved conversation and continue it: its exchanges, transcript, settings and (if given) target."""
        await self._stop_and_wait()
        self._leave_edit()
        self.conversation = Conversation(settings, exchanges)
        self.chat_log.set_messages([_message_data(entry) for entry in messages])
        self._sync_welcome()
        self.stats_bar.reset()
        if target is not None and target != self.target:
            self.target = target
            self.picker.set_current(target.profile.name, target.model)
            self._show_target()
        self.prompt_input.focus()

    def _drop_log_messages(self, count: int) -> None:
        messages = self.chat_log.messages
        self.chat_log.set_messages(messages[: max(0, len(messages) - count)])

    def action_copy_answer(self) -> None:
        answer = next((e.answer for e in reversed(self.exchanges) if e.answer), "")
        if not answer:
            self.notify("No answer to copy yet.", severity="warning", markup=False)
            return
        self.post_message(self.CopyRequested(answer, f"the last answer ({len(answer):,} characters)"))

    def action_copy_code(self) -> None:
        code = self.chat_log.last_code_block()
        if code is None:
            self.notify("No code block in the conversation yet.", severity="warning", markup=False)
            return
        lines = code.count("\n") + 1
        self.post_message(self.CopyRequested(code, f"the last code block ({lines} line{'s' if lines != 1 else ''})"))

    def action_settings(self) -> None:
        self.app.push_screen(SettingsScreen(self.settings), callback=self._apply_settings)

    def _apply_settings(self, settings: ChatSettings | None) -> None:
        if settings is None:
            return
        self.settings = settings
        self.notify(f"Settings for this chat: {settings.describe()}.", markup=False)

    def action_toggle_picker(self) -> None:
        """Show the picker and focus it (its cursor on the current model); hide it when it already has focus."""
        picker = self.picker
        if picker.display and picker.has_focus:
            picker.display = False
            self.prompt_input.focus()
        else:
            picker.display = True
            picker.focus()

    def action_focus_input(self) -> None:
        self.prompt_input.focus()

    # -- switching target ----------------------------------------------------------------------------------

    def on_picker_model_chosen(self, event: Picker.ModelChosen) -> None:
        event.stop()
        self.switch_target(event.profile, event.model)
        self.prompt_input.focus()

    def on_picker_profile_locked(self, event: Picker.ProfileLocked) -> None:
        event.stop()
        self.notify(f"{event.profile} needs a key: {event.hint}.", title="No API key", severity="warning",
                    markup=False)

    def switch_target(self, profile_name: str, model: str) -> None:
        """Talk to `profile_name`·`model` from the next answer on (the conversation so far is kept)."""
        profile = self.config.profiles.get(profile_name)
        if profile is None:
            self.notify(f"Unknown profile {profile_name}.", severity="error", markup=False)
            return
        if not has_key(profile):
            self.notify(f"{profile_name} needs a key: {profile.missing_key_hint()}.", title="No API key",
                        severity="warning", markup=False)
            return
        self.target = Target(profile, model)
        self.picker.set_current(profile_name, model)
        self._show_target()
        self.notify(f"Now talking to {strip_escapes(self.target_label)}.", markup=False)

    def palette_targets(self) -> Iterator[tuple[str, str, str]]:
        """(profile, model, help) for every model the palette can switch to."""
        for profile in self.config.profiles.values():
            listed = self.catalog.cached(profile)
            models = listed.models if listed is not None else self.catalog.fallback(profile).models
            ready = has_key(profile)
            for model in models:
                if (profile.name, model) == (self.target.profile.name, self.target.model):
                    help_text = "current"
                elif ready:
                    help_text = profile.description or profile.name
                else:
                    help_text = f"needs a key: {profile.missing_key_hint()}"
                yield profile.name, model, help_text


class _Answer:
    """The answer being shown: its exchange, its transcript entry and the escape filters of its two streams."""

    __slots__ = ("content", "exchange", "message", "reasoning")

    def __init__(self, exchange: Exchange, message: StreamingMessage) -> None:
        self.exchange = exchange
        self.message = message
        self.content = EscapeStripper()
        self.reasoning = EscapeStripper()


def _message_data(entry: TranscriptEntry) -> MessageData:
    return MessageData(entry.role, entry.text, title=entry.title, footer=entry.footer, reasoning=entry.reasoning,
                       error=entry.error, cancelled=entry.cancelled)

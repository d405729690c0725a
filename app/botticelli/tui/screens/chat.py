"""The main screen: picker, transcript, prompt and stats bar; sends prompts and streams answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerCancelled, WorkerState

from botticelli.config import Config, ConfigError, Profile
from botticelli.providers.errors import ProviderError
from botticelli.providers.ratelimit import say_duration
from botticelli.providers.types import ChatMessage, ChatRequest, ContentDelta, ReasoningDelta
from botticelli.safety import EscapeStripper, strip_escapes
from botticelli.stats import SpeedMeter, summary_line
from botticelli.targets import Target
from botticelli.tui.clients import ClientPool, ModelCatalog, has_key
from botticelli.tui.messages import (
    CHECKPOINT_S,
    AnswerFinished,
    AnswerProgress,
    ConversationCleared,
    Exchange,
    ExchangeDropped,
    PromptSent,
)
from botticelli.tui.screens.settings import ChatSettings, SettingsScreen
from botticelli.tui.widgets.chat_log import ChatLog, MessageData, StreamingMessage
from botticelli.tui.widgets.footer import CoalescingFooter
from botticelli.tui.widgets.picker import Picker
from botticelli.tui.widgets.prompt_input import PromptInput
from botticelli.tui.widgets.stats_bar import StatsBar

if TYPE_CHECKING:
    from botticelli.providers.client import ChatStream

log = logging.getLogger("botticelli.tui")

ANSWER_GROUP = "answer"
PICKER_MIN_WIDTH = 100
"""Narrower terminals start with the picker hidden (ctrl+b shows it), leaving the width to the chat."""
MeterFactory = Callable[[], SpeedMeter]


def error_text(error: ProviderError) -> str:
    """The inline error block: what happened, then what to do (and how long to wait when rate limited)."""
    lines = [strip_escapes(error.summary())]
    hint = strip_escapes(error.hint)
    if error.retry_after_s is not None and (wait := say_duration(error.retry_after_s)) not in hint:
        hint = f"{hint} (retry in {wait})"
    lines.append(hint)
    return "\n".join(lines)


def short_notice(text: str, limit: int = 90) -> str:
    """The first line cut to `limit` characters, then what to do (the full text is in the chat)."""
    lines = text.splitlines() or [""]
    first = lines[0] if len(lines[0]) <= limit else lines[0][: limit - 1] + "…"
    return "\n".join([first, *lines[1:2]])


def answer_footer(exchange: Exchange) -> str:
    """`demo·demo-fast · TTFT 210ms · 840 tok/s · 128 tok · server 1,010 tok/s · …`."""
    if exchange.figures is None:
        return exchange.label
    return f"{exchange.label} · {summary_line(exchange.figures)}"


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
        Binding("escape", "stop", "Stop", tooltip="Stop the answer (the part received is kept)"),
        Binding("ctrl+r", "regenerate", "Regenerate", tooltip="Ask again for the last prompt"),
        Binding("ctrl+e", "edit_last", "Edit", tooltip="Edit the last prompt and resend"),
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
        meter_factory: MeterFactory | None = None,
        show_rate_limits: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.target = target
        self.clients = clients
        self.catalog = catalog
        self.meter_factory = meter_factory
        self.show_rate_limits = show_rate_limits
        self.settings = ChatSettings()
        self.exchanges: list[Exchange] = []
        self._worker: Worker[None] | None = None
        self.ready = False
        """True once mounted and wired (tests and scripts wait for it)."""

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
        self.prompt_input.border_subtitle = "enter send · ctrl+j newline · ↑ last prompt"
        self.welcome = self.query_one("#welcome", Static)
        self._show_target()
        self._sync_welcome()
        self.picker.display = self.app.size.width >= PICKER_MIN_WIDTH
        self.prompt_input.focus()
        self.ready = True
        self.post_message(self.Ready())

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
        """True while an answer is being requested or streamed."""
        worker = self._worker
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.busy else None
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
        self.post_message(PromptSent(exchange))
        self._worker = self._answer(exchange, self.target.profile, self._request(exchange))
        self.refresh_bindings()
        return exchange

    def _request(self, exchange: Exchange) -> ChatRequest:
        messages: list[ChatMessage] = []
        if self.settings.system_prompt:
            messages.append(ChatMessage("system", self.settings.system_prompt))
        for earlier in self.exchanges:
            if earlier is exchange:
                break
            messages.extend(earlier.wire())
        messages.append(ChatMessage("user", exchange.prompt))
        return ChatRequest(
            exchange.model,
            messages,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
        )

    @work(group=ANSWER_GROUP, exclusive=True, exit_on_error=False)
    async def _answer(self, exchange: Exchange, profile: Profile, request: ChatRequest) -> None:
        """Stream one answer into the transcript. Never raises: every failure is shown where the answer goes."""
        message = self.chat_log.start_assistant(title=exchange.label)
        content_filter, reasoning_filter = EscapeStripper(), EscapeStripper()
        stream: ChatStream | None = None
        try:
            client = self.clients.get(profile)
            meter = self.meter_factory() if self.meter_factory is not None else None
            stream = client.stream(request, meter=meter)
            self.stats_bar.track(stream)
            report_at = time.monotonic() + CHECKPOINT_S
            async with stream:
                async for event in stream:
                    if isinstance(event, ContentDelta):
                        if text := content_filter.feed(event.text):
                            message.append(text)
                    elif isinstance(event, ReasoningDelta) and (text := reasoning_filter.feed(event.text)):
                        message.append_reasoning(text)
                    if (now := time.monotonic()) >= report_at:  # lets the session store checkpoint the answer
                        report_at = now + CHECKPOINT_S
                        self.post_message(AnswerProgress(exchange, stream.text, stream.reasoning))
            self._record(exchange, stream)
            exchange.finish_reason = stream.finish_reason
            message.finish(footer=answer_footer(exchange))
            self.stats_bar.finish("done", exchange.figures, stream.rate_limit)
        except asyncio.CancelledError:
            self._record(exchange, stream)
            exchange.cancelled = True
            message.finish(footer=answer_footer(exchange), cancelled=True)
            self.stats_bar.finish("cancelled", exchange.figures)
            self._finished(exchange)
            raise
        except ProviderError as error:
            self._failed(exchange, stream, message, error, error_text(error), error.kind)
        except ConfigError as error:
            self._failed(exchange, stream, message, None, strip_escapes(error.one_line()), "config")
        except Exception as error:  # never let a bug in a stream take the app down
            log.exception("answer failed")
            text = f"internal error: {type(error).__name__}: {error}\nplease report this; the app keeps running"
            self._failed(exchange, stream, message, None, strip_escapes(text), "internal")
        else:
            self._finished(exchange)

    def _record(self, exchange: Exchange, stream: ChatStream | None) -> None:
        """Copy what the stream delivered (also a partial answer) into the exchange."""
        if stream is None:
            return
        exchange.answer = strip_escapes(stream.text)
        exchange.reasoning = strip_escapes(stream.reasoning)
        exchange.figures = stream.meter.figures() if stream.meter.t_sent is not None else None
        exchange.rate_limit = stream.rate_limit

    def _failed(
        self,
        exchange: Exchange,
        stream: ChatStream | None,
        message: StreamingMessage,
        error: ProviderError | None,
        text: str,
        kind: str,
    ) -> None:
        self._record(exchange, stream)
        exchange.error, exchange.error_kind, exchange.error_text = error, kind, text
        footer = answer_footer(exchange) if exchange.answer else None
        message.finish(footer=footer, error=text)
        self.stats_bar.finish("error", exchange.figures, detail=kind.replace("_", " "))
        started = bool(exchange.answer or exchange.reasoning)
        if not started:
            self._restore_prompt(exchange.prompt)
        title = f"{exchange.profile}: request failed" if error is None else f"{exchange.profile}: {error.kind}"
        self.notify(short_notice(text), title=title.replace("_", " "), severity="error", timeout=8, markup=False)
        self._finished(exchange)

    def _restore_prompt(self, prompt: str) -> None:
        """Put a prompt that got no answer back into the input, unless the user is already typing another."""
        if not self.prompt_input.text.strip():
            self.prompt_input.set_prompt(prompt)
        else:
            self.notify("Your prompt is in the history: press ↑ in an empty input.", markup=False)

    def _finished(self, exchange: Exchange) -> None:
        exchange.answered_at = datetime.now(UTC)
        self.post_message(AnswerFinished(exchange))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker:
            self.refresh_bindings()  # esc (stop) is only enabled while an answer is in flight

    # -- actions -------------------------------------------------------------------------------------------

    async def _stop_and_wait(self) -> None:
        worker = self._worker
        if worker is None or worker.state not in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        worker.cancel()
        try:
            await worker.wait()
        except WorkerCancelled:
            pass

    def action_stop(self) -> None:
        """Stop the answer now; what arrived stays, marked cancelled, with its figures."""
        if self.busy and self._worker is not None:
            self._worker.cancel()

    async def action_new_chat(self) -> None:
        """Clear the conversation (the target and settings stay)."""
        await self._stop_and_wait()
        self.exchanges.clear()
        self.chat_log.clear()
        self._sync_welcome()
        self.stats_bar.reset()
        self.post_message(ConversationCleared())
        self.prompt_input.focus()

    async def action_regenerate(self) -> None:
        """Ask the current target again for the last prompt, replacing the last answer."""
        if not self.exchanges:
            self.notify("Nothing to regenerate yet.", severity="warning", markup=False)
            return
        await self._stop_and_wait()
        last = self.exchanges.pop()
        self.post_message(ExchangeDropped(last))
        self._drop_log_messages(1)
        if self.prompt_input.text == last.prompt:  # restored after an error: it is being sent again now
            self.prompt_input.clear()
        self.ask(last.prompt, show_prompt=False)

    async def action_edit_last(self) -> None:
        """Put the last prompt back in the input and remove that exchange from the conversation."""
        if not self.exchanges:
            self.notify("No prompt to edit yet.", severity="warning", markup=False)
            return
        await self._stop_and_wait()
        last = self.exchanges.pop()
        self.post_message(ExchangeDropped(last))
        self._drop_log_messages(2)
        self._sync_welcome()
        self.prompt_input.set_prompt(last.prompt)
        self.prompt_input.focus()

    async def restore(
        self,
        exchanges: list[Exchange],
        messages: list[MessageData],
        settings: ChatSettings,
        target: Target | None = None,
    ) -> None:
        """Show a saved conversation and continue it: its exchanges, transcript, settings and (if given) target."""
        await self._stop_and_wait()
        self.exchanges = exchanges
        self.chat_log.set_messages(messages)
        self._sync_welcome()
        self.stats_bar.reset()
        self.settings = settings
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
        parts = [
            "system prompt set" if settings.system_prompt else "no system prompt",
            f"temperature {settings.temperature:g}" if settings.temperature is not None else "default temperature",
            f"max {settings.max_tokens:,} tokens" if settings.max_tokens is not None else "default max tokens",
        ]
        self.notify("Settings saved: " + ", ".join(parts) + ".", markup=False)

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

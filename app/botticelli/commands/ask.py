"""`botticelli ask`: one prompt, the answer streamed to stdout, figures on stderr (or one JSON object)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from botticelli.errors import BotticelliError, UsageError

MAX_PROMPT_BYTES = 8 * 1024 * 1024
_JSON_UNSAFE = re.compile("[\x7f-\x9f]")  # DEL and C1 controls, which json.dumps leaves raw


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask one question; the answer streams to stdout")
    p.add_argument("-p", "--profile", help="profile to use (default: the configured default)")
    p.add_argument("-m", "--model", help="model (default: the profile's default_model)")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("--max-tokens", type=int, help="cap on the answer's length in tokens")
    p.add_argument("--temperature", type=float, help="sampling temperature")
    p.add_argument("--session", metavar="ID|new", help="continue a saved session, or `new` to start one")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end, nothing else")
    p.add_argument("--quiet", "-q", action="store_true", help="no stats line on stderr")
    p.add_argument("--raw", action="store_true", help="keep terminal escape sequences in the answer")
    p.add_argument("prompt", nargs="*", help='the prompt; "-" or nothing reads stdin')
    p.set_defaults(run=run)


class AskInputError(UsageError):
    """Bad prompt input; exit code 2."""

    area = "ask"


def read_prompt(words: list[str], stdin: Any) -> str:
    """The prompt from the arguments, or stdin for `-` / nothing. Refuses empty and binary input."""
    if words and words != ["-"]:
        text = " ".join(words)
    else:
        if stdin is None or (hasattr(stdin, "isatty") and stdin.isatty()):
            raise AskInputError("no prompt given (pass it as an argument, or pipe it on stdin)")
        raw = stdin.buffer.read(MAX_PROMPT_BYTES + 1) if hasattr(stdin, "buffer") else stdin.read().encode()
        if len(raw) > MAX_PROMPT_BYTES:
            raise AskInputError(f"stdin is larger than {MAX_PROMPT_BYTES // (1024 * 1024)} MB (shorten the prompt)")
        if b"\x00" in raw:
            raise AskInputError("stdin looks binary: it contains NUL bytes (pipe text instead)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AskInputError(f"stdin is not UTF-8 text: bad byte at offset {exc.start} (pipe text instead)") from exc
    if not text.strip():
        raise AskInputError("the prompt is empty (pass it as an argument, or pipe it on stdin)")
    return text


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_ask(args, sys.stdin, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        if getattr(args, "interrupt_reported", False):
            return 130
        raise


async def _ask(args: argparse.Namespace, stdin: Any, out: TextIO, err: TextIO) -> int:
    from botticelli import format as fmt
    from botticelli.chat import events as ev
    from botticelli.chat.turn import Turn
    from botticelli.config import ConfigError, load_config
    from botticelli.providers.types import ChatMessage, ChatRequest
    from botticelli.targets import open_client

    result: dict[str, Any] = {"profile": args.profile, "model": args.model, "text": "", "reasoning": None,
                              "finish_reason": None, "usage": None, "stats": None, "rate_limit": None,
                              "error": None, "cost": None}

    def fail(error: BotticelliError) -> int:
        if args.json:
            result["error"] = error.to_dict()
            out.write(_dumps(result) + "\n")
        err.write(error.one_line() + "\n")
        return error.exit_code

    try:
        prompt = read_prompt(args.prompt, stdin)
        check_parameters(args)
        config = load_config()
    except (AskInputError, ConfigError) as exc:
        return fail(exc)

    session = None
    try:
        if args.session:
            session = _SessionTurn.open(args.session, config, args.profile, args.model, args.system)
            target = session.target
            if session.switched:
                err.write(f"note: session {session.session_id}: {session.switched}\n")
        else:
            target = _resolve(config, args.profile, args.model)
    except BotticelliError as exc:
        return fail(exc)
    result["profile"], result["model"] = target.profile.name, target.model

    messages = [ChatMessage("system", args.system)] if args.system else []
    if session is not None:
        messages = session.history
        result["session_id"] = session.session_id
        session.prompt(prompt)
    messages.append(ChatMessage("user", prompt))
    request = ChatRequest(target.model, messages, max_tokens=args.max_tokens, temperature=args.temperature)

    printer = _TextPrinter(out, raw=args.raw, enabled=not args.json)
    clients: list[Any] = []

    def connect() -> Any:  # no key, a malformed key, or one that must not go there: fails before any request
        clients.append(open_client(target.profile))
        return clients[0]

    def emit(event: ev.TurnEvent) -> None:
        if type(event) is ev.ContentDelta:
            printer.write(event.text)
        elif type(event) is ev.RetryScheduled and not (args.quiet or args.json):  # --json: one error line
            printer.end()
            err.write(f"{target.profile.name}: {fmt.retrying(event.wait_s, event.attempt, event.of)}\n")
            err.flush()

    quote = await _price(target)
    turn = Turn(connect, request, profile=target.profile.name, recording=session)

    def costing(figures: Any) -> dict[str, Any] | None:
        return _answer_cost(quote, request, turn.stream, figures)

    if session is not None:
        session.costing = costing
    try:
        outcome = await turn.run(emit)
    except (KeyboardInterrupt, asyncio.CancelledError):
        outcome = turn.outcome
        printer.end()
        if session is not None and outcome is None:  # interrupted outside the turn's own handling
            session.finish(turn.text, turn.reasoning, "cancelled", turn.figures(), None)
        if args.json:
            figures = turn.figures()
            result.update(text=turn.text if args.raw else _strip(turn.text), finish_reason="cancelled",
                          stats=figures.to_dict() if figures is not None else None)
            out.write(_dumps(result) + "\n")
            err.write("error: interrupted\n")
        else:
            err.write("error: interrupted (the partial answer above is kept)\n")
        args.interrupt_reported = True
        return 130
    finally:
        printer.end()
        for client in clients:
            await client.aclose()

    stream = turn.stream
    if stream is not None:
        answer = stream.result()
        result.update(
            text=answer.text if args.raw else _strip(answer.text),
            reasoning=(answer.reasoning if args.raw else _strip(answer.reasoning)) if answer.reasoning else None,
            finish_reason=answer.finish_reason,
            usage=answer.usage.to_dict() if answer.usage else None,
        )
    figures = outcome.figures
    result["stats"] = figures.to_dict() if figures is not None else None
    result["rate_limit"] = _rate_limit_dict(outcome.rate_limit)
    if isinstance(outcome, ev.Failed):
        error = outcome.error
        result["error"] = error.to_dict()
        result["finish_reason"] = result["finish_reason"] or "error"
        if args.json:
            out.write(_dumps(result) + "\n")
        err.write(error.line + "\n")
        return error.exit_code
    cost = costing(figures) if figures is not None else None
    result["cost"] = cost
    if args.json:
        out.write(_dumps(result) + "\n")
    elif not args.quiet and figures is not None:
        reasoning = f" · {_cost_label(cost)}" if cost else ""
        reasoning += f" · reasoning {len(outcome.reasoning):,} chars (--json shows it)" if outcome.reasoning else ""
        if session is not None:
            reasoning += f" · session {session.session_id}"
        summary = fmt.summary_line(figures, outcome.finish_reason)
        err.write(f"{target.profile.name} · {target.model} · {summary}{reasoning}\n")
    return 0


async def _price(target: Any) -> Any:
    """The price of the target's model (config, built-in, cached catalogue; HF: its `/models` once a day)."""
    from botticelli.catalog import known_price
    from botticelli.targets import open_client

    async def fetch() -> Any:
        async with open_client(target.profile, max_retries=0) as client:
            return await client.list_models()

    return await known_price(target.profile, target.model, fetch)


def _answer_cost(quote: Any, request: Any, stream: Any, figures: Any) -> dict[str, Any] | None:
    """The `cost` object of `ask --json` (`{"usd", "estimated", "price": {..., "source"}}`), None when unpriced."""
    from botticelli.catalog import cost_of_answer

    if quote is None or figures is None:
        return None
    usage = stream.usage if stream is not None else None
    prompt_chars = sum(len(m.content) for m in request.messages if isinstance(m.content, str))
    cost = cost_of_answer(quote.price, usage.prompt_tokens if usage else None, prompt_chars,
                          figures.completion_tokens, figures.tokens_exact)
    return {**cost.to_dict(), "price": quote.to_dict()} if cost else None


def _cost_label(cost: dict[str, Any]) -> str:
    from botticelli.catalog import Cost

    return Cost(cost["usd"], cost["estimated"]).label()


def check_parameters(args: argparse.Namespace) -> None:
    """`--temperature` and `--max-tokens` by the rules the TUI's settings use; AskInputError otherwise."""
    from botticelli.chat.conversation import TEMPERATURE_RANGE, check_max_tokens, check_temperature

    try:
        check_temperature(args.temperature)
    except ValueError:
        low, high = TEMPERATURE_RANGE
        raise AskInputError(f"--temperature must be between {low:g} and {high:g}, got {args.temperature:g} "
                            f"(pass a number from {low:g} to {high:g})") from None
    try:
        check_max_tokens(args.max_tokens)
    except ValueError:
        raise AskInputError(f"--max-tokens must be a positive number, got {args.max_tokens} (pass 1 or more)"
                            ) from None


def _resolve(config: Any, profile: str | None, model: str | None) -> Any:
    from botticelli.targets import resolve_target

    return resolve_target(config, profile, model)


def _dumps(result: dict[str, Any]) -> str:
    """One JSON line that is safe to print even with `--raw`: control characters stay escaped, nothing is lost."""
    text = json.dumps(result, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _rate_limit_dict(info: Any) -> dict[str, Any] | None:
    return info.to_dict() if info is not None else None


def _strip(text: str | None) -> str:
    from botticelli.safety import strip_escapes

    return strip_escapes(text or "")


class _TextPrinter:
    """Writes streamed text to stdout as it arrives, escape sequences stripped unless raw."""

    def __init__(self, out: TextIO, *, raw: bool, enabled: bool) -> None:
        from botticelli.safety import EscapeStripper

        self.out, self.enabled = out, enabled
        self._stripper = None if raw else EscapeStripper()
        self._last = ""

    def write(self, text: str) -> None:
        if not self.enabled:
            return
        safe = text if self._stripper is None else self._stripper.feed(text)
        if safe:
            self.out.write(safe)
            self.out.flush()
            self._last = safe[-1]

    def end(self) -> None:
        if not self.enabled:
            return
        if self._stripper is not None:
            rest = self._stripper.flush()
            if rest:
                self.out.write(rest)
                self._last = rest[-1]
        if self._last and self._last != "\n":
            self.out.write("\n")
        self._last = ""
        self.out.flush()


class _SessionTurn:
    """`--session ID|new`: the session's history, its profile·model, and the recording of this turn."""

    def __init__(self, store: Any, session: Any, target: Any, history: list[Any], switched: str) -> None:
        from botticelli.sessions.recorder import TurnRecorder

        self.store, self.session, self.target, self.history, self.switched = store, session, target, history, switched
        self.recorder = TurnRecorder(store, session.id, interval_s=0.0)  # the turn runner paces checkpoints
        self.costing: Callable[[Any], dict[str, Any] | None] | None = None
        """The answer's cost from its figures: stored beside them (`stats.cost_usd`) when the price is known."""

    @property
    def session_id(self) -> str:
        return str(self.session.id)

    @classmethod
    def open(cls, ref: str, config: Any, profile: str | None, model: str | None,
             system: str | None) -> _SessionTurn:
        """Open (or create) the session. Without `-p`/`-m` it continues with the session's own profile·model;
        with them, the session switches to the one asked for, and `switched` says so."""
        from botticelli.providers.types import ChatMessage
        from botticelli.sessions import SessionStore
        from botticelli.sessions.export import openai_messages

        store = SessionStore.open()
        if ref == "new":
            target = _resolve(config, profile, model)
            session = store.create_session(system_prompt=system, profile=target.profile.name, model=target.model)
            return cls(store, session, target, [], "")
        session = store.get_session(store.resolve(ref))
        switched = ""
        if profile is None and model is None and session.profile and session.model:
            target = _resolve(config, session.profile, session.model)
        else:
            target = _resolve(config, profile or (session.profile if model else None), model)
            was = f"{session.profile}·{session.model}"
            if session.profile and session.model and was != f"{target.profile.name}·{target.model}":
                switched = f"switching from {was} to {target.profile.name}·{target.model}"
        if system is not None and system != session.system_prompt:
            store.set_system_prompt(session.id, system)
            session = store.get_session(session.id)
        history = [ChatMessage(m["role"], m["content"]) for m in openai_messages(session, store.messages(session.id))]
        return cls(store, session, target, history, switched)

    def prompt(self, text: str) -> None:
        """Store the prompt and the empty answer it waits for (under the profile·model used now)."""
        self.recorder.prompt(text, self.target.profile.name, self.target.model)

    # -- TurnRecording ---------------------------------------------------------------------------------------

    def checkpoint(self, text: str, reasoning: str) -> None:
        self.recorder.checkpoint(lambda: (text, reasoning))

    def finish(self, text: str, reasoning: str, finish_reason: str, figures: Any, error: Any) -> None:
        cost = self.costing(figures) if self.costing is not None and figures is not None else None
        stats = {**figures.to_dict(), "cost_usd": cost["usd"], "cost_estimated": cost["estimated"]} if cost else figures
        self.recorder.finish(text, reasoning, finish_reason, stats, error)

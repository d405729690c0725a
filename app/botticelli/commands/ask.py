"""`botticelli ask`: one prompt, the answer streamed to stdout, figures on stderr (or one JSON object)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
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
    from botticelli.config import ConfigError, load_config
    from botticelli.providers.errors import ProviderError
    from botticelli.providers.types import ChatMessage, ChatRequest
    from botticelli.targets import open_client, resolve_target

    result: dict[str, Any] = {"profile": args.profile, "model": args.model, "text": "", "reasoning": None,
                              "finish_reason": None, "usage": None, "stats": None, "rate_limit": None,
                              "error": None}

    def fail(error: BotticelliError) -> int:
        if args.json:
            result["error"] = error.to_dict()
            out.write(_dumps(result) + "\n")
        err.write(error.one_line() + "\n")
        return error.exit_code

    try:
        prompt = read_prompt(args.prompt, stdin)
        if args.max_tokens is not None and args.max_tokens <= 0:
            raise AskInputError(f"--max-tokens must be a positive number, got {args.max_tokens} (pass 1 or more)")
        config = load_config()
        target = resolve_target(config, args.profile, args.model)
    except (AskInputError, ConfigError) as exc:
        return fail(exc)
    result["profile"], result["model"] = target.profile.name, target.model

    messages = [ChatMessage("system", args.system)] if args.system else []
    session = None
    if args.session:
        from botticelli.sessions import SessionStoreError

        try:
            session, history = _open_session(args.session, target, args.system, prompt)
        except SessionStoreError as exc:
            return fail(exc)
        messages = [ChatMessage(m["role"], m["content"]) for m in history]
        result["session_id"] = session.session_id
    messages.append(ChatMessage("user", prompt))
    request = ChatRequest(target.model, messages, max_tokens=args.max_tokens, temperature=args.temperature)

    printer = _TextPrinter(out, raw=args.raw, enabled=not args.json)
    stream = None
    error: ProviderError | None = None
    try:
        client = open_client(target.profile)
    except BotticelliError as exc:  # no key, a malformed key, or one that must not go there: before any request
        if session is not None:
            session.finish("", None, "error", None, exc.to_dict())
        return fail(exc)
    try:
        async with client:
            stream = client.stream(request)
            try:
                async with stream:
                    async for event in stream:
                        text = getattr(event, "text", None)
                        if text and type(event).__name__ == "ContentDelta":
                            printer.write(text)
                            if session is not None:
                                session.checkpoint(lambda: (stream.text, stream.reasoning))
            except ProviderError as exc:
                error = exc
            except (KeyboardInterrupt, asyncio.CancelledError):
                printer.end()
                if session is not None:
                    session.finish(stream.text, stream.reasoning, "cancelled", stream.figures(), None)
                if args.json:
                    result.update(text=stream.text if args.raw else _strip(stream.text), finish_reason="cancelled",
                                  stats=stream.figures().to_dict() if stream.meter.t_sent is not None else None)
                    out.write(_dumps(result) + "\n")
                    err.write("error: interrupted\n")
                else:
                    err.write("error: interrupted (the partial answer above is kept)\n")
                args.interrupt_reported = True
                return 130
    finally:
        printer.end()

    figures = stream.figures() if stream is not None and stream.meter.t_sent is not None else None
    if stream is not None:
        answer = stream.result()
        result.update(
            text=answer.text if args.raw else _strip(answer.text),
            reasoning=(answer.reasoning if args.raw else _strip(answer.reasoning)) if answer.reasoning else None,
            finish_reason=answer.finish_reason if error is None else (answer.finish_reason or "error"),
            usage=answer.usage.to_dict() if answer.usage else None,
            rate_limit=_rate_limit_dict(answer.rate_limit or (error.rate_limit if error else None)),
        )
        if figures is not None:
            result["stats"] = figures.to_dict()
    if session is not None and stream is not None:
        session.finish(stream.text, stream.reasoning, None if error else stream.finish_reason, figures,
                       error.to_dict() if error else None)
    if error is not None:
        result["error"] = error.to_dict()
        if args.json:
            out.write(_dumps(result) + "\n")
        err.write(error.one_line() + "\n")
        return error.exit_code
    if args.json:
        out.write(_dumps(result) + "\n")
    elif not args.quiet and figures is not None:
        from botticelli.stats import summary_line

        reasoning = " · cut (max tokens or context full)" if stream.finish_reason == "length" else ""
        reasoning += f" · reasoning {len(stream.reasoning):,} chars (--json shows it)" if stream.reasoning else ""
        if session is not None:
            reasoning += f" · session {session.session_id}"
        err.write(f"{target.profile.name} · {target.model} · {summary_line(figures)}{reasoning}\n")
    return 0


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


def _open_session(ref: str, target: Any, system: str | None, prompt: str) -> tuple[Any, list[dict[str, str]]]:
    """A recorder for `--session ID|new` (the prompt already stored) and the history to send before it."""
    from botticelli.sessions import SessionStore
    from botticelli.sessions.export import openai_messages
    from botticelli.sessions.recorder import TurnRecorder

    store = SessionStore.open()
    if ref == "new":
        session = store.create_session(system_prompt=system, profile=target.profile.name, model=target.model)
    else:
        session = store.get_session(store.resolve(ref))
        if system is not None and system != session.system_prompt:
            store.set_system_prompt(session.id, system)
            session = store.get_session(session.id)
    history = openai_messages(session, store.messages(session.id))
    recorder = TurnRecorder(store, session.id)
    recorder.prompt(prompt, target.profile.name, target.model)
    return recorder, history

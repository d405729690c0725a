"""Session export (lossless JSON, Markdown for people, the plain OpenAI messages list) and import validation.

The JSON document is the `botticelli.session` version 1 of docs/ARCHITECTURE.md. Its optional `params` object
(the session's sampling parameters: `temperature`, `max_tokens`) is written only when the session has some, so
files without it (older exports) still import. Import checks the whole document before anything is written and
reports every problem with its place (`messages[3].role: ...`, `params.temperature: ...`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from botticelli import untrusted_json
from botticelli.sessions.errors import SessionImportError
from botticelli.sessions.models import (
    ROLES,
    Message,
    NewMessage,
    NewSession,
    Session,
    format_timestamp,
    parse_timestamp,
)
from botticelli.sessions.render import message_heading, readable_time, stats_line

FORMAT_NAME = "botticelli.session"
FORMAT_VERSION = 1
TOP_FIELDS = ("format", "version", "title", "created_at", "system_prompt", "params", "messages")
MESSAGE_FIELDS = (
    "role",
    "content",
    "reasoning",
    "profile",
    "model",
    "created_at",
    "finish_reason",
    "stats",
    "error",
)
ASSISTANT_FIELDS = ("profile", "model", "created_at", "finish_reason", "stats", "error")
OPTIONAL_TEXT = ("reasoning", "profile", "model", "finish_reason")
STATS_NUMBERS = ("ttft_s", "total_s", "decode_tps", "e2e_tps", "server_tps", "queue_s")
PARAM_INTEGERS = ("max_tokens",)
"""Parameters that must be whole numbers; every other parameter (`temperature`, ...) is any finite number."""
FIX_FILE = "fix the file, or export the session again with botticelli sessions export"
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f]")  # DEL and C1 controls, which json.dumps leaves raw


# export


def export_document(session: Session, messages: Iterable[Message]) -> dict[str, Any]:
    """The `botticelli.session` JSON document of a session (`params` only when the session has some)."""
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "title": session.title,
        "created_at": session.created_at,
        "system_prompt": session.system_prompt,
    }
    params = {k: v for k, v in (session.params or {}).items() if v is not None}
    if params:
        doc["params"] = params
    doc["messages"] = [message_document(m) for m in messages]
    return doc


def message_document(message: Message) -> dict[str, Any]:
    """One exported message: role, content, created_at; the rest always for answers, when set otherwise."""
    doc: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.reasoning is not None:
        doc["reasoning"] = message.reasoning
    values = {
        "profile": message.profile,
        "model": message.model,
        "created_at": message.created_at,
        "finish_reason": message.finish_reason,
        "stats": message.stats,
        "error": message.error,
    }
    for name in ASSISTANT_FIELDS:
        if message.role == "assistant" or name == "created_at" or values[name] is not None:
            doc[name] = values[name]
    return doc


def dumps_json(data: Any, indent: int | None = 2) -> str:
    """JSON that keeps every character (lossless) yet is safe to print: control characters stay escaped."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def openai_messages(session: Session, messages: Iterable[Message]) -> list[dict[str, str]]:
    """The plain `[{"role", "content"}]` list, system prompt first; answers that produced no text are left out."""
    out = [{"role": "system", "content": session.system_prompt}] if session.system_prompt else []
    out += [{"role": m.role, "content": m.content} for m in messages if m.content]
    return out


def to_markdown(session: Session, messages: Iterable[Message]) -> str:
    """A readable Markdown document; stored text is stripped of terminal escape sequences."""
    from botticelli.safety import strip_escapes

    lines = [
        f"# {strip_escapes(session.display_title)}",
        "",
        f"- Session: `{session.id}`",
        f"- Created: {readable_time(session.created_at)}",
    ]
    if session.profile or session.model:
        lines.append(f"- Last model: {strip_escapes(' · '.join(filter(None, [session.profile, session.model])))}")
    if session.system_prompt:
        lines += ["", "## System prompt", "", strip_escapes(session.system_prompt)]
    for message in messages:
        heading = message_heading(message)
        lines += ["", f"## {strip_escapes(heading[:1].upper() + heading[1:])}", ""]
        if message.reasoning:
            reasoning = strip_escapes(message.reasoning)
            lines += ["<details><summary>Reasoning</summary>", "", reasoning, "", "</details>", ""]
        lines.append(strip_escapes(message.content) if message.content else "*(no text)*")
        line = stats_line(message)
        if line:
            lines += ["", f"> {strip_escapes(line)}"]
    return "\n".join(lines) + "\n"


# import


def load_document(raw: bytes, source: str) -> NewSession:
    """Parse and validate an export file's bytes; raises `SessionImportError` naming `source` and the place."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionImportError(
            f"cannot import {source}: not UTF-8 text (byte {exc.start})", "is it a botticelli session export?"
        ) from exc
    try:
        data = untrusted_json.loads(text)
    except untrusted_json.TooDeepError as exc:
        raise SessionImportError(f"cannot import {source}: the JSON is nested too deeply to read", FIX_FILE) from exc
    except json.JSONDecodeError as exc:
        raise SessionImportError(
            f"cannot import {source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            "the file may be truncated; " + FIX_FILE,
        ) from exc
    return validate_document(data, source)


def validate_document(data: Any, source: str) -> NewSession:
    """Check a parsed document completely, then build the session to write."""
    refused = "only files written by botticelli sessions export can be imported"
    if not isinstance(data, dict):
        raise SessionImportError(
            f"cannot import {source}: expected a JSON object (a {FORMAT_NAME} export), got {_type_name(data)}",
            refused,
        )
    if data.get("format") != FORMAT_NAME:
        found = _show(data["format"]) if "format" in data else "nothing"
        raise SessionImportError(f'cannot import {source}: format: expected "{FORMAT_NAME}", got {found}', refused)
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise SessionImportError(
            f"cannot import {source}: version: expected {FORMAT_VERSION}, got {_show(version)}",
            "this botticelli reads version 1 exports; a newer botticelli may read this one",
        )
    problems: list[str] = []
    _unknown_fields(data, TOP_FIELDS, "", problems)
    _optional_text(data, "title", "title", problems)
    _optional_text(data, "system_prompt", "system_prompt", problems)
    created = _timestamp(data.get("created_at"), "created_at", problems, required=True)
    params = _params(data.get("params"), "params", problems)
    raw_messages = data.get("messages")
    messages: list[NewMessage] = []
    if not isinstance(raw_messages, list):
        problems.append(f"messages: expected an array, got {_type_name(raw_messages)}")
    else:
        for index, item in enumerate(raw_messages):
            message = _message(item, f"messages[{index}]", created or "", problems)
            if message is not None:
                messages.append(message)
    if problems:
        more = f"; {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
        raise SessionImportError(f"cannot import {source}: {problems[0]}{more}", FIX_FILE, problems=problems)
    return NewSession(
        title=data.get("title") or None,
        created_at=created or "",
        system_prompt=data.get("system_prompt"),
        messages=messages,
        params=params,
    )


def _message(item: Any, where: str, default_time: str, problems: list[str]) -> NewMessage | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {_type_name(item)}")
        return None
    start = len(problems)
    _unknown_fields(item, MESSAGE_FIELDS, f"{where}.", problems)
    role = item.get("role")
    if role not in ROLES:
        problems.append(f"{where}.role: expected one of {', '.join(ROLES)}, got {_show(role)}")
    if not isinstance(item.get("content"), str):
        problems.append(f"{where}.content: expected a string, got {_type_name(item.get('content'))}")
    for name in OPTIONAL_TEXT:
        _optional_text(item, name, f"{where}.{name}", problems)
    created = _timestamp(item.get("created_at"), f"{where}.created_at", problems, required=False)
    _stats(item.get("stats"), f"{where}.stats", problems)
    _error(item.get("error"), f"{where}.error", problems)
    if len(problems) > start:
        return None
    return NewMessage(
        role=role,
        content=item["content"],
        created_at=created or default_time,
        reasoning=item.get("reasoning"),
        profile=item.get("profile"),
        model=item.get("model"),
        finish_reason=item.get("finish_reason"),
        stats=item.get("stats"),
        error=item.get("error"),
    )


def _stats(value: Any, where: str, problems: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object or null, got {_type_name(value)}")
        return
    for key in STATS_NUMBERS:
        if value.get(key) is not None and not _is_number(value[key]):
            problems.append(f"{where}.{key}: expected a number or null, got {_type_name(value[key])}")
    tokens = value.get("completion_tokens")
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool)):
        problems.append(f"{where}.completion_tokens: expected an integer or null, got {_type_name(tokens)}")
    exact = value.get("tokens_exact")
    if exact is not None and not isinstance(exact, bool):
        problems.append(f"{where}.tokens_exact: expected true, false or null, got {_type_name(exact)}")


def _params(value: Any, where: str, problems: list[str]) -> dict[str, Any] | None:
    """The session's sampling parameters without nulls (None when there are none), or None after a problem."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object or null, got {_type_name(value)}")
        return None
    start = len(problems)
    for key, item in value.items():
        if item is None:
            continue
        if key in PARAM_INTEGERS:
            if not isinstance(item, int) or isinstance(item, bool):
                problems.append(f"{where}.{key}: expected an integer or null, got {_show_number(item)}")
        elif not _is_number(item) or not math.isfinite(item):
            problems.append(f"{where}.{key}: expected a number or null, got {_show_number(item)}")
    if len(problems) > start:
        return None
    return {k: v for k, v in value.items() if v is not None} or None


def _show_number(value: Any) -> str:
    """What was found where a number belongs: the value itself when it is one (`1.5`, `NaN`), else its type."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return _show(value) if isinstance(value, int | float) and not isinstance(value, bool) else _type_name(value)


def _error(value: Any, where: str, problems: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object or null, got {_type_name(value)}")
        return
    for key in ("kind", "message"):
        if not isinstance(value.get(key), str):
            problems.append(f"{where}.{key}: expected a string, got {_type_name(value.get(key))}")
    status = value.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
        problems.append(f"{where}.status: expected an integer or null, got {_type_name(status)}")
    if value.get("code") is not None and not isinstance(value["code"], str):
        problems.append(f"{where}.code: expected a string or null, got {_type_name(value['code'])}")
    retry = value.get("retry_after_s")
    if retry is not None and not _is_number(retry):
        problems.append(f"{where}.retry_after_s: expected a number or null, got {_type_name(retry)}")


def _timestamp(value: Any, where: str, problems: list[str], *, required: bool) -> str | None:
    """The timestamp normalised to `YYYY-MM-DDTHH:MM:SSZ` (UTC), or None after recording a problem."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        problems.append(f'{where}: expected an ISO-8601 time such as "2026-11-24T21:03:00Z", got {_type_name(value)}')
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except ValueError:
        problems.append(f'{where}: expected an ISO-8601 time such as "2026-11-24T21:03:00Z", got {_show(value)}')
        return None


def _optional_text(data: dict[str, Any], name: str, where: str, problems: list[str]) -> None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        problems.append(f"{where}: expected a string or null, got {_type_name(value)}")


def _unknown_fields(data: dict[str, Any], allowed: tuple[str, ...], prefix: str, problems: list[str]) -> None:
    for key in data:
        if key not in allowed:
            problems.append(f"{prefix}{key}: unknown field (expected {', '.join(allowed)})")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    """A value as it appears in JSON, cut short: for messages."""
    if isinstance(value, str):
        text = json.dumps(value[:40] + ("…" if len(value) > 40 else ""), ensure_ascii=False)
        return _TERMINAL_UNSAFE.sub("?", text)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return _type_name(value)

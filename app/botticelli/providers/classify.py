"""Turn an HTTP error response (any of the body shapes providers really send) into the error family.

Shapes handled: `{"error": {"message", "type", "code", "param"}}` (OpenAI, Groq, HF router), `{"error": "text"}`
(HF router), `{"error": "...", "error_type": "..."}` (TGI), `{"message": ...}` / `{"detail": ...}`, plain text
(TGI/axum, Envoy) and HTML pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botticelli.providers.errors import (
    AuthError,
    InvalidRequestError,
    ModelNotFoundError,
    NetworkError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from botticelli.providers.ratelimit import parse_retry_after, retry_after_from_message
from botticelli.safety import strip_escapes
from botticelli.untrusted_json import loads as json_loads
from botticelli.untrusted_json import replace_surrogates

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
MAX_MESSAGE = 400
CONTEXT_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})
"""The code (OpenAI, Groq) or type (llama.cpp) of "the conversation is too long for this model"."""


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error body says, whatever its shape."""

    message: str
    code: str | None = None
    type: str | None = None
    param: str | None = None


def _clip(text: str) -> str:
    """The provider's text as one terminal-safe line (it is printed and stored as is): escapes stripped."""
    text = _SPACE.sub(" ", strip_escapes(replace_surrogates(text))).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def parse_error_body(body: bytes | str, content_type: str = "") -> ErrorBody:
    """Read the provider's message, code and type out of an error body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    data: Any = None
    if text.strip().startswith(("{", "[")):
        try:
            data = json_loads(text)
        except ValueError:
            data = None
    if isinstance(data, dict):
        return error_body_from_json(data)
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        plain = title.group(1) if title else _TAG.sub(" ", text)
        return ErrorBody(message=_clip(plain) or "an HTML error page")
    return ErrorBody(message=_clip(text) or "(empty response body)")


def error_body_from_json(data: Mapping[str, Any]) -> ErrorBody:
    error = data.get("error")
    if isinstance(error, Mapping):
        return ErrorBody(
            message=_clip(str(error.get("message") or error.get("detail") or json.dumps(error))),
            code=_str(error.get("code")),
            type=_str(error.get("type")),
            param=_str(error.get("param")),
        )
    if isinstance(error, str):
        return ErrorBody(message=_clip(error), type=_str(data.get("error_type")), code=_str(data.get("code")))
    for key in ("message", "detail"):
        if isinstance(data.get(key), str):
            return ErrorBody(message=_clip(data[key]), code=_str(data.get("code")), type=_str(data.get("type")))
    return ErrorBody(message=_clip(json.dumps(data)))


def _str(value: Any) -> str | None:
    return None if value is None else strip_escapes(str(value))


def classify_http_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    provider: str | None = None,
    key_hint: str | None = None,
) -> ProviderError:
    """The error-family member for an HTTP error response."""
    parsed = parse_error_body(body, headers.get("content-type", ""))
    if parsed.code == str(status):  # llama.cpp's {"code": 400}: the status again, not a code
        parsed = ErrorBody(parsed.message, None, parsed.type, parsed.param)
    code = parsed.code or (parsed.type if parsed.type in {"tokens", "requests"} else None)
    common: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "code": parsed.code,
        "error_type": parsed.type,
        "request_id": headers.get("x-request-id"),
    }
    message = parsed.message
    lowered = message.lower()

    if status in (401, 403):
        hint = key_hint if status == 401 and key_hint else None
        if status == 403 and not hint:
            hint = "this key is not allowed to do that; check the key's permissions or organisation"
        return AuthError(message, hint=hint, **common)
    if status == 404 or parsed.code in {"model_not_found", "model_decommissioned"}:
        hint = None
        if parsed.code == "model_decommissioned" or "decommissioned" in lowered:
            hint = "this model was retired; pick another with `botticelli models`"
        if status == 404 and not parsed.code and "model" not in lowered:
            return InvalidRequestError(message, hint="check the profile's base_url", **common)
        return ModelNotFoundError(message, hint=hint, **common)
    if status == 408:
        return NetworkError(message, hint="the server timed out waiting for the request; try again", **common)
    if status == 413:
        return InvalidRequestError(
            message, hint="the request is larger than this model or tier allows; shorten it", **common
        )
    if status == 429 or status == 498:
        retry = parse_retry_after(headers)
        if retry is None:
            retry = retry_after_from_message(message)
        hint = "the provider is at capacity; try again shortly" if status == 498 else None
        common["code"] = parsed.code or code or ("capacity_exceeded" if status == 498 else None)
        return RateLimitError(message, retry_after_s=retry, hint=hint, **common)
    if status == 400 and parsed.code == "model_not_supported":
        return ModelNotFoundError(message, **common)
    if (parsed.code in CONTEXT_CODES or parsed.type in CONTEXT_CODES
            or "context length" in lowered or "reduce the length" in lowered):
        return InvalidRequestError(
            message, hint="the conversation is too long for this model; start a new chat or shorten it", **common
        )
    if 400 <= status < 500:
        return InvalidRequestError(message, **common)
    if status >= 500:
        return ServerError(message, **common)
    return ProtocolError(f"unexpected HTTP status {status}: {message}", **common)


def classify_inband_error(payload: Any, *, provider: str | None = None) -> ProviderError:
    """An error that arrived inside a 200 stream (`event: error`, a chunk with `error`, `x_groq.error`)."""
    if isinstance(payload, Mapping):
        parsed = error_body_from_json(payload) if "error" in payload else error_body_from_json({"error": payload})
        inner = payload.get("error")
        status = inner.get("status_code") if isinstance(inner, Mapping) else None
    else:
        parsed, status = ErrorBody(message=_clip(str(payload))), None
    if isinstance(status, int) and status >= 400:
        err = classify_http_error(status, {}, json.dumps({"error": {
            "message": parsed.message, "code": parsed.code, "type": parsed.type}}), provider=provider)
        return err
    if parsed.code in {"rate_limit_exceeded"}:
        return RateLimitError(parsed.message, provider=provider, code=parsed.code)
    if parsed.type in {"invalid_request_error"}:
        return InvalidRequestError(parsed.message, provider=provider, code=parsed.code, error_type=parsed.type)
    return ServerError(
        parsed.message,
        provider=provider,
        code=parsed.code,
        error_type=parsed.type,
        hint="the provider stopped the answer early; try again",
    )

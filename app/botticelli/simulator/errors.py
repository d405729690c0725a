"""Error replies per flavour, with the real bodies of the recorded fixtures where one exists.

Bodies marked "synthesized" in the fault table of `botticelli.simulator` follow the provider's usual shape
but were not recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botticelli.simulator.directives import FaultSpec
from botticelli.simulator.ratelimit import go_duration

ORG_ID = "org_01kbotticel1isimu1ator0000"  # 26 characters like Groq's ULIDs; the simulator's "organization"


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """A complete non-2xx answer."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _json(obj: Any, flavor: str) -> bytes:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return body + b"\n" if flavor == "groq" else body  # Groq's Go encoder ends every body with a newline


def _shaped(flavor: str, message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    """`{"error":{message,type,[param],code}}`: Groq leaves `param` out unless set; OpenAI always has it."""
    inner: dict[str, Any] = {"message": message, "type": type_}
    if flavor != "groq" or param is not None:
        inner["param"] = param
    inner["code"] = code
    return _json({"error": inner}, flavor)


def _hf(message: str) -> bytes:
    return _json({"error": message}, "huggingface")


_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)
_ENVOY_503 = b"upstream connect error or disconnect/reset before headers. reset reason: overflow"
_TGI_422 = (
    b"Failed to deserialize the JSON body into the target type: missing field `messages` at line 1 column 144"
)
_HF_JSON = "application/json; charset=utf-8"
_OPENAI_JSON = "application/json; charset=utf-8"

STREAM_ERROR_EVENT = (
    b'event: error\ndata: {"error":{"message":"Tool call validation failed: tool call validation failed: '
    b"parameters for tool get_something_by_name did not match schema: errors: [missing properties: 'name', "
    b"additionalProperties 'invalid_param' not allowed]\",\"type\":\"invalid_request_error\","
    b'"code":"tool_use_failed","failed_generation":"{\\"name\\": \\"get_something_by_name\\", '
    b'\\"arguments\\": {\\n  \\"invalid_param\\": \\"value\\"\\n}}","status_code":400}}\n\n'
)
"""The exact `event: error` of groq_stream_error_event.sse (sent by every flavour for `error_event`)."""


def retry_after_s(fault: FaultSpec) -> float:
    """The wait a 429 asks for: `retry_after_ms`, else `retry_after`, else 2 s."""
    if "retry_after_ms" in fault.params:
        return fault.number("retry_after_ms", 0) / 1000
    return fault.number("retry_after", 2.0)


def _retry_headers(fault: FaultSpec) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    if "retry_after" in fault.params or "retry_after_ms" not in fault.params:
        seconds = fault.number("retry_after", 2.0)
        headers.append(("retry-after", f"{seconds:g}"))
    if "retry_after_ms" in fault.params:
        headers.append(("retry-after-ms", f"{fault.number('retry_after_ms', 0):g}"))
    return tuple(headers)


def _groq(fault: FaultSpec, model: str) -> ErrorReply:
    name = fault.name
    f = "groq"
    if name == "401":
        return ErrorReply(401, _shaped(f, "Invalid API Key", "invalid_request_error", "invalid_api_key"))
    if name == "403":
        return ErrorReply(403, _shaped(
            f, "Organization has been restricted. Please reach out to support if you believe this was in error.",
            "invalid_request_error", "organization_restricted"))
    if name == "404":
        return ErrorReply(404, _shaped(
            f, f"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error",
            "model_not_found"))
    if name == "decommissioned":
        return ErrorReply(400, _shaped(
            f, f"The model `{model}` has been decommissioned and is no longer supported. Please refer to "
            "https://console.groq.com/docs/deprecations for a recommendation on which model to use instead.",
            "invalid_request_error", "model_decommissioned"))
    if name == "context_length":
        return ErrorReply(400, _shaped(
            f, "Please reduce the length of the messages or completion.", "invalid_request_error",
            "context_length_exceeded", param="messages"))
    if name == "413":
        return ErrorReply(413, _shaped(
            f, f"Request too large for model `{model}` in organization `{ORG_ID}` service tier `on_demand` on "
            "tokens per minute (TPM): Limit 6000, Requested 14810, please reduce your message size and try "
            "again. Visit https://console.groq.com/docs/rate-limits for more information.",
            "tokens", "rate_limit_exceeded"))
    if name == "429":
        wait = go_duration(retry_after_s(fault))
        return ErrorReply(429, _shaped(
            f, f"Rate limit reached for model `{model}` in organization `{ORG_ID}` service tier `on_demand` on "
            f"requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in {wait}. Need more "
            "tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
            "requests", "rate_limit_exceeded"), headers=_retry_headers(fault))
    if name == "498":
        return ErrorReply(498, _shaped(
            f, "The flex tier is at capacity for this model. Please try again later or use the on_demand "
            "service tier.", "capacity_exceeded", "capacity_exceeded"))
    if name == "500":
        return ErrorReply(500, _shaped(f, "Internal Server Error", "internal_server_error", "internal_server_error"))
    return _common(fault)


def _openai(fault: FaultSpec, model: str) -> ErrorReply:
    name = fault.name
    f = "openai"
    ct = _OPENAI_JSON
    if name == "401":
        return ErrorReply(401, _shaped(
            f, "Incorrect API key provided: sim. You can find your API key at "
            "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"), ct)
    if name == "403":
        return ErrorReply(403, _shaped(
            f, f"Project `proj_botticellisimulator` does not have access to model `{model}`",
            "invalid_request_error", "model_not_found"), ct)
    if name == "404":
        return ErrorReply(404, _shaped(
            f, f"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error",
            "model_not_found"), ct)
    if name == "decommissioned":
        return ErrorReply(400, _shaped(
            f, f"The model `{model}` has been deprecated, learn more here: "
            "https://platform.openai.com/docs/deprecations", "invalid_request_error", "model_decommissioned"), ct)
    if name == "context_length":
        return ErrorReply(400, _shaped(
            f, "This model's maximum context length is 128000 tokens. However, your messages resulted in "
            "131072 tokens. Please reduce the length of the messages.", "invalid_request_error",
            "context_length_exceeded", param="messages"), ct)
    if name == "413":
        return ErrorReply(413, _shaped(
            f, f"Request too large for {model} in organization org-botticellisimulator on tokens per min (TPM): "
            "Limit 200000, Requested 290000. The input or output tokens must be reduced in order to run "
            "successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "tokens", "rate_limit_exceeded"), ct)
    if name == "429":
        wait = go_duration(retry_after_s(fault))
        return ErrorReply(429, _shaped(
            f, f"Rate limit reached for {model} in organization org-botticellisimulator on requests per min "
            f"(RPM): Limit 500, Used 500, Requested 1. Please try again in {wait}. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.", "requests", "rate_limit_exceeded"),
            ct, _retry_headers(fault))
    if name == "498":
        return ErrorReply(498, _shaped(f, "Capacity exceeded, please try again later.", "server_error",
                                       "capacity_exceeded"), ct)
    if name == "500":
        return ErrorReply(500, _shaped(
            f, "The server had an error while processing your request. Sorry about that!", "server_error", None),
            ct)
    if name == "503":
        return ErrorReply(503, _shaped(
            f, "The engine is currently overloaded, please try again later", "server_error", None), ct)
    return _common(fault)


def _huggingface(fault: FaultSpec, model: str) -> ErrorReply:
    name = fault.name
    ct = _HF_JSON
    if name == "401":
        message = "Invalid username or password."
        return ErrorReply(401, _hf(message), ct, (
            ("www-authenticate", 'Bearer realm="Authentication required", charset="UTF-8"'),
            ("x-error-message", message)))
    if name == "403":
        message = ("This authentication method does not have sufficient permissions to call Inference "
                   "Providers on behalf of user botticelli")
        return ErrorReply(403, _hf(message), ct, (("x-error-message", message),))
    if name == "404":
        return ErrorReply(404, _hf(f"Model {model} does not exist"), "application/json")
    if name == "decommissioned":
        return ErrorReply(400, _shaped(
            "huggingface", f"The requested model '{model}' is not supported by any provider you have enabled.",
            "invalid_request_error", "model_not_supported", param="model"), ct)
    if name == "context_length":
        return ErrorReply(400, _shaped(
            "huggingface", "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 131072. "
            "Given: 130000 `inputs` tokens and 4096 `max_new_tokens`", "invalid_request_error",
            "context_length_exceeded", param="messages"), ct)
    if name == "413":
        return ErrorReply(413, _hf("Request entity too large"), ct)
    if name == "429":
        message = "Rate limit reached. Please retry later."
        return ErrorReply(429, _hf(message), ct, (*_retry_headers(fault), ("x-error-message", message)))
    if name == "498":
        return ErrorReply(498, _hf("Provider capacity exceeded, please try again later."), ct)
    if name == "500":
        body = _json({"id": "oS9XtEv-3pDw3Z-9b97ab906d73553b", "error": {
            "message": "Internal server error", "type": "server_error", "param": None, "code": None}},
            "huggingface")
        return ErrorReply(500, body, ct, (("retry-after", "1"),))
    return _common(fault)


def _common(fault: FaultSpec) -> ErrorReply:
    if fault.name == "422":
        return ErrorReply(422, _TGI_422, "text/plain; charset=utf-8")
    if fault.name == "502":
        return ErrorReply(502, _HTML_502, "text/html")
    if fault.name == "503":
        return ErrorReply(503, _ENVOY_503, "text/plain")
    raise ValueError(f"fault {fault.name!r} is not an HTTP error")


def fault_error(fault: FaultSpec, flavor: str, model: str) -> ErrorReply:
    """The reply for a status fault (`401`, `429`, `decommissioned`, ...) in `flavor`'s words."""
    if flavor == "groq":
        return _groq(fault, model)
    if flavor == "openai":
        return _openai(fault, model)
    return _huggingface(fault, model)


def invalid_request(flavor: str, message: str, param: str | None = None, code: str | None = None,
                    status: int = 400) -> ErrorReply:
    """A 400 for a request the simulator cannot serve (bad JSON, missing model, bad directive)."""
    ct = "application/json" if flavor == "groq" else _OPENAI_JSON
    return ErrorReply(status, _shaped(flavor, message, "invalid_request_error", code, param), ct)


def unknown_url(flavor: str, method: str, path: str) -> ErrorReply:
    """404 for a path the simulator does not serve, worded like the provider."""
    if flavor == "groq":
        return ErrorReply(404, _shaped(
            flavor, f"Unknown request URL: {method} {path}. Please check the URL for typos, or see the docs at "
            "https://console.groq.com/docs/", "invalid_request_error", "unknown_url"))
    if flavor == "openai":
        return invalid_request(flavor, f"Invalid URL ({method} {path})", status=404)
    return ErrorReply(404, _hf("Not Found"), _HF_JSON)

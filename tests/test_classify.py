"""HTTP error bodies of every shape providers send, turned into the error family."""

from __future__ import annotations

import json

import pytest

from botticelli.providers.classify import classify_http_error, classify_inband_error, parse_error_body
from botticelli.providers.errors import (
    ERROR_KINDS,
    AuthError,
    InvalidRequestError,
    ModelNotFoundError,
    NetworkError,
    ProtocolError,
    RateLimitError,
    ServerError,
    error_from_dict,
)
from helpers_client import FIXTURES


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- parse_error_body: every shape -------------------------------------------------------------------------


def test_openai_shaped_object() -> None:
    body = parse_error_body(fixture("groq_error_400_context_length.json"))
    assert body.message == "Please reduce the length of the messages or completion."
    assert body.code == "context_length_exceeded"
    assert body.type == "invalid_request_error"
    assert body.param == "messages"


def test_openai_null_code_and_param() -> None:
    body = parse_error_body(fixture("openai_error_400_missing_model.json"))
    assert body.message == "you must provide a model parameter"
    assert body.code is None and body.param is None


def test_string_error() -> None:
    body = parse_error_body(fixture("hf_router_error_401.json"))
    assert body.message == "Invalid username or password."
    assert body.code is None


def test_tgi_error_with_error_type() -> None:
    body = parse_error_body(fixture("hf_router_error_422_template.json"))
    assert body.message == "Template error: template not found"
    assert body.type == "template_error"


def test_plain_text_bodies() -> None:
    assert parse_error_body(fixture("hf_router_error_422_plaintext.txt"), "text/plain; charset=utf-8").message == (
        "Failed to deserialize the JSON body into the target type: missing field `messages` at line 1 column 144"
    )
    assert parse_error_body(fixture("groq_error_503_upstream_reset.txt")).message == (
        "upstream connect error or disconnect/reset before headers. reset reason: overflow"
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"message": "top-level message", "code": "c"}, "top-level message"),
        ({"detail": "Not Found"}, "Not Found"),
        ({"error": {"detail": "inner detail"}}, "inner detail"),
    ],
)
def test_message_and_detail_fallbacks(payload: dict[str, object], message: str) -> None:
    assert parse_error_body(json.dumps(payload)).message == message


def test_unknown_json_falls_back_to_the_raw_json() -> None:
    assert "weird" in parse_error_body(b'{"weird": true}').message


def test_pretty_printed_openai_error() -> None:
    body = json.dumps(
        {"error": {"message": "That model does not exist", "type": "invalid_request_error", "param": None,
                   "code": None}},
        indent=4,
    )
    assert "\n    " in body
    assert parse_error_body(body).message == "That model does not exist"


def test_html_page_gives_its_title() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>"
        b"<body>x</body></html>"
    )
    assert parse_error_body(page, "text/html").message == "503 Service Temporarily Unavailable"


def test_html_without_title_gives_the_text_without_tags() -> None:
    page = b"<html><body><h1>Bad   gateway</h1>\n<p>try later</p></body></html>"
    message = parse_error_body(page, "text/html; charset=UTF-8").message
    assert message == "Bad gateway try later"


def test_empty_and_broken_bodies() -> None:
    assert parse_error_body(b"").message == "(empty response body)"
    assert parse_error_body(b"   \n").message == "(empty response body)"
    assert parse_error_body(b'{"error": {"message": "cut sh').message == '{"error": {"message": "cut sh'
    assert parse_error_body(b"\xff\xfe not utf-8").message.endswith("not utf-8")


def test_long_messages_are_clipped_to_one_line() -> None:
    message = parse_error_body(("word\n" * 500).encode()).message
    assert len(message) <= 400
    assert "\n" not in message
    assert message.endswith("…")


# -- classify_http_error: status and code to kind ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, "groq_error_401_invalid_api_key.json", AuthError, "invalid_api_key"),
        (401, "hf_router_error_401.json", AuthError, None),
        (404, "groq_error_404_model_not_found.json", ModelNotFoundError, "model_not_found"),
        (404, "hf_router_error_404_model_not_found.json", ModelNotFoundError, None),
        (404, "openai_error_404_model_not_found.reserialized.json", ModelNotFoundError, "model_not_found"),
        (400, "groq_error_400_model_decommissioned.json", ModelNotFoundError, "model_decommissioned"),
        (400, "hf_router_error_400_model_not_supported.json", ModelNotFoundError, "model_not_supported"),
        (400, "groq_error_400_context_length.json", InvalidRequestError, "context_length_exceeded"),
        (400, "groq_error_400_tool_use_failed.reserialized.json", InvalidRequestError, "tool_use_failed"),
        (400, "openai_error_400_missing_model.json", InvalidRequestError, None),
        (413, "groq_error_413_request_too_large.json", InvalidRequestError, "rate_limit_exceeded"),
        (422, "hf_router_error_422_template.json", InvalidRequestError, None),
        (422, "hf_router_error_422_plaintext.txt", InvalidRequestError, None),
        (429, "groq_error_429_rpm.json", RateLimitError, "rate_limit_exceeded"),
        (500, "hf_router_error_500_together.reserialized.json", ServerError, None),
        (503, "groq_error_503_upstream_reset.txt", ServerError, None),
    ],
)
def test_fixture_bodies_classify(status: int, body: str, cls: type, code: str | None) -> None:
    error = classify_http_error(status, {}, fixture(body), provider="groq")
    assert type(error) is cls
    assert error.status == status
    assert error.code == code
    assert error.provider == "groq"
    assert error.message and "{" not in error.message


def test_decommissioned_and_missing_models_say_pick_another() -> None:
    retired = classify_http_error(400, {}, fixture("groq_error_400_model_decommissioned.json"))
    assert "pick another" in retired.hint and "botticelli models" in retired.hint
    missing = classify_http_error(404, {}, fixture("groq_error_404_model_not_found.json"))
    assert "botticelli models" in missing.hint
    assert missing.exit_code == retired.exit_code == 5


def test_context_length_hint_and_413_hint() -> None:
    context = classify_http_error(400, {}, fixture("groq_error_400_context_length.json"))
    assert "too long" in context.hint
    too_large = classify_http_error(413, {"retry-after": "19"}, fixture("groq_error_413_request_too_large.json"))
    assert "shorten" in too_large.hint
    assert too_large.retry_after_s is None  # a 413 does not get better by waiting
    assert too_large.exit_code == 6


def test_context_length_without_code_from_message() -> None:
    body = {"error": {"message": "This model's maximum context length is 8192 tokens.", "type": "x"}}
    error = classify_http_error(400, {}, json.dumps(body))
    assert isinstance(error, InvalidRequestError)
    assert "too long" in error.hint


def test_404_without_model_in_the_message_is_a_wrong_base_url() -> None:
    error = classify_http_error(404, {}, b"404 page not found")
    assert isinstance(error, InvalidRequestError)
    assert "base_url" in error.hint


def test_429_retry_after_header_wins_over_the_message() -> None:
    error = classify_http_error(429, {"retry-after": "5"}, fixture("groq_error_429_rpm.json"))
    assert isinstance(error, RateLimitError)
    assert error.retry_after_s == 5.0
    assert error.hint == "wait 5 s and try again"
    from_message = classify_http_error(429, {}, fixture("groq_error_429_rpm.json"))
    assert from_message.retry_after_s == 2.0
    none = classify_http_error(429, {}, b'{"error": {"message": "slow down"}}')
    assert none.retry_after_s is None
    assert none.hint == "wait a little and try again"


def test_429_tokens_type_without_code_becomes_the_code() -> None:
    body = {"error": {"message": "Rate limit reached ... (TPM) ... Please try again in 1m16.032s.", "type": "tokens"}}
    error = classify_http_error(429, {}, json.dumps(body))
    assert error.code == "tokens"
    assert error.retry_after_s == pytest.approx(76.032)


def test_498_is_a_capacity_rate_limit() -> None:
    error = classify_http_error(498, {}, b'{"error": {"message": "Flex tier at capacity"}}')
    assert isinstance(error, RateLimitError)
    assert error.code == "capacity_exceeded"


def test_403_is_auth_with_a_permissions_hint_and_401_uses_the_key_hint() -> None:
    forbidden = classify_http_error(403, {}, b'{"error": {"message": "Forbidden"}}')
    assert isinstance(forbidden, AuthError) and "permissions" in forbidden.hint
    rejected = classify_http_error(401, {}, fixture("groq_error_401_invalid_api_key.json"), key_hint="set GROQ_API_KEY")
    assert rejected.hint == "set GROQ_API_KEY"
    assert classify_http_error(401, {}, b"").hint == AuthError.default_hint


def test_html_502_and_empty_bodies_are_server_errors() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    error = classify_http_error(502, {"content-type": "text/html"}, html)
    assert isinstance(error, ServerError)
    assert error.message == "502 Bad Gateway"
    empty = classify_http_error(500, {}, b"")
    assert isinstance(empty, ServerError)
    assert empty.message == "(empty response body)"


def test_unexpected_status_is_a_protocol_error() -> None:
    error = classify_http_error(302, {}, b"")
    assert isinstance(error, ProtocolError)
    assert "302" in error.message


def test_request_id_header_is_kept() -> None:
    error = classify_http_error(500, {"x-request-id": "req_123"}, b"oops")
    assert error.request_id == "req_123"


def test_one_line_follows_design() -> None:
    error = classify_http_error(401, {}, fixture("groq_error_401_invalid_api_key.json"), provider="groq")
    assert error.one_line() == (
        "error: groq: HTTP 401 invalid_api_key: Invalid API Key (check the API key for this profile)"
    )
    assert error.summary() == "HTTP 401 invalid_api_key: Invalid API Key"
    assert error.to_dict() == {"kind": "auth", "status": 401, "code": "invalid_api_key", "message": "Invalid API Key",
                               "retry_after_s": None}


def test_error_round_trips_through_its_dict() -> None:
    error = classify_http_error(429, {"retry-after": "3"}, fixture("groq_error_429_rpm.json"), provider="groq")
    again = error_from_dict(error.to_dict(), provider="groq")
    assert type(again) is RateLimitError
    assert again.to_dict() == error.to_dict()
    assert set(ERROR_KINDS) == {"auth", "rate_limit", "model_not_found", "invalid_request", "server", "network",
                                "protocol"}
    assert [ERROR_KINDS[k].exit_code for k in sorted(ERROR_KINDS)] == [3, 6, 5, 7, 9, 4, 8]
    assert ERROR_KINDS["network"] is NetworkError


# -- errors inside a 200 stream ----------------------------------------------------------------------------


def test_groq_event_error_payload() -> None:
    raw = (FIXTURES / "groq_stream_error_event.sse").read_text(encoding="utf-8")
    data = raw.split("event: error\ndata: ", 1)[1].strip()
    error = classify_inband_error(json.loads(data), provider="groq")
    assert isinstance(error, InvalidRequestError)
    assert error.code == "tool_use_failed"
    assert error.status == 400
    assert error.message.startswith("Tool call validation failed: tool call validation failed: parameters for tool")


def test_inband_error_without_status() -> None:
    assert isinstance(classify_inband_error({"error": {"message": "m", "code": "rate_limit_exceeded"}}), RateLimitError)
    assert isinstance(classify_inband_error({"error": {"message": "m", "type": "invalid_request_error"}}),
                      InvalidRequestError)
    stopped = classify_inband_error("stream stopped early")
    assert isinstance(stopped, ServerError)
    assert stopped.message == "stream stopped early"
    assert "early" in stopped.hint
    inner_only = classify_inband_error({"message": "only the inner object", "type": "server_error"})
    assert inner_only.message == "only the inner object"

"""The bytes each flavour puts on the wire: stream chunks, non-stream bodies and response headers.

Shapes follow the recordings: groq_stream_gpt_oss.sse / groq_chat_basic_2026.json (Groq, 2026),
openai_stream_include_usage.sse / openai_chat_basic.json (OpenAI), hf_router_stream_hf_inference_tgi.sse with
the trailing usage chunk of hf_router_stream_novita_2026.sse (HF router).
Per-token chunks are built from pre-encoded templates: a 20,000-token stream must cost little to produce.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from itertools import cycle
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def ulid() -> str:
    """26 lower-case Crockford base-32 characters, like the ids in Groq's `req_…`."""
    value = int.from_bytes(secrets.token_bytes(16), "big") >> 2
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


_GO_ESCAPED = re.compile("[<>&\u2028\u2029]")


def _go_string(text: str) -> str:
    """A JSON string as Go's encoder writes it (HTML characters and U+2028/9 escaped)."""
    out = encode_basestring(text)
    if _GO_ESCAPED.search(text):
        out = (out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
               .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return out


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class SimUsage:
    """What one completion used; times are float seconds (Groq's fields)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    queue_time: float
    prompt_time: float
    completion_time: float

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def groq(self) -> dict[str, Any]:
        """Groq's usage object, keys in Groq's order."""
        usage: dict[str, Any] = {
            "queue_time": self.queue_time, "prompt_tokens": self.prompt_tokens, "prompt_time": self.prompt_time,
            "completion_tokens": self.completion_tokens, "completion_time": self.completion_time,
            "total_tokens": self.total_tokens, "total_time": round(self.prompt_time + self.completion_time, 9),
        }
        if self.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage

    def openai(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }

    def huggingface(self) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "prompt_tokens_details": None,
                "completion_tokens_details": None}


@dataclass(frozen=True, slots=True)
class Identity:
    """The ids and stamps one completion carries."""

    model: str
    created: int
    request_id: str
    seed: int
    include_usage: bool


class Wire:
    """Base: the flavour-independent parts. Subclasses fill in the templates."""

    stream_content_type = "text/event-stream"
    json_content_type = "application/json"
    #: HF (TGI) puts `finish_reason` on the last token chunk instead of sending an empty-delta chunk.
    finish_on_last_token = False

    def __init__(self, ident: Identity) -> None:
        self.ident = ident
        self._cache: dict[tuple[str, bool, str | None], bytes] = {}

    def first_chunk(self) -> bytes | None:
        """The role-only chunk, or None when the flavour sends none."""
        raise NotImplementedError

    def token_chunk(self, text: str, reasoning: bool = False, finish: str | None = None) -> bytes:
        """One content (or reasoning) chunk; answers repeat their tokens, so rendered chunks are cached."""
        key = (text, reasoning, finish)
        chunk = self._cache.get(key)
        if chunk is None:
            chunk = self._cache[key] = self._render_token(text, reasoning, finish)
        return chunk

    def _render_token(self, text: str, reasoning: bool, finish: str | None) -> bytes:
        raise NotImplementedError

    def raw_token_chunk(self, raw: bytes) -> bytes:
        """A content chunk whose JSON string is `raw` verbatim (for invalid UTF-8)."""
        marker = "\u2603SIMRAW\u2603"
        return self.token_chunk(marker).replace(_bytes(marker), raw)

    def tail_chunks(self, finish: str, usage: SimUsage, finished: bool) -> list[bytes]:
        """What follows the last token, `[DONE]` excepted; `finished`: the finish reason was already sent."""
        raise NotImplementedError

    def empty_choices_chunk(self) -> bytes:
        raise NotImplementedError

    def x_groq_error_chunk(self, message: str) -> bytes:
        raise NotImplementedError

    def completion_body(self, content: str, reasoning: str | None, finish: str, usage: SimUsage) -> bytes:
        raise NotImplementedError

    def headers(self) -> list[tuple[str, str]]:
        """Flavour headers for every reply of this completion (no content-type)."""
        return []


class GroqWire(Wire):
    """Groq 2026: `x_groq` in the first and last chunk, usage also at top level, bodies end with `\\n`."""

    def __init__(self, ident: Identity, fingerprint: str = "fp_5b1d5be7e4") -> None:
        super().__init__(ident)
        self.completion_id = f"chatcmpl-{uuid.uuid4()}"
        self._head = (f'data: {{"id":"{self.completion_id}","object":"chat.completion.chunk",'
                      f'"created":{ident.created},"model":{_go_string(ident.model)},'
                      f'"system_fingerprint":"{fingerprint}","choices":[{{"index":0,"delta":')
        self._content = _bytes(self._head + '{"content":')
        self._reasoning = _bytes(self._head + '{"reasoning":')
        self._content_end = b'},"logprobs":null,"finish_reason":null}]}\n\n'
        self._reasoning_end = b',"channel":"analysis"' + self._content_end
        self.fingerprint = fingerprint

    def first_chunk(self) -> bytes:
        x_groq = _dumps({"id": self.ident.request_id, "seed": self.ident.seed})
        return _bytes(f'{self._head}{{"role":"assistant","content":""}},"logprobs":null,"finish_reason":null}}],'
                      f'"x_groq":{x_groq}}}\n\n')

    def _render_token(self, text: str, reasoning: bool, finish: str | None) -> bytes:
        if reasoning:
            return self._reasoning + _bytes(_go_string(text)) + self._reasoning_end
        return self._content + _bytes(_go_string(text)) + self._content_end

    def tail_chunks(self, finish: str, usage: SimUsage, finished: bool) -> list[bytes]:
        u = _dumps(usage.groq())
        x_groq = f'{{"id":"{self.ident.request_id}","usage":{u}}}'
        return [_bytes(f'{self._head}{{}},"logprobs":null,"finish_reason":"{finish}"}}],"x_groq":{x_groq},'
                       f'"usage":{u}}}\n\n')]

    def empty_choices_chunk(self) -> bytes:
        return _bytes(self._head.split(',"choices":[', 1)[0] + ',"choices":[]}\n\n')

    def x_groq_error_chunk(self, message: str) -> bytes:
        x_groq = _dumps({"id": self.ident.request_id, "error": message})
        return _bytes(f'{self._head}{{}},"logprobs":null,"finish_reason":null}}],"x_groq":{x_groq}}}\n\n')

    def completion_body(self, content: str, reasoning: str | None, finish: str, usage: SimUsage) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning is not None:
            message["reasoning"] = reasoning
        body = {
            "id": self.completion_id, "object": "chat.completion", "created": self.ident.created,
            "model": self.ident.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage.groq(), "usage_breakdown": None, "system_fingerprint": self.fingerprint,
            "x_groq": {"id": self.ident.request_id, "seed": self.ident.seed}, "service_tier": "on_demand",
        }
        text = _dumps(body)
        for char, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(char, esc)
        return _bytes(text) + b"\n"

    def headers(self) -> list[tuple[str, str]]:
        return [("vary", "Origin"), ("x-groq-region", "sim"), ("x-request-id", self.ident.request_id)]


class OpenAIWire(Wire):
    """OpenAI 2026: `usage: null` on every chunk with include_usage, `obfuscation`, trailing `choices: []`."""

    stream_content_type = "text/event-stream; charset=utf-8"
    json_content_type = "application/json"

    def __init__(self, ident: Identity, fingerprint: str = "fp_d0469e1700") -> None:
        super().__init__(ident)
        self.completion_id = "chatcmpl-" + secrets.token_urlsafe(22).replace("-", "x").replace("_", "Y")[:29]
        self.fingerprint = fingerprint
        self._head = (f'data: {{"id":"{self.completion_id}","object":"chat.completion.chunk",'
                      f'"created":{ident.created},"model":{encode_basestring(ident.model)},'
                      f'"service_tier":"default","system_fingerprint":"{fingerprint}","choices":[')
        usage = '"usage":null,' if ident.include_usage else ""
        self._content = _bytes(self._head + '{"index":0,"delta":{"content":')
        self._content_end = _bytes(f'}},"logprobs":null,"finish_reason":null}}],{usage}"obfuscation":"')
        pads = [secrets.token_urlsafe(n).replace("-", "a").replace("_", "b")[:n] for n in range(3, 15)]
        self._pads = cycle([_bytes(p) + b'"}\n\n' for p in pads])
        self._usage_field = usage

    def _end(self) -> bytes:
        return next(self._pads)

    def first_chunk(self) -> bytes:
        return _bytes(self._head + '{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
                      '"logprobs":null,"finish_reason":null}],' + self._usage_field + '"obfuscation":"') + self._end()

    def token_chunk(self, text: str, reasoning: bool = False, finish: str | None = None) -> bytes:
        return super().token_chunk(text, reasoning, finish) + self._end()  # a fresh `obfuscation` each time

    def _render_token(self, text: str, reasoning: bool, finish: str | None) -> bytes:
        return self._content + _bytes(encode_basestring(text)) + self._content_end

    def tail_chunks(self, finish: str, usage: SimUsage, finished: bool) -> list[bytes]:
        chunks = [_bytes(f'{self._head}{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"{finish}"}}],'
                         f'{self._usage_field}"obfuscation":"') + self._end()]
        if self.ident.include_usage:
            chunks.append(_bytes(f'{self._head}],"usage":{_dumps(usage.openai())},"obfuscation":"') + self._end())
        return chunks

    def empty_choices_chunk(self) -> bytes:
        return _bytes(f'{self._head}],{self._usage_field}"obfuscation":"') + self._end()

    def x_groq_error_chunk(self, message: str) -> bytes:
        x_groq = _dumps({"id": self.ident.request_id, "error": message})
        return _bytes(f'{self._head}{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":null}}],'
                      f'"x_groq":{x_groq}}}\n\n')

    def completion_body(self, content: str, reasoning: str | None, finish: str, usage: SimUsage) -> bytes:
        body = {
            "id": self.completion_id, "object": "chat.completion", "created": self.ident.created,
            "model": self.ident.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None,
                                                 "annotations": []},
                         "logprobs": None, "finish_reason": finish}],
            "usage": usage.openai(), "service_tier": "default", "system_fingerprint": self.fingerprint,
        }
        return _bytes(_dumps(body))

    def headers(self) -> list[tuple[str, str]]:
        return [("openai-version", "2020-10-01"), ("openai-processing-ms", "12"),
                ("x-request-id", self.ident.request_id)]


class HuggingFaceWire(Wire):
    """HF router in front of TGI: `id: ""`, role in every delta, `usage: null`, then a `choices: []` usage chunk."""

    finish_on_last_token = True

    def __init__(self, ident: Identity, fingerprint: str = "3.2.1-native") -> None:
        super().__init__(ident)
        self.fingerprint = fingerprint
        self._head = (f'data: {{"object":"chat.completion.chunk","id":"","created":{ident.created},'
                      f'"model":{encode_basestring(ident.model)},"system_fingerprint":"{fingerprint}",'
                      f'"choices":[')
        self._content = _bytes(self._head + '{"index":0,"delta":{"role":"assistant","content":')
        self._reasoning = _bytes(self._head + '{"index":0,"delta":{"role":"assistant","reasoning":')
        self._end = b'},"logprobs":null,"finish_reason":null}],"usage":null}\n\n'

    def first_chunk(self) -> None:
        return None

    def _render_token(self, text: str, reasoning: bool, finish: str | None) -> bytes:
        start = self._reasoning if reasoning else self._content
        end = self._end if finish is None else self._end.replace(b"null}]", f'"{finish}"}}]'.encode(), 1)
        return start + _bytes(encode_basestring(text)) + end

    def tail_chunks(self, finish: str, usage: SimUsage, finished: bool) -> list[bytes]:
        chunks = [] if finished else [self.token_chunk("", finish=finish)]
        chunks.append(_bytes(f'{self._head}],"usage":{_dumps(usage.huggingface())}}}\n\n'))
        return chunks

    def empty_choices_chunk(self) -> bytes:
        return _bytes(f'{self._head}],"usage":null}}\n\n')

    def x_groq_error_chunk(self, message: str) -> bytes:
        x_groq = _dumps({"id": self.ident.request_id, "error": message})
        return _bytes(f'{self._head}{{"index":0,"delta":{{"role":"assistant","content":""}},"logprobs":null,'
                      f'"finish_reason":null}}],"usage":null,"x_groq":{x_groq}}}\n\n')

    def completion_body(self, content: str, reasoning: str | None, finish: str, usage: SimUsage) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning is not None:
            message["reasoning"] = reasoning
        body = {
            "object": "chat.completion", "id": "", "created": self.ident.created, "model": self.ident.model,
            "system_fingerprint": self.fingerprint,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                      "total_tokens": usage.total_tokens},
        }
        return _bytes(_dumps(body))

    def headers(self) -> list[tuple[str, str]]:
        return [("x-powered-by", "huggingface-moon"), ("x-request-id", self.ident.request_id),
                ("inference-id", f"0-{uuid.uuid4()}"),
                ("access-control-expose-headers",
                 "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link")]


def request_id(flavor: str) -> str:
    """A request id in the provider's format."""
    if flavor == "groq":
        return f"req_{ulid()}"
    if flavor == "openai":
        return f"req_{secrets.token_hex(16)}"
    return f"Root=1-{secrets.token_hex(4)}-{secrets.token_hex(12)};{uuid.uuid4()}"


def make_wire(flavor: str, ident: Identity) -> Wire:
    """The wire writer of `flavor`."""
    if flavor == "groq":
        return GroqWire(ident)
    if flavor == "openai":
        return OpenAIWire(ident)
    return HuggingFaceWire(ident)

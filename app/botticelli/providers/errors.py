"""The provider errors: everything a provider, the network or a response can do wrong.

An openai-python-like tree under the one root, `botticelli.errors.BotticelliError`. Every error carries the
facts a caller branches on: the name of the profile the request went through (the `provider` attribute, as
the client is labelled), the HTTP status, the provider's own code and message, and, for rate limits, how long
to wait. `kind` and `exit_code` follow docs/ARCHITECTURE.md; `hint`
says what the user can do about it.
"""

from __future__ import annotations

import math
from typing import Any

from botticelli import format as fmt
from botticelli.errors import BotticelliError


class ProviderError(BotticelliError):
    """Base of the provider family. Never raised as such: callers catch it to handle any provider failure."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        code: str | None = None,
        error_type: str | None = None,
        retry_after_s: float | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.status = status
        self.code = code
        self.error_type = error_type
        self.retry_after_s = retry_after_s
        self.request_id = request_id
        self.rate_limit: Any = None  # the RateLimitInfo of the response that carried the error, if any
        self.retries = 0  # retries taken before giving up

    @property
    def source(self) -> str:
        return self.provider or self.area

    def summary(self) -> str:
        """What happened, in one line: status, code and the provider's message."""
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code and self.status is not None:
            parts.append(self.code)
        head = " ".join(parts)
        return f"{head}: {self.message}" if head else self.message

    def to_dict(self) -> dict[str, Any]:
        """The `error` object of docs/ARCHITECTURE.md, with the status, code and wait filled in."""
        return {**super().to_dict(), "status": self.status, "code": self.code, "retry_after_s": self.retry_after_s}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary()!r}, provider={self.provider!r})"


class AuthError(ProviderError):
    """The key is missing, malformed or rejected (401/403)."""

    kind = "auth"
    exit_code = 3
    default_hint = "check the API key for this profile"


class RateLimitError(ProviderError):
    """Too many requests or tokens for now (429, Groq 498 capacity)."""

    kind = "rate_limit"
    exit_code = 4

    @property
    def hint(self) -> str:
        if self._hint:
            return self._hint
        if self.retry_after_s is not None:
            return f"wait {fmt.wait(self.retry_after_s)} and try again"
        return "wait a little and try again"


class ModelNotFoundError(ProviderError):
    """The model does not exist, is not served to this key, or was decommissioned."""

    kind = "model_not_found"
    exit_code = 5
    default_hint = "list the available models with `botticelli models`"


class InvalidRequestError(ProviderError):
    """The request was refused as it stands: too long a context, too large a request, a bad parameter."""

    kind = "invalid_request"
    exit_code = 6
    default_hint = "change the request and try again"


class NetworkError(ProviderError):
    """Could not connect, timed out, or the connection was cut in the middle of an answer."""

    kind = "network"
    exit_code = 7
    default_hint = "check the network and the profile's base_url, then try again"


class ServerError(ProviderError):
    """The provider failed (5xx)."""

    kind = "server"
    exit_code = 8
    default_hint = "the provider is having trouble; try again shortly"


class ProtocolError(ProviderError):
    """The response could not be understood (not JSON, not SSE, a malformed chunk)."""

    kind = "protocol"
    exit_code = 9
    default_hint = "the server is not speaking the OpenAI protocol as expected; check base_url"


ERROR_KINDS: dict[str, type[ProviderError]] = {
    cls.kind: cls
    for cls in (
        AuthError,
        RateLimitError,
        ModelNotFoundError,
        InvalidRequestError,
        NetworkError,
        ServerError,
        ProtocolError,
    )
}


def error_from_dict(data: dict[str, Any], provider: str | None = None) -> ProviderError:
    """Rebuild an error from its `to_dict()` form (stored sessions, bench results).

    Stored data is untrusted (an imported file): a field of the wrong type is treated as absent, and a kind
    outside the provider family (`config`, `session`, ...) is kept as the error's kind.
    """
    kind = data.get("kind")
    cls = ERROR_KINDS.get(kind, ProviderError) if isinstance(kind, str) else ProviderError
    status, code, wait = data.get("status"), data.get("code"), data.get("retry_after_s")
    error = cls(
        str(data.get("message") or ""),
        provider=provider,
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        code=code if isinstance(code, str) else None,
        retry_after_s=float(wait) if _is_wait(wait) else None,
    )
    if cls is ProviderError and isinstance(kind, str) and kind:
        error.kind = kind
    return error


def _is_wait(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0

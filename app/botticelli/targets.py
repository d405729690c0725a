"""From a profile name and a model to a ready client: keys, key safety, pacing, the in-process simulator.

The CLI, the TUI and the bench all open clients here, so a key is resolved, checked and redacted the same way
everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botticelli.config import (
    Config,
    ConfigError,
    KeySourceError,
    Profile,
    check_key_destination,
    resolve_api_key,
)
from botticelli.safety import install_redaction

if TYPE_CHECKING:
    from botticelli.providers.client import OpenAICompatibleClient

# The provider client (and httpx under it) is imported by `open_client`, on first use: the TUI paints its
# first frame without it.


@dataclass(frozen=True, slots=True)
class Target:
    """One profile and one of its models: what a chat or a race run talks to."""

    profile: Profile
    model: str

    @property
    def label(self) -> str:
        return f"{self.profile.name}:{self.model}"


def resolve_target(config: Config, profile_name: str | None, model: str | None) -> Target:
    profile = config.profile(profile_name)
    chosen = model or profile.default_model or (profile.models[0] if profile.models else None)
    if not chosen:
        raise ConfigError(
            f"profile '{profile.name}' has no default_model",
            hint=f"pass --model or set default_model in {config.path}",
        )
    return Target(profile, chosen)


def open_client(
    profile: Profile,
    *,
    max_retries: int | None = None,
    env: Mapping[str, str] | None = None,
    pace: bool = True,
) -> OpenAICompatibleClient:
    """A client for `profile`. Raises AuthError when a needed key is missing, ConfigError when unsafe."""
    from botticelli.providers.client import OpenAICompatibleClient, RetryPolicy
    from botticelli.providers.errors import AuthError
    from botticelli.providers.ratelimit import PacingLimits, RequestPacer

    try:
        key = resolve_api_key(profile, env)
    except KeySourceError as exc:  # unset, failed or malformed before any request: an auth error, exit code 3
        raise AuthError(exc.message, provider=profile.name, code=exc.code, hint=exc.hint) from None
    if key:
        install_redaction([key])
        check_key_destination(profile, key)
    elif profile.needs_key:
        raise AuthError(
            f"no API key for profile '{profile.name}'",
            provider=profile.name,
            code="missing_api_key",
            hint=profile.missing_key_hint(),
        )
    transport = None
    if profile.simulated:
        from botticelli.simulator.settings import SimSettings
        from botticelli.simulator.transport import SimulatorTransport

        # A simulated profile serves the models it declares, besides the built-in catalogue.
        declared = tuple(dict.fromkeys(m for m in (profile.default_model, *profile.models) if m))
        transport = SimulatorTransport(SimSettings(extra_models=declared))
    pacer = None
    limits = profile.rate_limits
    if pace and limits is not None:
        pacer = RequestPacer(
            PacingLimits(limits.requests_per_minute, limits.requests_per_day, limits.tokens_per_minute)
        )
    retries = profile.max_retries if max_retries is None else max_retries
    return OpenAICompatibleClient(
        profile.base_url,
        api_key=key,
        provider=profile.name,
        headers=profile.headers,
        timeout_s=profile.timeout_s,
        connect_timeout_s=profile.connect_timeout_s,
        retry=RetryPolicy(max_retries=retries),
        total_timeout_s=profile.total_timeout_s,
        max_answer_chars=int(profile.max_answer_mb * 1024 * 1024),
        pacer=pacer,
        transport=transport,
        key_hint=_rejected_key_hint(profile) if profile.needs_key else None,
    )


def _rejected_key_hint(profile: Profile) -> str:
    if profile.api_key_env:
        return f"the key was rejected; check {' or '.join(profile.api_key_env)}"
    return "the key was rejected; check the profile's api_key"


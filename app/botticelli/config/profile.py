"""Profiles: the data that says how to reach one OpenAI-compatible endpoint, and the built-in ones.

Validation of the TOML file lives in `config.schema`, key handling in `config.keys`, loading and saving in
`config.loading`; `botticelli.config` is the public API and re-exports everything here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

FLAVORS = ("groq", "huggingface", "openai")
DEMO_PROFILE = "demo"
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A `${VAR}` reference: the whole of an `api_key` value that names an environment variable."""


def _no_headers() -> Mapping[str, str]:
    return MappingProxyType({})


def or_list(names: tuple[str, ...] | list[str]) -> str:
    """`A`, `A or B`, `A, B or C`."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class RateLimits:
    """Client-side pacing for a profile; None means no limit of that kind."""

    requests_per_minute: int | None = None
    requests_per_day: int | None = None
    tokens_per_minute: int | None = None


@dataclass(frozen=True)
class Profile:
    """One OpenAI-compatible endpoint and how to authenticate to it."""

    name: str
    base_url: str
    flavor: str = "openai"
    api_key_env: tuple[str, ...] = ()
    api_key: str | None = None
    api_key_cmd: str | None = None
    default_model: str | None = None
    models: tuple[str, ...] = ()
    timeout_s: float = 60
    connect_timeout_s: float = 10
    max_retries: int = 2
    total_timeout_s: float = 600
    max_answer_mb: float = 16
    headers: Mapping[str, str] = field(default_factory=_no_headers, hash=False)
    rate_limits: RateLimits | None = None
    prices: Mapping[str, tuple[float, float]] = field(default_factory=_no_headers, hash=False)
    """Per model id: US dollars per 1M tokens (input, output), from `[profiles.NAME.prices."MODEL"]`."""
    simulated: bool = False
    allow_insecure: bool = False
    description: str = ""
    source: str = "built-in"

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Picklable, for the load workers' processes: the read-only mappings travel as dicts."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return _unpickle_profile, ({k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in values.items()},)

    @property
    def needs_key(self) -> bool:
        """False for the simulator, ollama and custom profiles that name no key source."""
        return not self.simulated and bool(self.api_key or self.api_key_cmd or self.api_key_env)

    def missing_key_hint(self) -> str:
        """What to do when no key is found: `set GROQ_API_KEY`, `set HF_TOKEN or HUGGINGFACE_API_KEY`."""
        if self.api_key:
            ref = VAR_REF.fullmatch(self.api_key)
            return f"set {ref.group(1)}" if ref else f"check api_key for [profiles.{self.name}]"
        if self.api_key_cmd:
            return f"check that api_key_cmd for [profiles.{self.name}] prints the key"
        if self.api_key_env:
            return f"set {or_list(self.api_key_env)}"
        return "this profile needs no key"


def _unpickle_profile(values: dict[str, Any]) -> Profile:
    read_only = {"headers", "prices"}
    return Profile(**{k: MappingProxyType(v) if k in read_only and isinstance(v, dict) else v
                      for k, v in values.items()})


def _builtin(name: str, base_url: str, **fields: Any) -> Profile:
    return Profile(name=name, base_url=base_url, **fields)


BUILTIN_PROFILES: tuple[Profile, ...] = (
    _builtin(
        "groq",
        "https://api.groq.com/openai/v1",
        flavor="groq",
        api_key_env=("GROQ_API_KEY",),
        default_model="llama-3.1-8b-instant",
        models=(
            "llama-3.1-8b-instant",
            "llama-3.3-70b-versatile",
            "openai/gpt-oss-20b",
            "openai/gpt-oss-120b",
            "qwen/qwen3-32b",
            "meta-llama/llama-4-scout-17b-16e-instruct",
        ),
        description="Groq LPU inference: very fast decoding",
    ),
    _builtin(
        "huggingface",
        "https://router.huggingface.co/v1",
        flavor="huggingface",
        api_key_env=("HF_TOKEN", "HUGGINGFACE_API_KEY"),
        default_model="meta-llama/Llama-3.1-8B-Instruct",
        models=(
            "meta-llama/Llama-3.1-8B-Instruct",
            "meta-llama/Llama-3.3-70B-Instruct",
            "openai/gpt-oss-20b",
            "openai/gpt-oss-120b",
            "Qwen/Qwen3-32B",
            "deepseek-ai/DeepSeek-R1",
        ),
        description="Hugging Face inference router; pin a provider with MODEL:provider (e.g. :novita)",
    ),
    _builtin(
        "openai",
        "https://api.openai.com/v1",
        api_key_env=("OPENAI_API_KEY",),
        default_model="gpt-4o-mini",
        models=("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4.1"),
        description="OpenAI",
    ),
    _builtin(
        "together",
        "https://api.together.xyz/v1",
        api_key_env=("TOGETHER_API_KEY",),
        default_model="meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
        models=(
            "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "openai/gpt-oss-20b",
            "openai/gpt-oss-120b",
        ),
        description="Together AI",
    ),
    _builtin(
        "openrouter",
        "https://openrouter.ai/api/v1",
        api_key_env=("OPENROUTER_API_KEY",),
        default_model="meta-llama/llama-3.1-8b-instruct",
        models=("meta-llama/llama-3.1-8b-instruct", "openai/gpt-4o-mini", "openai/gpt-oss-120b"),
        description="OpenRouter: one key, many providers",
    ),
    _builtin(
        "ollama",
        "http://localhost:11434/v1",
        default_model="llama3.2",
        models=("llama3.2",),
        timeout_s=300,
        description="A local Ollama server (no key; first answers can be slow while a model loads)",
    ),
    _builtin(
        DEMO_PROFILE,
        "http://demo.botticelli.invalid/v1",
        flavor="groq",
        default_model="demo-fast",
        models=("demo-fast", "demo-slow", "demo-reasoning"),
        simulated=True,
        description=(
            "The built-in simulator, no network and no key: demo-fast is Groq-like (~800 tok/s), "
            "demo-slow is HF-like (~60 tok/s), demo-reasoning thinks before answering"
        ),
    ),
)


def builtin_profiles() -> dict[str, Profile]:
    """The built-in profiles by name, in display order."""
    return {p.name: p for p in BUILTIN_PROFILES}

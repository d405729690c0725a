"""Quota safety: remember each profile's last rate-limit headers, and say when a sweep would go past them.

The headers a sweep saw are kept in `<data>/rate_limits.json` (`{profile: {seen_at, limit_requests, ...}}`;
numbers only, never a key). Before a sweep, `over_limits` compares what it will send with those and with the
profile's own `rate_limits` table; `botticelli load` asks for confirmation (or `--yes`) when a line comes back.
Groq's `x-ratelimit-*-requests` count requests per day and `*-tokens` tokens per minute.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botticelli.paths import data_dir
from botticelli.providers.types import RateLimitInfo

if TYPE_CHECKING:
    from botticelli.config.profile import Profile
    from botticelli.load.runner import LoadPlan

MAX_FILE_BYTES = 1 << 20
_FIELDS = ("limit_requests", "limit_tokens", "remaining_requests", "remaining_tokens", "reset_requests_s",
           "reset_tokens_s")


def memory_file() -> Path:
    return data_dir() / "rate_limits.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(profile: str, info: RateLimitInfo, path: Path | None = None, now: float | None = None) -> bool:
    """Keep `info` as `profile`'s last known limits; False (and nothing raised) when the file can't be written."""
    from botticelli.bench.export import write_atomic

    where = path or memory_file()
    data = _read(where)
    entry: dict[str, Any] = {name: getattr(info, name) for name in _FIELDS}
    entry["seen_at"] = time.time() if now is None else now
    data[profile] = entry
    try:
        write_atomic(where, json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SeenLimits:
    """A profile's last rate-limit headers, with when they were seen (`time.time()`)."""

    seen_at: float
    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None

    def requests_left(self, now: float) -> int | None:
        """Requests left now: the remaining count seen, or the full limit once its reset time has passed."""
        if self.remaining_requests is None:
            return self.limit_requests
        if self.reset_requests_s is not None and self.limit_requests is not None and \
                now - self.seen_at >= self.reset_requests_s:
            return self.limit_requests
        return self.remaining_requests


def _finite(value: Any, integer: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return int(value) if integer else float(value)


def recall(profile: str, path: Path | None = None) -> SeenLimits | None:
    """`profile`'s last known limits, or None (nothing kept, or a damaged entry)."""
    entry = _read(path or memory_file()).get(profile)
    if not isinstance(entry, dict):
        return None
    seen = _finite(entry.get("seen_at"), integer=False)
    if seen is None:
        return None
    values = {name: _finite(entry.get(name), integer=not name.endswith("_s")) for name in _FIELDS}
    return SeenLimits(seen, **values)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


def over_limits(plan: LoadPlan, profile: Profile, seen: SeenLimits | None, now: float | None = None) -> list[str]:
    """Why the sweep would exceed `profile`'s last known limits (one line each); empty when it fits."""
    now = time.time() if now is None else now
    targets = sum(1 for t in plan.targets if t.profile.name == profile.name)
    if not targets:
        return []
    total = plan.planned_total()
    if total is None:
        requests, how = plan.max_requests, f"up to {plan.max_requests:,} requests (--max-requests)"
    else:
        requests = min(total // len(plan.targets) * targets, plan.max_requests)
        how = f"{requests:,} requests"
    per_request = plan.prompt_tokens.mean + plan.answer_tokens.mean
    name = profile.name
    lines: list[str] = []
    configured = profile.rate_limits
    if seen is not None:
        left = seen.requests_left(now)
        if left is not None and requests > left:
            lines.append(f"{name}: the sweep sends {how}; the rate-limit headers {_ago(now - seen.seen_at)} left "
                         f"{left:,} of {seen.limit_requests or left:,} requests (Groq: per day)")
    if configured is not None and configured.requests_per_day and requests > configured.requests_per_day:
        lines.append(f"{name}: the sweep sends {how}, over the profile's requests_per_day "
                     f"{configured.requests_per_day:,}")
    if plan.mode == "rate":
        per_minute = max(plan.levels) * 60
        tokens_per_minute = per_minute * per_request
        if configured is not None and configured.requests_per_minute and per_minute > configured.requests_per_minute:
            lines.append(f"{name}: {max(plan.levels):g} req/s is {per_minute:,.0f}/min, over the profile's "
                         f"requests_per_minute {configured.requests_per_minute:,}")
        token_limits = [("the rate-limit headers' tokens per minute", seen.limit_tokens if seen else None),
                        ("the profile's tokens_per_minute", configured.tokens_per_minute if configured else None)]
        for what, limit in token_limits:
            if limit and tokens_per_minute > limit:
                lines.append(f"{name}: {max(plan.levels):g} req/s × ~{per_request:,.0f} tokens is "
                             f"{tokens_per_minute:,.0f} tokens/min, over {what} ({limit:,})")
    return lines

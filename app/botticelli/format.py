"""One way to write figures, durations, rates, counts, waits and error one-liners, everywhere.

The stats bar, the race columns and summary, `ask`, `bench` and `sessions show` all format through here, so
the same answer reads the same on every surface: `TTFT 210ms · 840 tok/s · 128 tok · total 1.52s`.

- `seconds`: a measured duration, to the millisecond below a second (`210ms`, `1.52s`, `2m05s`, `1h05m`);
- `wait`: a time to wait or until a reset, in human units (`0.5 s`, `1 min 30 s`, `24 h`, `3 d`);
- `tps`, `count`, `tokens`: speeds and counts with thousands separators; `~` marks an estimate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: every layer may format, so this module imports none of them
    from botticelli.providers.types import Price, RateLimitInfo
    from botticelli.stats import SpeedFigures

NONE = "—"
"""What an unknown figure shows."""

CUT_REASONS = {"length": "cut (max tokens or context full)",
               "content_filter": "cut by the provider's content filter"}
"""finish_reason values that mean the answer is incomplete, and how they are said."""


def _finite(value: float | None) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def seconds(value: float | None) -> str:
    """A measured duration: `210ms`, `1.52s`, `2m05s`, `1h05m`, or `—`."""
    value = _finite(value)
    if value is None:
        return NONE
    value = max(0.0, value)
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 60:
        return f"{value:.2f}s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def wait(value: float | None) -> str:
    """A wait in the units a person uses: `0.5 s`, `45 s`, `1 min 30 s`, `12 min`, `1 h 30 min`, `24 h`, `3 d`."""
    if value is None or isinstance(value, bool):
        return NONE
    if not math.isfinite(value):
        return "a very long time"
    s = max(0.0, float(value))
    if round(s, 1) < 10:
        return f"{round(s, 1):g} s"
    if round(s) < 60:
        return f"{round(s)} s"
    if round(s) < 600:
        minutes, rest = divmod(round(s), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 600:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    hours = round(s / 3600)
    return f"{hours} h" if hours < 48 else f"{round(s / 86400)} d"


def tps(value: float | None) -> str:
    """`840 tok/s`, `1,010 tok/s`, `12.5 tok/s`, or `—`."""
    value = _finite(value)
    if value is None:
        return NONE
    return f"{value:,.0f} tok/s" if value >= 100 else f"{value:.1f} tok/s"


def rate(value: float | None) -> str:
    """A speed without its unit, for tables whose header names it: `840`, `1,010`, `12.5`, `—`."""
    return tps(value).removesuffix(" tok/s")


def count(value: int | None) -> str:
    """`14,399`, or `—`."""
    return NONE if value is None else f"{value:,}"


def tokens(figures: SpeedFigures) -> str:
    """`128 tok` when exact, `~128 tok` when estimated, `— tok` when unknown."""
    return f"{figures.tokens_label()} tok"


def figures_parts(figures: SpeedFigures, *, provider: bool = True, total: bool = True) -> list[str]:
    """The pieces of `summary_line`, in order; `provider=False` leaves out the server's own figures."""
    if figures.ttft_s is None:  # nothing arrived (yet): only the wait
        return [f"total {seconds(figures.total_s)}"] if total and figures.total_s is not None else []
    approx = "" if figures.tokens_exact else "~"
    parts = [f"TTFT {seconds(figures.ttft_s)}"]
    if figures.decode_tps is not None:
        parts.append(f"{approx}{tps(figures.decode_tps)}")
    parts.append(tokens(figures))
    if provider and figures.server_tps is not None:
        parts.append(f"server {tps(figures.server_tps)}")
    if provider and figures.queue_s is not None:
        parts.append(f"queue {seconds(figures.queue_s)}")
    if total and figures.total_s is not None:
        parts.append(f"total {seconds(figures.total_s)}")
    return parts


def short_line(figures: SpeedFigures) -> str:
    """`TTFT 210ms · 840 tok/s · 256 tok`: the figures of one race run (estimates carry `~`)."""
    approx = "" if figures.tokens_exact else "~"
    return f"TTFT {seconds(figures.ttft_s)} · {approx}{rate(figures.decode_tps)} tok/s · {tokens(figures)}"


def summary_line(figures: SpeedFigures | None, finish_reason: str | None = None) -> str:
    """`TTFT 210ms · 840 tok/s · 128 tok · server 1,010 tok/s · queue 17ms · total 1.52s`, then a cut note."""
    parts = figures_parts(figures) if figures is not None else []
    note = cut_note(finish_reason)
    if note:
        parts.append(note)
    return " · ".join(parts)


def cut_note(finish_reason: str | None) -> str | None:
    """How an incomplete answer is marked (`finish_reason` "length" or "content_filter"), else None."""
    return CUT_REASONS.get(finish_reason or "")


def retrying(wait_s: float, attempt: int, of: int) -> str:
    """`retrying in 3 s (attempt 2 of 3)`."""
    return f"retrying in {wait(wait_s)} (attempt {attempt} of {of})"


def rate_limit_parts(info: RateLimitInfo | None) -> list[str]:
    """`14,399 requests left, resets in 6 s`, `249,811 tokens left, resets in 1 s` (those the headers gave)."""
    if info is None or info.is_empty():
        return []
    parts = []
    for remaining, reset, unit in (
        (info.remaining_requests, info.reset_requests_s, "requests"),
        (info.remaining_tokens, info.reset_tokens_s, "tokens"),
    ):
        if remaining is not None:
            text = f"{remaining:,} {unit if remaining != 1 else unit[:-1]} left"
            if _finite(reset) is not None:
                text += f", resets in {wait(reset)}"
            parts.append(text)
    return parts


def rate_limit_text(info: RateLimitInfo | None) -> str | None:
    """Every rate-limit counter the headers gave, joined; None without any."""
    parts = rate_limit_parts(info)
    return " · ".join(parts) if parts else None


def scarcest_limit(info: RateLimitInfo | None) -> str | None:
    """The one counter closest to running out (by the share left of its limit; requests when unknown)."""
    parts = rate_limit_parts(info)
    if len(parts) < 2 or info is None:
        return parts[0] if parts else None
    shares = []
    for remaining, limit in ((info.remaining_requests, info.limit_requests),
                             (info.remaining_tokens, info.limit_tokens)):
        shares.append(remaining / limit if remaining is not None and limit else 1.0)
    return parts[1] if shares[1] < shares[0] else parts[0]


def error_text(error: Any) -> str:
    """An error as shown where its answer would be: what happened, then what to do (and how long to wait).

    `error` is a `ProviderError` (or anything with `summary()`, `hint` and `retry_after_s`)."""
    from botticelli.safety import strip_escapes

    lines = [strip_escapes(error.summary())]
    hint = strip_escapes(error.hint or "")
    retry_after = _finite(getattr(error, "retry_after_s", None))
    if retry_after is not None and wait(retry_after) not in hint:
        hint = f"{hint} (retry in {wait(retry_after)})" if hint else f"retry in {wait(retry_after)}"
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def error_dict_line(error: dict[str, Any] | None) -> str:
    """A stored error object as one line, escapes stripped: `rate_limit: HTTP 429 rate_limit_exceeded: Slow down`."""
    from botticelli.safety import strip_escapes

    if not error:
        return "unknown error"
    head = str(error.get("kind") or "error")
    status, code = error.get("status"), error.get("code")
    detail = [f"HTTP {status}"] if status is not None else []
    if code and str(code) != str(status):
        detail.append(str(code))
    if detail:
        head += ": " + " ".join(detail)
    message = " ".join(strip_escapes(str(error.get("message") or "")).split())
    return f"{head}: {message}" if message else head


def usd(value: float) -> str:
    """A price: `$0.15`, `$0.075`, `$3.00`: cents, or the digits a smaller price needs (up to four decimals)."""
    digits = f"{value:.4f}".rstrip("0")
    return "$" + (digits if len(digits.partition(".")[2]) >= 2 else f"{value:.2f}")


def price_pair(price: Price, *, compact: bool = False) -> str:
    """US$ per 1M tokens in/out: `$0.15/$0.60` (`compact`: `$0.15/0.60`)."""
    out = usd(price.output_per_m)
    return f"{usd(price.input_per_m)}/{out[1:] if compact else out}"


def context_size(tokens: int | None) -> str:
    """A context window, compact: `131k`, `8k`, `1M`, `1.5M`; `` when unknown."""
    if not tokens or tokens < 0:
        return ""
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.1f}".removesuffix(".0") + "M"
    if tokens >= 1000:
        return f"{round(tokens / 1000)}k"
    return str(tokens)

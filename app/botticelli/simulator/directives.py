"""Per-request directives: `x-sim-*` headers and `[[...]]` tokens in the last user message.

A directive in the message wins over the same header. Unknown `[[words]]` are left in the text as they are;
a known directive with a bad value raises `DirectiveError` (the engine answers 400).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

FAULTS: dict[str, frozenset[str]] = {
    "401": frozenset(),
    "403": frozenset(),
    "404": frozenset(),
    "decommissioned": frozenset(),
    "context_length": frozenset(),
    "413": frozenset(),
    "422": frozenset(),
    "429": frozenset({"retry_after", "retry_after_ms"}),
    "498": frozenset(),
    "500": frozenset(),
    "502": frozenset(),
    "503": frozenset(),
    "stall_first": frozenset({"seconds"}),
    "stall_mid": frozenset({"after", "seconds"}),
    "cut": frozenset({"after"}),
    "malformed": frozenset({"after"}),
    "error_event": frozenset({"after"}),
    "x_groq_error": frozenset({"after"}),
    "no_done": frozenset(),
    "empty_choices": frozenset({"after"}),
    "big_chunk": frozenset({"after", "size"}),
    "bad_utf8": frozenset({"after"}),
    "keepalive": frozenset(),
    "crlf": frozenset(),
}
STATUS_FAULTS: frozenset[str] = frozenset(
    {"401", "403", "404", "decommissioned", "context_length", "413", "422", "429", "498", "500", "502", "503"}
)

_DIRECTIVE = re.compile(r"\[\[(tps|ttft|tokens|reasoning|echo|fault)(?::([^\[\]]*))?\]\]")


class DirectiveError(ValueError):
    """A simulator directive that cannot be understood."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault: its name, its `key=value` parameters and the spec string its `times` counter is kept under."""

    name: str
    params: Mapping[str, str]
    key: str
    times: int | None = None

    def number(self, name: str, default: float) -> float:
        """A numeric parameter (seconds, ...), or `default`."""
        if name not in self.params:
            return default
        return _number(self.params[name], f"fault {self.name} {name}")

    def count(self, name: str, default: int) -> int:
        """A non-negative integer parameter (`after`, `size`, ...), or `default`."""
        if name not in self.params:
            return default
        return _count(self.params[name], f"fault {self.name} {name}")


@dataclass(slots=True)
class Directives:
    """Everything a request asked of the simulator."""

    tps: float | None = None
    ttft_s: float | None = None
    tokens: int | None = None
    reasoning: int | None = None
    echo: bool = False
    faults: list[FaultSpec] = field(default_factory=list)

    def fault(self, name: str) -> FaultSpec | None:
        """The first fault named `name`, if any."""
        return next((f for f in self.faults if f.name == name), None)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DirectiveError(f"{what}: {text!r} is not a number") from None
    if math.isnan(value) or value < 0:
        raise DirectiveError(f"{what}: {text!r} must be >= 0")
    return value


def _count(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise DirectiveError(f"{what}: {text!r} is not a whole number >= 0")
    return int(text)


def parse_fault(spec: str) -> FaultSpec:
    """Parse `NAME key=value ...` (e.g. `429 times=1 retry_after=0`)."""
    words = spec.split()
    if not words:
        raise DirectiveError("empty fault")
    name = words[0].lower()
    if name not in FAULTS:
        raise DirectiveError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
    params: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not value:
            raise DirectiveError(f"fault {name}: expected key=value, got {word!r}")
        if key != "times" and key not in FAULTS[name]:
            allowed = ", ".join(sorted(FAULTS[name] | {"times"}))
            raise DirectiveError(f"fault {name}: unknown key {key!r} (allowed: {allowed})")
        params[key] = value
    times = _count(params.pop("times"), f"fault {name} times") if "times" in params else None
    return FaultSpec(name, params, " ".join([name, *words[1:]]), times)


def _apply(result: Directives, name: str, value: str | None) -> None:
    if name == "echo":
        result.echo = value is None or value.strip().lower() not in ("0", "false", "no", "off")
    elif value is None or not value.strip():
        raise DirectiveError(f"directive {name} needs a value, e.g. [[{name}:1]]")
    elif name == "tps":
        result.tps = math.inf if value.strip().lower() in ("inf", "max") else _number(value, "tps")
    elif name == "ttft":
        result.ttft_s = _number(value, "ttft")
        if math.isinf(result.ttft_s):
            raise DirectiveError("ttft must be finite")
    elif name == "tokens":
        result.tokens = _count(value, "tokens")
    elif name == "reasoning":
        result.reasoning = _count(value, "reasoning")
    elif name == "fault":
        result.faults.extend(parse_fault(part) for part in value.split(";") if part.strip())


def strip_directives(text: str) -> tuple[str, list[tuple[str, str | None]]]:
    """Remove `[[...]]` directives from `text`; return the text and the `(name, value)` pairs found.

    Spaces after a directive that starts the text or follows a blank go with it (and a newline too when the
    directive leads the text), spaces before a directive that ends the text go as well: `"[[echo]] hi"` and
    `"hi [[echo]]"` both leave `"hi"`, `"a [[tps:9]] b"` leaves `"a b"`.
    """
    found: list[tuple[str, str | None]] = []
    kept = ""
    pos = 0
    for match in _DIRECTIVE.finditer(text):
        found.append((match.group(1), match.group(2)))
        kept += text[pos : match.start()]
        end = match.end()
        if not kept or kept[-1] in " \t\n":
            while end < len(text) and text[end] in " \t":
                end += 1
            if not kept and text[end : end + 1] == "\n":
                end += 1
        if end == len(text):
            kept = kept.rstrip(" \t")
        pos = end
    return kept + text[pos:], found


def parse_directives(headers: Mapping[str, str], message: str) -> tuple[Directives, str]:
    """Directives from `x-sim-*` headers, then from `message` (which wins); also the cleaned message."""
    result = Directives()
    for name in ("tps", "ttft", "tokens", "reasoning", "echo", "fault"):
        value = headers.get(f"x-sim-{name}")
        if value is not None:
            _apply(result, name, value)
    cleaned, found = strip_directives(message)
    message_faults: list[FaultSpec] = []
    for name, value in found:
        if name == "fault":
            holder = Directives()
            _apply(holder, name, value)
            message_faults.extend(holder.faults)
        else:
            _apply(result, name, value)
    result.faults.extend(message_faults)
    return result, cleaned

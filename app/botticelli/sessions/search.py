"""Turning what a user types into a safe full-text query, and cutting snippets around the matches.

The index uses FTS5's trigram tokenizer: every term of three or more characters is matched as a substring,
case-insensitively, in any script (inside code, Russian, German, CJK). User input never reaches FTS5 syntax
unquoted, so `foo-bar`, `"`, `*` or `AND` are plain text. Terms shorter than three characters, which a
trigram index cannot look up, are checked with a case-folded substring test instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRIGRAM = 3
SNIPPET_WIDTH = 100
_TERM = re.compile(r'"([^"]+)"|(\S+)')


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """Terms a match must contain (all of them): `indexed` ones go to FTS5, `short` ones to a substring test."""

    terms: tuple[str, ...]

    @property
    def indexed(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) >= TRIGRAM)

    @property
    def short(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) < TRIGRAM)

    def fts_expression(self) -> str | None:
        """An FTS5 MATCH expression with every term quoted, or None when no term is long enough."""
        if not self.indexed:
            return None
        return " AND ".join('"' + term.replace('"', '""') + '"' for term in self.indexed)

    def folded_short(self) -> tuple[str, ...]:
        return tuple(term.casefold() for term in self.short)


def parse_query(text: str) -> ParsedQuery:
    """Split on whitespace, keeping `"quoted phrases"` together; duplicates dropped, order kept."""
    terms: list[str] = []
    for match in _TERM.finditer(text or ""):
        term = (match.group(1) or match.group(2) or "").strip()
        if term and term not in terms:
            terms.append(term)
    return ParsedQuery(tuple(terms))


def snippet(text: str, terms: tuple[str, ...], width: int = SNIPPET_WIDTH) -> tuple[str, list[tuple[int, int]]]:
    """The text around the first match, whitespace collapsed, and the (start, end) spans of the matches in it."""
    flat = " ".join(text.split())
    pattern = _pattern(terms)
    found = pattern.search(flat) if pattern else None
    if found is None:
        return _clip(flat, 0, width), []
    start = max(0, found.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, end - width)
    prefix = "…" if start > 0 else ""
    spans = [
        (m.start() - start + len(prefix), m.end() - start + len(prefix)) for m in pattern.finditer(flat, start, end)
    ]
    return prefix + flat[start:end] + ("…" if end < len(flat) else ""), spans


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)  # longest first, so "foobar" wins over "foo"
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def _clip(text: str, start: int, width: int) -> str:
    return text[start : start + width] + ("…" if len(text) > start + width else "")
